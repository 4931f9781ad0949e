import type { SSMClient } from '@aws-sdk/client-ssm';
import { SsmParameters } from '../shared/ssm-parameters';

/** Where the configuration JSON comes from. */
export interface ConfigSource {
  /** The current configuration text; may be cached. */
  text(): Promise<string>;
  /** The text {@link text} would give, when it is at hand without waiting (held and fresh); else `undefined`. */
  held?(): string | undefined;
}

/** Configuration given inline (`AUTHZ_CONFIG`). */
export class InlineConfigSource implements ConfigSource {
  constructor(private readonly value: string) {}
  async text(): Promise<string> {
    return this.value;
  }
  held(): string {
    return this.value;
  }
}

/** Options of {@link SsmConfigSource}. */
export interface SsmConfigSourceOptions {
  /** Default: a client made on first use, so that inline configurations never load the AWS SDK. */
  client?: SSMClient;
  name: string;
  /** Re-read the parameter after this many milliseconds. Default 300000. */
  ttlMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** The reader to share (its client, its cache); default one of its own with `client`, `ttlMs` and `now`. */
  parameters?: SsmParameters;
}

/**
 * Configuration held in an SSM parameter (`AUTHZ_CONFIG_PARAMETER`): read once per cold
 * start, re-read after the TTL, and the last good copy kept when SSM fails ({@link SsmParameters}).
 */
export class SsmConfigSource implements ConfigSource {
  private readonly parameters: SsmParameters;

  constructor(private readonly options: SsmConfigSourceOptions) {
    this.parameters = options.parameters ?? new SsmParameters({ client: options.client, maxAgeMs: options.ttlMs, now: options.now });
  }

  text(): Promise<string> {
    return this.parameters.get(this.options.name);
  }
  held(): string | undefined {
    return this.parameters.held(this.options.name);
  }
}

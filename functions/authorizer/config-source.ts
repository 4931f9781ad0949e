import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../shared/errors';

/** Where the configuration JSON comes from. */
export interface ConfigSource {
  /** The current configuration text; may be cached. */
  text(): Promise<string>;
}

/** Configuration given inline (`AUTHZ_CONFIG`). */
export class InlineConfigSource implements ConfigSource {
  constructor(private readonly value: string) {}
  async text(): Promise<string> {
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
}

/**
 * Configuration held in an SSM parameter (`AUTHZ_CONFIG_PARAMETER`): read once per cold
 * start, re-read after the TTL, and the last good copy kept when SSM fails.
 */
export class SsmConfigSource implements ConfigSource {
  private cached: { value: string; at: number } | undefined;
  private inflight: Promise<string> | undefined;
  private client: SSMClient | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SsmConfigSourceOptions) {
    this.ttlMs = options.ttlMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  async text(): Promise<string> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.value;
    this.inflight ??= this.read().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async read(): Promise<string> {
    try {
      const sdk = await import('@aws-sdk/client-ssm');
      this.client ??= this.options.client ?? new sdk.SSMClient({});
      const out = await this.client.send(new sdk.GetParameterCommand({ Name: this.options.name, WithDecryption: true }));
      const value = out.Parameter?.Value;
      if (value === undefined) throw new ConfigError('AUTHZ_CONFIG_PARAMETER', `parameter ${this.options.name} has no value`);
      this.cached = { value, at: this.now() };
      return value;
    } catch (error) {
      if (this.cached) {
        // Keep serving the last good configuration; try again after another TTL.
        this.cached = { value: this.cached.value, at: this.now() };
        return this.cached.value;
      }
      throw error;
    }
  }
}

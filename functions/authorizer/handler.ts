import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { ConfigError } from '../shared/errors';
import { Reason } from '../shared/reasons';
import { Authorizer } from './authorize';
import { type AuthorizerConfig, parseConfigJson } from './config';
import { type ConfigSource, InlineConfigSource, SsmConfigSource } from './config-source';
import { httpsIntrospection, type IntrospectionCall, Introspector, type SecretReader } from './introspection';
import { HttpsJwksFetcher, type JwksFetcher, KeyStore } from './key-store';
import { powertoolsTelemetry, type Telemetry } from './telemetry';

/** The events the handler answers: REST API TOKEN and REQUEST authorizer events. */
export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent;

/** What {@link createHandler} can be given instead of its defaults. */
export interface HandlerDependencies {
  /** Environment to read `AUTHZ_CONFIG` / `AUTHZ_CONFIG_PARAMETER` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the configuration comes from; overrides the environment. */
  configSource?: ConfigSource;
  /** The JWKS fetcher. Default HTTPS with the configured deadline and body cap. */
  fetcher?: JwksFetcher;
  /** Trusted CA certificates (PEM) for the default fetcher, beside the system ones. */
  ca?: string | string[];
  /** The clock, in milliseconds. */
  now?: () => number;
  /** Logs and metrics. Default Powertools. */
  telemetry?: Telemetry;
  /** The introspection call. Default HTTPS (with `ca`). */
  introspection?: IntrospectionCall;
  /** Reads secrets by SSM parameter name. Default SSM. */
  secrets?: SecretReader;
}

function configSourceFrom(env: Record<string, string | undefined>): ConfigSource {
  if (env.AUTHZ_CONFIG !== undefined && env.AUTHZ_CONFIG.length > 0) return new InlineConfigSource(env.AUTHZ_CONFIG);
  const name = env.AUTHZ_CONFIG_PARAMETER;
  if (name === undefined || name.length === 0) {
    return { text: () => Promise.reject(new ConfigError('AUTHZ_CONFIG', 'neither AUTHZ_CONFIG nor AUTHZ_CONFIG_PARAMETER is set')) };
  }
  const ttlSeconds = Number(env.AUTHZ_CONFIG_TTL_SECONDS ?? '300');
  return new SsmConfigSource({ name, ttlMs: (Number.isFinite(ttlSeconds) ? ttlSeconds : 300) * 1000 });
}

function authorizationOf(event: AuthorizerEvent): string | undefined {
  if (event.type === 'TOKEN') return event.authorizationToken;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * Build an authorizer handler. The configuration is read and the issuers' key sets are
 * fetched as soon as the handler is created (during the cold start); a failure there is
 * kept for the first invocation to report, never thrown at import.
 */
export function createHandler(deps: HandlerDependencies = {}): (event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  const env = deps.env ?? process.env;
  const source = deps.configSource ?? configSourceFrom(env);
  const telemetry = deps.telemetry ?? powertoolsTelemetry();
  let keys: KeyStore | undefined;
  const introspector = new Introspector({ call: deps.introspection ?? httpsIntrospection(deps.ca), secrets: deps.secrets, now: deps.now });
  let current: { text: string; authorizer: Authorizer } | undefined;

  const keyStoreFor = (config: AuthorizerConfig): KeyStore => {
    keys ??= new KeyStore({
      fetcher: deps.fetcher ?? new HttpsJwksFetcher({ timeoutMs: config.jwks.timeoutMs, maxBytes: config.jwks.maxBytes, ca: deps.ca }),
      minRsaBits: config.minRsaBits,
      minRefetchIntervalMs: config.jwks.minRefetchIntervalSeconds * 1000,
      maxAgeMs: config.jwks.maxAgeSeconds * 1000,
      now: deps.now,
      onFetch: (event) => telemetry.jwksFetch(event),
    });
    return keys;
  };

  const authorizer = async (): Promise<Authorizer> => {
    const text = await source.text();
    if (current?.text === text) return current.authorizer;
    const { config, warnings } = parseConfigJson(text);
    for (const warning of warnings) telemetry.warn('config_warning', { warning });
    const store = keyStoreFor(config);
    for (const issuer of config.issuers) if (!store.hasKeys(issuer.jwksUri)) void store.prefetch(issuer.jwksUri);
    current = { text, authorizer: new Authorizer({ config, keys: store, introspector, now: deps.now }) };
    return current.authorizer;
  };

  // Cold start: load the configuration and start the key fetches now, not on the first request.
  authorizer().catch(() => undefined);

  return async (event) => {
    const started = performance.now();
    let instance: Authorizer;
    try {
      instance = await authorizer();
    } catch (error) {
      telemetry.decision({
        reason: Reason.ConfigUnavailable,
        effect: 'error',
        detail: (error as Error).message,
        latencyMs: performance.now() - started,
      });
      throw new Error('Authorizer configuration unavailable');
    }
    const decision = await instance.decide(authorizationOf(event), event.methodArn);
    telemetry.decision(decision.record);
    switch (decision.outcome) {
      case 'policy':
        return decision.result;
      case 'unauthorized':
        // API Gateway turns exactly this message into a 401.
        throw new Error('Unauthorized');
      case 'error':
        throw new Error(`Authorizer failure: ${decision.record.reason}`);
    }
  };
}

/** The Lambda entry point: configuration from the environment, Powertools telemetry. */
export const handler = createHandler();

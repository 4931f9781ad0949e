import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { ConfigError, messageOf } from '../shared/errors';
import { Reason } from '../shared/reasons';
import { SsmParameters } from '../shared/ssm-parameters';
import { Authorizer, type Decision, type DecisionTarget } from './authorize';
import { type AuthorizerConfig, parseConfigJson } from './config';
import { type ConfigSource, InlineConfigSource, SsmConfigSource } from './config-source';
import { HttpsJsonFetcher, JwksUriResolver } from './discovery';
import { httpsIntrospection, type IntrospectionCall, Introspector, type SecretReader, ssmSecrets } from './introspection';
import { HttpsJwksFetcher, type JwksFetcher, KeyStore, type KeyStoreSettings } from './key-store';
import type { RequestBinding } from './sender-constraint';
import { powertoolsTelemetry, type Telemetry, withLambdaContext } from './telemetry';

/** The events the handler answers: REST TOKEN and REQUEST events, and HTTP API (payload 2.0) events. */
export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

/** What the handler answers: an IAM policy (REST), or a simple response (HTTP API payload 2.0). */
export type AuthorizerResponse =
  | APIGatewayAuthorizerResult
  | APIGatewaySimpleAuthorizerWithContextResult<Record<string, string | number | boolean>>;

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

function configSourceFrom(env: Record<string, string | undefined>, parameters: SsmParameters): ConfigSource {
  if (env.AUTHZ_CONFIG !== undefined && env.AUTHZ_CONFIG.length > 0) return new InlineConfigSource(env.AUTHZ_CONFIG);
  const name = env.AUTHZ_CONFIG_PARAMETER;
  if (name === undefined || name.length === 0) {
    return { text: () => Promise.reject(new ConfigError('AUTHZ_CONFIG', 'neither AUTHZ_CONFIG nor AUTHZ_CONFIG_PARAMETER is set')) };
  }
  return new SsmConfigSource({ name, parameters });
}

function header(headers: Record<string, string | undefined> | null | undefined, wanted: string): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() === wanted && typeof value === 'string') return value;
  return undefined;
}

function isHttpApi(event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 {
  return (event as { version?: string }).version === '2.0';
}

/** The request as the decision sees it: the Authorization value, what is asked, and (REQUEST events) the binding details. */
function requestOf(event: AuthorizerEvent): { authorization: string | undefined; target: DecisionTarget; binding?: RequestBinding } {
  if (isHttpApi(event)) {
    // HTTP API: decide for the route API Gateway matched (`routeKey`), never re-routed from
    // `rawPath`, which starts with the stage on named stages and differs under custom domains.
    const context = event.requestContext;
    const url = `https://${context.domainName}${event.rawPath}`;
    return {
      authorization: header(event.headers, 'authorization'),
      target: { routeArn: event.routeArn, routeKey: event.routeKey },
      binding: {
        method: context.http.method,
        url,
        dpop: header(event.headers, 'dpop'),
        clientCertPem: context.authentication?.clientCert?.clientCertPem,
      },
    };
  }
  if (event.type === 'TOKEN') return { authorization: event.authorizationToken, target: event.methodArn };
  const context = event.requestContext;
  const host = context?.domainName ?? header(event.headers, 'host');
  return {
    authorization: header(event.headers, 'authorization'),
    target: event.methodArn,
    binding:
      context && host
        ? {
            method: event.httpMethod,
            url: `https://${host}${context.path ?? event.path}`,
            dpop: header(event.headers, 'dpop'),
            clientCertPem: context.identity?.clientCert?.clientCertPem,
          }
        : undefined,
  };
}

/**
 * Build an authorizer handler. The configuration is read and the issuers' key sets are
 * fetched as soon as the handler is created (during the cold start); a failure there is
 * kept for the first invocation to report, never thrown at import.
 */
export function createHandler(deps: HandlerDependencies = {}): (event: AuthorizerEvent) => Promise<AuthorizerResponse> {
  const env = deps.env ?? process.env;
  // One SSM reader (one client) for the configuration parameter and the introspection secrets.
  const ttlSeconds = Number(env.AUTHZ_CONFIG_TTL_SECONDS ?? '300');
  const parameters = new SsmParameters({ maxAgeMs: (Number.isFinite(ttlSeconds) ? ttlSeconds : 300) * 1000 });
  const source = deps.configSource ?? configSourceFrom(env, parameters);
  // Built on first use, so that the cold start's configuration read and key fetch are under
  // way while Powertools initializes.
  let telemetryInstance = deps.telemetry;
  const telemetry = (): Telemetry => {
    telemetryInstance ??= powertoolsTelemetry();
    return telemetryInstance;
  };
  let keys: KeyStore | undefined;
  let discovery: JwksUriResolver | undefined;
  const introspector = new Introspector({
    call: deps.introspection ?? httpsIntrospection(deps.ca),
    secrets: deps.secrets ?? ssmSecrets(parameters),
    now: deps.now,
  });
  let current: { text: string; authorizer: Authorizer } | undefined;

  // One key store for the instance's life (held keys survive a reload), configured anew
  // from every reloaded configuration: minRsaBits and jwks.* take effect on a warm instance.
  const keyStoreFor = (config: AuthorizerConfig): KeyStore => {
    const settings: KeyStoreSettings = {
      fetcher: deps.fetcher ?? new HttpsJwksFetcher({ timeoutMs: config.jwks.timeoutMs, maxBytes: config.jwks.maxBytes, ca: deps.ca }),
      minRsaBits: config.minRsaBits,
      minRefetchIntervalMs: config.jwks.minRefetchIntervalSeconds * 1000,
      maxAgeMs: config.jwks.maxAgeSeconds * 1000,
    };
    if (keys === undefined) keys = new KeyStore({ ...settings, now: deps.now, onFetch: (event) => telemetry().jwksFetch(event) });
    else keys.configure(settings);
    return keys;
  };

  const authorizer = async (): Promise<Authorizer> => {
    const text = await source.text();
    if (current?.text === text) return current.authorizer;
    const { config, warnings } = parseConfigJson(text);
    for (const warning of warnings) telemetry().warn('config_warning', { warning });
    const store = keyStoreFor(config);
    discovery ??= new JwksUriResolver({
      fetcher: new HttpsJsonFetcher({ timeoutMs: config.jwks.timeoutMs, maxBytes: config.jwks.maxBytes, ca: deps.ca }),
      maxAgeMs: config.jwks.maxAgeSeconds * 1000,
      now: deps.now,
    });
    const resolver = discovery;
    for (const issuer of config.issuers) {
      if (issuer.jwksUris !== undefined) {
        if (!store.hasKeys(issuer.jwksUris)) void store.prefetch(issuer.jwksUris);
      } else {
        // Discover the key set URL, then fetch the keys, both during the cold start.
        void resolver
          .jwksUri(issuer.issuer)
          .then((uri) => {
            const sources = [uri, ...issuer.jwksFallbackUris];
            return store.hasKeys(sources) ? undefined : store.prefetch(sources);
          })
          .catch(() => undefined);
      }
    }
    current = { text, authorizer: new Authorizer({ config, keys: store, introspector, now: deps.now, discovery: resolver }) };
    return current.authorizer;
  };

  // Cold start: load the configuration and start the key fetches now, not on the first
  // request; then initialize the telemetry while they run.
  authorizer().catch(() => undefined);
  telemetry();

  return async (event) => {
    const decision = await decideEvent(event);
    telemetry().decision(decision.record);
    return respond(event, decision);
  };

  async function decideEvent(event: AuthorizerEvent): Promise<Decision> {
    const started = performance.now();
    let instance: Authorizer;
    try {
      instance = await authorizer();
    } catch (error) {
      // Whatever kept the configuration away (invalid, SSM unreachable), the answer is the same.
      const record = {
        reason: Reason.ConfigUnavailable,
        effect: 'error',
        detail: messageOf(error),
        latencyMs: performance.now() - started,
      } as const;
      return { outcome: 'error', record };
    }
    const request = requestOf(event);
    return instance.decide(request.authorization, request.target, request.binding);
  }
}

/**
 * The one place a decision becomes API Gateway's answer: the policy (REST) or simple response
 * (HTTP API), the 401 (`Unauthorized`, the only message API Gateway turns into one), or a
 * deliberate 500 naming the reason.
 */
function respond(event: AuthorizerEvent, decision: Decision): AuthorizerResponse {
  switch (decision.outcome) {
    case 'policy':
      if (isHttpApi(event)) {
        // HTTP API simple response: the decision for this route only; cache per route
        // by adding $context.routeKey to the identity sources (docs/attaching.md).
        return {
          isAuthorized: decision.allowed,
          context: { ...decision.result.context, reason: decision.record.reason },
        };
      }
      return decision.result;
    case 'unauthorized':
      throw new Error('Unauthorized');
    case 'error':
      throw new Error(
        decision.record.reason === Reason.ConfigUnavailable
          ? 'Authorizer configuration unavailable'
          : `Authorizer failure: ${decision.record.reason}`,
      );
  }
}

/** The Lambda entry point: configuration from the environment, Powertools telemetry. */
export const handler = withLambdaContext(createHandler());

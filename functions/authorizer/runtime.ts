import { type AuthorizerConfig, parseConfigJson } from '../../core/config';
import { messageOf } from '../../core/errors';
import { Reason } from '../../core/reasons';
import { Authorizer, type Decision } from './authorize';
import type { ConfigSource } from './config-source';
import { HttpsJsonFetcher, JwksUriResolver } from './discovery';
import { type AuthorizerEvent, type AuthorizerResponse, answerOf, requestOf } from './events';
import { httpsIntrospection, type IntrospectionCall, Introspector, type SecretReader } from './introspection';
import { HttpsJwksFetcher, type JwksFetcher, KeyStore, type KeyStoreSettings } from './key-store';
import { lambdaTelemetry, type Telemetry } from './telemetry';

/** What the runtime (and `createHandler`) can be given instead of its defaults. */
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
  /** Logs and metrics. Default {@link lambdaTelemetry} (JSON log lines and EMF metrics). */
  telemetry?: Telemetry;
  /** The introspection call. Default HTTPS (with `ca`). */
  introspection?: IntrospectionCall;
  /** Reads secrets by SSM parameter name. Default SSM. */
  secrets?: SecretReader;
}

/**
 * One authorizer instance's life, around which the handler is a thin entry point: the
 * configuration (read from its source on every request, parsed anew only when it changed),
 * one key store and one discovery resolver for the whole life (held keys survive a reload),
 * the introspector, and the telemetry.
 */
export class AuthorizerRuntime {
  private telemetryInstance: Telemetry | undefined;
  private keys: KeyStore | undefined;
  private discovery: JwksUriResolver | undefined;
  private readonly introspector: Introspector;
  private current: { text: string; authorizer: Authorizer } | undefined;
  /** The cold start's work that can wait for the network ({@link whileWaiting}), in order. */
  private readonly deferred: (() => void)[] = [];
  /**
   * Told by the default fetchers each time a fetch waits for its server (the TLS handshake,
   * then the answer): the next deferred task runs then, off the first decision's path.
   */
  private readonly whileWaiting = (): void => {
    const task = this.deferred.shift();
    if (task !== undefined) runDeferred(task);
  };

  constructor(
    private readonly source: ConfigSource,
    private readonly deps: HandlerDependencies = {},
  ) {
    this.telemetryInstance = deps.telemetry;
    this.introspector = new Introspector({
      call: deps.introspection ?? httpsIntrospection(deps.ca),
      secrets: deps.secrets,
      now: deps.now,
    });
  }

  /**
   * The cold start: load the configuration and start the key fetches now, not on the first
   * request; then initialize the telemetry while they run (a configuration at hand is loaded
   * before, one from SSM while it is read). A failure is kept for the first invocation to report.
   */
  start(): void {
    const text = this.source.held?.();
    if (text === undefined) this.authorizer().catch(() => undefined);
    else {
      try {
        this.authorizerFor(text);
      } catch {
        // Reported by every invocation until the configuration is fixed (config_unavailable).
      }
    }
    // Telemetry initializes while the key fetch's TLS handshake runs, when there is one (or
    // whenever something logs first); else now.
    if (this.deferred.length > 0) this.deferred.unshift(() => this.telemetry());
    else this.telemetry();
  }

  /**
   * Answer one event: decide, log the decision, shape the answer. At most one await: none on
   * the hot path (configuration held, key held), where the decision is made synchronously.
   */
  async handle(event: AuthorizerEvent): Promise<AuthorizerResponse> {
    const pending = this.decide(event);
    const decision = pending instanceof Promise ? await pending : pending;
    this.telemetry().decision(decision.record);
    return answerOf(event, decision);
  }

  /**
   * The decision for one event; `config_unavailable` when there is no configuration to decide
   * by. Synchronous when the configuration is held and its authorizer decides at once.
   */
  decide(event: AuthorizerEvent): Decision | Promise<Decision> {
    const text = this.source.held?.();
    const current = this.current;
    if (text !== undefined && current !== undefined && current.text === text) return decideEvent(current.authorizer, event);
    return this.decideLoading(event);
  }

  /** {@link decide} when the configuration has to be read or parsed first. */
  private async decideLoading(event: AuthorizerEvent): Promise<Decision> {
    const started = performance.now();
    let instance: Authorizer;
    try {
      instance = await this.authorizer();
    } catch (error) {
      // Whatever kept the configuration away (invalid, SSM unreachable), the answer is the same.
      return {
        outcome: 'error',
        record: { reason: Reason.ConfigUnavailable, effect: 'error', detail: messageOf(error), latencyMs: performance.now() - started },
      };
    }
    const decision = decideEvent(instance, event);
    return decision instanceof Promise ? await decision : decision;
  }

  /** Built on first use, so that the cold start's configuration read and key fetch are under way while telemetry initializes. */
  private telemetry(): Telemetry {
    this.telemetryInstance ??= lambdaTelemetry();
    return this.telemetryInstance;
  }

  /** The authorizer of the current configuration, built anew when its text changed. */
  private async authorizer(): Promise<Authorizer> {
    return this.authorizerFor(await this.source.text());
  }

  /** The authorizer of a configuration text: the current one, or one built for it (its keys fetched, its warnings logged). */
  private authorizerFor(text: string): Authorizer {
    if (this.current?.text === text) return this.current.authorizer;
    const { config, warnings } = parseConfigJson(text);
    const store = this.keyStoreFor(config);
    const resolver = this.discoveryFor(config);
    const fetching = this.prefetch(config, store, resolver);
    for (const warning of warnings) this.telemetry().warn('config_warning', { warning });
    const authorizer = new Authorizer({ config, keys: store, introspector: this.introspector, now: this.deps.now, discovery: resolver });
    this.current = { text, authorizer };
    // What the first decision would otherwise build, built while a key fetch waits for its
    // server (not before: it would hold up the connection), or soon when none was started.
    if (fetching && this.deps.fetcher === undefined) this.deferred.push(() => authorizer.prepare());
    else setImmediate(runDeferred, () => authorizer.prepare());
    return authorizer;
  }

  /**
   * One key store for the instance's life (held keys survive a reload), configured anew
   * from every reloaded configuration: minRsaBits and jwks.* take effect on a warm instance.
   */
  private keyStoreFor(config: AuthorizerConfig): KeyStore {
    const settings: KeyStoreSettings = {
      fetcher:
        this.deps.fetcher ??
        new HttpsJwksFetcher({
          timeoutMs: config.jwks.timeoutMs,
          maxBytes: config.jwks.maxBytes,
          ca: this.deps.ca,
          onWaiting: this.whileWaiting,
        }),
      minRsaBits: config.minRsaBits,
      minRefetchIntervalMs: config.jwks.minRefetchIntervalSeconds * 1000,
      maxAgeMs: config.jwks.maxAgeSeconds * 1000,
    };
    if (this.keys === undefined) {
      // A fetch's log line and metric are written after the decisions that waited for it: on a
      // cold start, the first decision's (docs/performance.md).
      const report = (event: Parameters<Telemetry['jwksFetch']>[0]) => this.telemetry().jwksFetch(event);
      this.keys = new KeyStore({ ...settings, now: this.deps.now, onFetch: (event) => setImmediate(report, event) });
    } else this.keys.configure(settings);
    return this.keys;
  }

  /** One discovery resolver for the instance's life, with the first configuration's bounds. */
  private discoveryFor(config: AuthorizerConfig): JwksUriResolver {
    this.discovery ??= new JwksUriResolver({
      fetcher: new HttpsJsonFetcher({
        timeoutMs: config.jwks.timeoutMs,
        maxBytes: config.jwks.maxBytes,
        ca: this.deps.ca,
        onWaiting: this.whileWaiting,
      }),
      maxAgeMs: config.jwks.maxAgeSeconds * 1000,
      now: this.deps.now,
    });
    return this.discovery;
  }

  /**
   * Start fetching every issuer's keys not held yet (discovering the key set URL first where
   * needed); never waits. Whether a fetch was started.
   */
  private prefetch(config: AuthorizerConfig, store: KeyStore, resolver: JwksUriResolver): boolean {
    let fetching = false;
    for (const issuer of config.issuers) {
      if (issuer.jwksUris !== undefined) {
        if (!store.hasKeys(issuer.jwksUris)) {
          void store.prefetch(issuer.jwksUris);
          fetching = true;
        }
      } else {
        fetching = true;
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
    return fetching;
  }
}

/** What an authorizer decides for one event. */
function decideEvent(authorizer: Authorizer, event: AuthorizerEvent): Decision | Promise<Decision> {
  const request = requestOf(event);
  return authorizer.decide(request.authorization, request.target, request.binding);
}

/**
 * Run work deferred off any request's path (telemetry's initialization, {@link Authorizer.prepare}):
 * a failure there is met again, and reported, by the request that needs the work.
 */
function runDeferred(task: () => void): void {
  try {
    task();
  } catch {
    // Redone on demand: the telemetry by its first use, the analysis by the first compilation.
  }
}

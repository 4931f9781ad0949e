import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import type { IntrospectionConfig } from '../../core/config';
import { FetchError, IntrospectionUnavailableError, InvalidTokenError } from '../../core/errors';
import { isJsonObject } from '../../core/json';
import { Reason } from '../../core/reasons';
import { BoundedMap } from '../shared/bounded-map';
import { httpSend, parseJsonBody } from '../shared/http';
import { Refresher, sharedCall } from '../shared/refresher';
import { SsmParameters } from '../shared/ssm-parameters';
import { checkAudience } from './claims';

/** An RFC 7662 answer, parsed; the caller checks `active`, `iss`, `aud`, `exp`. */
export type IntrospectionAnswer = Record<string, unknown>;

/** Calls an introspection endpoint; injected in tests. */
export type IntrospectionCall = (config: IntrospectionConfig, token: string, credentials: Credentials) => Promise<IntrospectionAnswer>;

/** How the authorizer authenticates to the introspection endpoint. */
export interface Credentials {
  clientSecret?: string;
  clientCertificate?: string;
  clientKey?: string;
}

/** Reads a secret by SSM parameter name. */
export type SecretReader = (name: string) => Promise<string>;

/** A {@link SecretReader} on SSM (GetParameter with decryption): one client for every read, made on first use. */
export function ssmSecrets(parameters: SsmParameters = new SsmParameters()): SecretReader {
  return (name) => parameters.get(name);
}

/**
 * The default {@link IntrospectionCall}: POST `token` and `token_type_hint=access_token`
 * (RFC 7662 §2.1), `client_secret_basic` or a client certificate, within `timeoutMs`.
 */
export function httpsIntrospection(ca?: string | string[]): IntrospectionCall {
  // Introspection runs on every cache miss: keep connections to the AS open between calls.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return async (config, token, credentials) => {
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (credentials.clientSecret !== undefined) {
      // RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic encoding.
      const user = encodeURIComponent(config.clientId);
      const pass = encodeURIComponent(credentials.clientSecret);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    } else {
      form.set('client_id', config.clientId);
    }
    const send = () =>
      httpSend(config.endpoint, {
        method: 'POST',
        body: form.toString(),
        headers,
        timeoutMs: config.timeoutMs,
        maxBytes: 65536,
        ca,
        cert: credentials.clientCertificate,
        key: credentials.clientKey,
        agent,
      });
    let response: Awaited<ReturnType<typeof send>>;
    try {
      response = await send();
    } catch (error) {
      // A kept-alive connection may have been closed by the AS while Lambda was frozen: one
      // retry on a network error (introspection is safe to repeat), never on a timeout.
      if (!(error instanceof FetchError) || error.kind !== 'network') throw error;
      response = await send();
    }
    const json = parseJsonBody(config.endpoint, response);
    if (!isJsonObject(json)) throw new FetchError(config.endpoint, 'content', 'the introspection answer is not a JSON object');
    return json;
  };
}

/**
 * The one issuer an opaque token may belong to: the one whose `introspection.tokenPrefix`
 * starts the token, else the one introspecting issuer without a prefix (the configuration
 * allows at most one, and no overlapping prefixes). `undefined` when none: the token is
 * sent to no AS at all.
 */
export function introspectingIssuerFor<T extends { introspection?: IntrospectionConfig | undefined }>(
  token: string,
  issuers: readonly T[],
): T | undefined {
  let fallback: T | undefined;
  for (const issuer of issuers) {
    const prefix = issuer.introspection?.tokenPrefix;
    if (issuer.introspection === undefined) continue;
    if (prefix === undefined) fallback = issuer;
    else if (token.startsWith(prefix)) return issuer;
  }
  return fallback;
}

/**
 * What makes an active answer an access token for this API: a `token_type` the issuer
 * lists (RFC 7662 §2.2; oidc-provider answers a refresh token with no `token_type`), and an
 * `aud` containing one of `audience` unless the AS is configured as one that omits it.
 */
export function checkAccessTokenAnswer(config: IntrospectionConfig, answer: IntrospectionAnswer, audience: readonly string[]): void {
  const type = answer.token_type;
  if (typeof type !== 'string' || !config.accessTokenTypes.some((t) => t.toLowerCase() === type.toLowerCase())) {
    throw new InvalidTokenError(Reason.Type, 'the introspection answer does not say the token is an access token (token_type)');
  }
  // An issuer configured by clientIds alone has no audience to match; its client check applies.
  if (answer.aud === undefined && config.omitsAudience) return;
  checkAudience(answer.aud, audience, 'the introspection answer names no audience (set introspection.omitsAudience if the AS never does)');
}

/** Options of {@link Introspector}. */
export interface IntrospectorOptions {
  call?: IntrospectionCall;
  secrets?: SecretReader;
  /** The clock, in milliseconds. */
  now?: () => number;
  /** Most answers held at once. Default 10000. */
  maxEntries?: number;
}

/**
 * Introspects opaque tokens: answers are cached by a hash of the token (never the token
 * itself), never beyond the token's `exp` nor `cacheMaxSeconds`; identical concurrent
 * introspections share one call ({@link sharedCall}); a failed or late call rejects with
 * {@link IntrospectionUnavailableError}, so the caller fails closed. An answer is never served
 * past its expiry, even when the endpoint is down (a revoked token must stop working): unlike
 * key sets, answers are not kept by a {@link Refresher}. The credentials are.
 */
export class Introspector {
  private readonly call: IntrospectionCall;
  private readonly secrets: SecretReader;
  private readonly now: () => number;
  private readonly cache: BoundedMap<string, { until: number; answer: IntrospectionAnswer }>;
  private readonly inflight = new Map<string, Promise<IntrospectionAnswer>>();
  private readonly credentials = new Map<IntrospectionConfig, Refresher<Credentials>>();
  /** How many calls reached the endpoint, for tests and metrics. */
  calls = 0;

  constructor(options: IntrospectorOptions = {}) {
    this.call = options.call ?? httpsIntrospection();
    this.secrets = options.secrets ?? ssmSecrets();
    this.now = options.now ?? Date.now;
    this.cache = new BoundedMap(options.maxEntries ?? 10_000);
  }

  /** The credentials of `config`: read once (from SSM where named), kept for the instance's life; a failed read is retried by the next request. */
  private async credentialsFor(config: IntrospectionConfig): Promise<Credentials> {
    let held = this.credentials.get(config);
    if (held === undefined) {
      const read = async (inline: string | undefined, parameter: string | undefined) =>
        inline ?? (parameter !== undefined ? this.secrets(parameter) : undefined);
      held = new Refresher(async () => ({
        clientSecret: await read(config.clientSecret, config.clientSecretParameter),
        clientCertificate: await read(config.clientCertificate, config.clientCertificateParameter),
        clientKey: await read(config.clientKey, config.clientKeyParameter),
      }));
      this.credentials.set(config, held);
    }
    if (held.value === undefined) await held.refresh();
    if (held.value === undefined) throw held.lastError;
    return held.value;
  }

  /** The answer for `token` from `config.endpoint`, cached; identical concurrent introspections share one call. */
  async introspect(config: IntrospectionConfig, token: string): Promise<IntrospectionAnswer> {
    const key = `${config.endpoint}\n${createHash('sha256').update(token).digest('base64url')}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.until > now) return hit.answer;
    return sharedCall(this.inflight, key, () => this.fetch(config, token, key));
  }

  private async fetch(config: IntrospectionConfig, token: string, key: string): Promise<IntrospectionAnswer> {
    let answer: IntrospectionAnswer;
    try {
      const credentials = await this.credentialsFor(config);
      this.calls++;
      answer = await this.call(config, token, credentials);
    } catch (error) {
      throw new IntrospectionUnavailableError(config.endpoint, `introspection failed: ${(error as Error).message}`, { cause: error });
    }
    const now = this.now();
    let until = now + config.cacheMaxSeconds * 1000;
    if (typeof answer.exp === 'number') until = Math.min(until, answer.exp * 1000);
    if (until > now) this.cache.set(key, { until, answer });
    return answer;
  }
}

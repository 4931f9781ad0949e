import { assertJsonObject } from '../shared/assert';
import { ConfigError } from '../shared/errors';
import { assertObject, bool, httpsUrl, int, oneOf, rejectUnknown, str, stringList } from '../shared/fields';
import { type SignatureAlgorithm, SUPPORTED_ALGORITHMS } from '../shared/jwk-rules';
import { isProfileName, PROFILE_NAMES, PROFILES, type ProfileName } from './profiles';
import { parseRouteTemplate, type RouteTemplate } from './routes';
import { isScopeToken } from './scopes';

/** HTTP methods API Gateway REST APIs route (its `ANY` is `*` here). */
export const HTTP_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A claim scopes or permissions are read from (`scope`, `scp`, `roles`, `permissions`, `cognito:groups`…). */
export type ScopeClaim = string;

/**
 * RFC 7662 introspection settings of an issuer. The client authenticates with
 * `client_secret_basic` (a secret inline, or in an SSM parameter — which may reference
 * Secrets Manager as `/aws/reference/secretsmanager/NAME`), or with a client certificate
 * (RFC 8705 `tls_client_auth`, PEM inline or in SSM parameters).
 */
export interface IntrospectionConfig {
  endpoint: string;
  clientId: string;
  clientSecret?: string;
  clientSecretParameter?: string;
  clientCertificate?: string;
  clientKey?: string;
  clientCertificateParameter?: string;
  clientKeyParameter?: string;
  /** Keep an answer at most this long, in seconds (never beyond the token's `exp`). Default 60. */
  cacheMaxSeconds: number;
  /** Deadline of one introspection call, in milliseconds. Default 100. */
  timeoutMs: number;
  /** Introspect this issuer's JWTs too, after local verification (e.g. to honour revocation). Default false. */
  forJwts: boolean;
  /**
   * The AS's answers carry no `aud` (RFC 7662 makes it optional), so none is required. Default
   * false: an answer without an `aud` that contains one of the issuer's `audience` is refused.
   */
  omitsAudience: boolean;
  /**
   * `token_type` values that mark an answer as an access token, compared case-insensitively.
   * Default `["Bearer", "DPoP"]`; an answer without one of them (a refresh token) is refused.
   */
  accessTokenTypes: string[];
  /**
   * Opaque tokens that start with this prefix go to this issuer only. Needed when more than
   * one issuer introspects (one of them may go without: it gets the tokens no prefix claims).
   */
  tokenPrefix: string | undefined;
}

/** A trusted issuer, validated. */
export interface IssuerConfig {
  /** Compared with the token's `iss` exactly. */
  issuer: string;
  /**
   * HTTPS URL of the issuer's (or the mirror's) JWKS: configured, derived from the issuer by
   * the profile (Cognito, Entra), or `undefined` when OIDC discovery of the issuer gives it.
   */
  jwksUri: string | undefined;
  /**
   * Key sets read after `jwksUri` (or the discovered one), in order, each fetched only when
   * the earlier ones are unavailable or lack the `kid`: e.g. the issuer's own key set, or
   * its discovery document `ISSUER/.well-known/openid-configuration`, behind a mirror.
   */
  jwksFallbackUris: string[];
  /** `jwksUri` then `jwksFallbackUris`, when `jwksUri` is known without discovery (the key store's sources). */
  jwksUris: string[] | undefined;
  /** The token's `aud` must contain one of these; empty only with the `cognito` profile, whose `clientIds` stand in. */
  audience: string[];
  /** The identity-provider profile (default `rfc9068`). */
  profile: ProfileName;
  /** The token's client (the first of {@link clientClaims} present) must be one of these, when set. */
  clientIds: string[] | undefined;
  /** Claims that name the client, the first one present wins: the profile's, unless `clientClaim` is set. */
  clientClaims: readonly string[];
  /** Accepted JOSE `alg` values. */
  algorithms: SignatureAlgorithm[];
  /** Required JOSE `typ`, normalized (lower case, without `application/`), when set. */
  tokenType: string | undefined;
  /**
   * The claims scopes are read from, every value of each granted: the profile's, unless
   * `scopeClaim` is set; `undefined` means `scope`, then `scp`.
   */
  scopeClaims: readonly ScopeClaim[] | undefined;
  introspection: IntrospectionConfig | undefined;
  /**
   * `required` refuses tokens without a confirmation (`cnf`): certificate-bound (RFC 8705)
   * or DPoP-bound (RFC 9449). Default `optional`: bound tokens are checked, others pass.
   */
  senderConstraint: 'optional' | 'required';
}

/**
 * Whether a decision is enforced, or only logged. The one declaration, used by the authorizer,
 * the OpenAPI reader, the CLI and the CDK constructs; the values are the configuration's.
 */
export enum Enforcement {
  /** Deny what the route table does not allow (the default). */
  ENFORCE = 'enforce',
  /**
   * Let every request with a valid token through and log the decision that would have been
   * made (`enforced: false`), counted in the `WouldDeny` metric: a rollout on a live API.
   * Invalid tokens are refused all the same.
   */
  REPORT_ONLY = 'report-only',
}

/** The values of {@link Enforcement}. */
export const ENFORCEMENTS: readonly Enforcement[] = Object.values(Enforcement);

/**
 * Whether a request that no route matches can reach the authorizer, and so its cached policy.
 */
export enum Unrouted {
  /**
   * It can (an imported API, a `{proxy+}` resource in front of an app that routes itself, a
   * hand-written configuration): such a request is denied, by the decision and by every
   * policy returned. The default.
   */
  DENY = 'deny',
  /**
   * It cannot: API Gateway's resources are exactly the route table (the construct created
   * them), so API Gateway answers such a request itself and a policy may leave it either way.
   */
  UNREACHABLE = 'unreachable',
}

/** The values of {@link Unrouted}. */
export const UNROUTED_VALUES: readonly Unrouted[] = Object.values(Unrouted);

/**
 * The HTTP API catch-all route (`routeKey` `$default`), written `{"method": "*", "path":
 * "$default"}`. It has no resource path: REST APIs and the policy compiler never see it.
 */
export const DEFAULT_ROUTE_PATH = '$default';

/** A route and what it requires, validated. */
export interface RouteConfig {
  method: HttpMethod | '*';
  path: string;
  template: RouteTemplate;
  /**
   * The route's `scopes` as configured: all of them required. Empty for an `anyOf` route:
   * read {@link RouteConfig.anyOf}, which holds the requirement of every route.
   */
  scopes: string[];
  /** The requirement: any one of these sets, all of its scopes (`[scopes]` for a `scopes` route). */
  anyOf: string[][];
  /** RFC 9470 step-up: authentication no older than this many seconds. */
  maxAuthAgeSeconds: number | undefined;
  /** The route's own `enforcement`, else the configuration's. */
  enforcement: Enforcement;
  /**
   * Where no exact cached policy exists for a token, its policy may deny this route's requests
   * (and the decision then denies them too, reason `over_deny`), instead of the authorizer
   * answering with a policy for the request alone. Default false.
   */
  acceptOverDeny: boolean;
}

/** A trusted issuer as the configuration document writes it, before validation (see {@link IssuerConfig}). */
export interface IssuerDocument {
  issuer: string;
  profile?: ProfileName;
  jwksUri?: string;
  jwksFallbackUris?: string[];
  audience?: string | string[];
  clientIds?: string[];
  clientClaim?: string | string[];
  algorithms?: string[];
  tokenType?: string;
  scopeClaim?: string | string[];
  introspection?: Record<string, unknown>;
  senderConstraint?: 'optional' | 'required';
}

/** A route as the configuration document writes it, before validation. */
export interface RouteDocument {
  /** An HTTP method, or `*`. */
  method: string;
  path: string;
  scopes?: string[];
  anyOf?: string[][];
  maxAuthAgeSeconds?: number;
  enforcement?: Enforcement;
  acceptOverDeny?: boolean;
}

/**
 * The configuration document (JSON, as the SSM parameter holds it) that {@link parseConfig}
 * reads: the shape the CDK construct writes. docs/configuration.md describes every field.
 */
export interface AuthorizerConfigDocument {
  issuers: IssuerDocument[];
  routes: RouteDocument[];
  clockToleranceSeconds?: number;
  maxTokenBytes?: number;
  policyCacheTtlSeconds?: number;
  minRsaBits?: number;
  enforcement?: Enforcement;
  unrouted?: Unrouted;
  jwks?: { maxBytes?: number; timeoutMs?: number; minRefetchIntervalSeconds?: number; maxAgeSeconds?: number };
}

/** The authorizer's configuration after validation; the rest of the code trusts it. */
export interface AuthorizerConfig {
  issuers: IssuerConfig[];
  routes: RouteConfig[];
  /** Leeway for `exp`, `nbf` and a future `iat`, in seconds. Default 30. */
  clockToleranceSeconds: number;
  /** Cap on the whole Authorization value, in bytes. Default 8192. */
  maxTokenBytes: number;
  /**
   * The API Gateway authorizer cache TTL, in seconds (default 0). A step-up route is only
   * allowed when the authentication stays fresh enough for the whole time the policy may be
   * cached, so a cached Allow never outlives `maxAuthAgeSeconds`.
   */
  policyCacheTtlSeconds: number;
  /** Smallest RSA key accepted, in bits. Default 2048. */
  minRsaBits: number;
  /** The top-level `enforcement` (default `enforce`); it also governs requests no route matches. */
  enforcement: Enforcement;
  /** Whether requests no route matches reach the authorizer (default `deny`: they do, and are denied). */
  unrouted: Unrouted;
  jwks: {
    /** Cap on a JWKS body, in bytes. Default 65536. */
    maxBytes: number;
    /** Deadline for one JWKS fetch, in milliseconds. Default 2500 (Lambda gives authorizers 10 s). */
    timeoutMs: number;
    /** At most one unknown-`kid` refetch per this many seconds and key set. Default 10. */
    minRefetchIntervalSeconds: number;
    /** Held keys are refreshed after this many seconds (kept if the refresh fails). Default 3600. */
    maxAgeSeconds: number;
  };
}

/** A configuration and the warnings found while validating it. */
export interface ParsedConfig {
  config: AuthorizerConfig;
  warnings: string[];
}

const BROAD_SCOPES = new Set(['admin', 'root', 'all', '*', 'superuser', 'full_access', 'full-access', 'write', 'read']);
/**
 * Granular scope shapes that draw no warning: `resource:action` (RFC 9068 style), Cognito's
 * custom scopes `resourceServer/scope` (the resource server identifier may be a URL), and
 * Entra's `Resource.Operation[.Constraint]` (`Orders.Read.All`).
 */
const SCOPE_SHAPE =
  /^(?:[A-Za-z0-9_.-]+:[A-Za-z0-9_.*-]+(?::[A-Za-z0-9_.*-]+)*|\S+\/[A-Za-z0-9_.*-]+|[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)+)$/;

/** Normalize a JOSE `typ` media type as RFC 7515 §4.1.9 compares it. */
export function normalizeMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function parseAlgorithms(value: unknown, field: string): SignatureAlgorithm[] {
  if (value === undefined) return ['RS256', 'ES256', 'EdDSA'];
  const list = stringList(value, field, false);
  return list.map((alg, i) => {
    if (/^HS/i.test(alg) || alg.toLowerCase() === 'none') {
      throw new ConfigError(`${field}[${i}]`, `${alg} is refused: a resource server must not accept symmetric or unsigned tokens`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError(`${field}[${i}]`, `${alg} is not supported (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
    return alg as SignatureAlgorithm;
  });
}

function parseIntrospection(value: unknown, field: string): IntrospectionConfig | undefined {
  if (value === undefined) return undefined;
  assertObject(value, field);
  const optional = [
    'clientSecret',
    'clientSecretParameter',
    'clientCertificate',
    'clientKey',
    'clientCertificateParameter',
    'clientKeyParameter',
  ] as const;
  rejectUnknown(value, field, [
    'endpoint',
    'clientId',
    ...optional,
    'cacheMaxSeconds',
    'timeoutMs',
    'forJwts',
    'omitsAudience',
    'accessTokenTypes',
    'tokenPrefix',
  ]);
  const out: IntrospectionConfig = {
    endpoint: httpsUrl(value.endpoint, `${field}.endpoint`),
    clientId: str(value.clientId, `${field}.clientId`),
    cacheMaxSeconds: int(value.cacheMaxSeconds, `${field}.cacheMaxSeconds`, 60, 0, 3600),
    timeoutMs: int(value.timeoutMs, `${field}.timeoutMs`, 100, 10, 5000),
    forJwts: bool(value.forJwts, `${field}.forJwts`),
    omitsAudience: bool(value.omitsAudience, `${field}.omitsAudience`),
    accessTokenTypes:
      value.accessTokenTypes === undefined ? ['Bearer', 'DPoP'] : stringList(value.accessTokenTypes, `${field}.accessTokenTypes`, false),
    tokenPrefix: value.tokenPrefix === undefined ? undefined : str(value.tokenPrefix, `${field}.tokenPrefix`),
  };
  for (const name of optional) if (value[name] !== undefined) out[name] = str(value[name], `${field}.${name}`);
  const secret = [out.clientSecret, out.clientSecretParameter].filter((v) => v !== undefined).length;
  const cert = out.clientCertificate !== undefined || out.clientCertificateParameter !== undefined;
  const key = out.clientKey !== undefined || out.clientKeyParameter !== undefined;
  if (cert !== key) throw new ConfigError(field, 'a client certificate needs its key, and a key its certificate');
  if (secret > 1 || (secret === 0 && !cert)) {
    throw new ConfigError(field, 'needs exactly one of clientSecret and clientSecretParameter, or a client certificate and key');
  }
  return out;
}

const CLAIM_NAME = /^[\x21-\x7E]{1,64}$/;

function claimList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = stringList(value, field, false);
  list.forEach((claim, i) => {
    if (!CLAIM_NAME.test(claim)) throw new ConfigError(`${field}[${i}]`, `${JSON.stringify(claim)} is not a claim name`);
  });
  return [...new Set(list)];
}

function parseIssuer(value: unknown, field: string, warnings: string[]): IssuerConfig {
  assertObject(value, field);
  rejectUnknown(value, field, [
    'issuer',
    'profile',
    'jwksUri',
    'jwksFallbackUris',
    'audience',
    'clientIds',
    'clientClaim',
    'algorithms',
    'tokenType',
    'scopeClaim',
    'introspection',
    'senderConstraint',
  ]);
  const senderConstraint = oneOf(value.senderConstraint, `${field}.senderConstraint`, ['optional', 'required'], 'optional');
  const profileName = value.profile ?? 'rfc9068';
  if (!isProfileName(profileName)) throw new ConfigError(`${field}.profile`, `must be one of ${PROFILE_NAMES.join(', ')}`);
  const profile = PROFILES[profileName];
  const issuer = str(value.issuer, `${field}.issuer`);
  const audience = value.audience === undefined ? [] : stringList(value.audience, `${field}.audience`, false);
  const clientIds = value.clientIds === undefined ? undefined : stringList(value.clientIds, `${field}.clientIds`, false);
  if (audience.length === 0 && profileName !== 'cognito') {
    // RFC 9068 §4: the resource server MUST check aud. Without it, a token the issuer gave a
    // client for another API (or with no aud, an OIDC ID token) would be accepted.
    throw new ConfigError(
      `${field}.audience`,
      "is required (the API's identifier, which the token's aud must contain); only the cognito profile goes without, since Cognito access tokens carry no aud",
    );
  }
  if (audience.length === 0 && clientIds === undefined) {
    // Cognito without clientIds: every access token of the pool, for any app client, would pass.
    throw new ConfigError(
      `${field}.clientIds`,
      'is required with the cognito profile (the app clients whose access tokens this API takes)',
    );
  }
  const jwksUri = value.jwksUri === undefined ? profile.jwksUriFor?.(issuer) : httpsUrl(value.jwksUri, `${field}.jwksUri`);
  if (jwksUri === undefined) {
    try {
      httpsUrl(issuer, `${field}.issuer`);
    } catch (error) {
      throw new ConfigError(
        `${field}.jwksUri`,
        `is required when the issuer is not an https URL to discover it from (${(error as Error).message})`,
      );
    }
  }
  const jwksFallbackUris =
    value.jwksFallbackUris === undefined ? [] : stringList(value.jwksFallbackUris, `${field}.jwksFallbackUris`, true);
  for (const [i, uri] of jwksFallbackUris.entries()) httpsUrl(uri, `${field}.jwksFallbackUris[${i}]`);
  for (const warning of profile.warnings?.({ issuer, audience, clientIds }) ?? []) warnings.push(`${field}: ${warning}`);
  return {
    issuer,
    jwksUri,
    jwksFallbackUris,
    jwksUris: jwksUri === undefined ? undefined : [...new Set([jwksUri, ...jwksFallbackUris])],
    audience,
    profile: profileName,
    clientIds,
    clientClaims: claimList(value.clientClaim, `${field}.clientClaim`) ?? profile.clientClaims,
    algorithms: parseAlgorithms(value.algorithms, `${field}.algorithms`),
    tokenType: value.tokenType === undefined ? undefined : normalizeMediaType(str(value.tokenType, `${field}.tokenType`)),
    scopeClaims: claimList(value.scopeClaim, `${field}.scopeClaim`) ?? profile.scopeClaims,
    introspection: parseIntrospection(value.introspection, `${field}.introspection`),
    senderConstraint,
  };
}

function scopeList(value: unknown, field: string, warnings: string[]): string[] {
  const scopes = stringList(value, field, true);
  scopes.forEach((scope, i) => {
    if (!isScopeToken(scope))
      throw new ConfigError(`${field}[${i}]`, `${JSON.stringify(scope)} is not a valid scope token (RFC 6749 §3.3)`);
    if (BROAD_SCOPES.has(scope.toLowerCase())) {
      warnings.push(`${field}[${i}]: "${scope}" is a broad scope; prefer granular resource:action scopes`);
    } else if (!SCOPE_SHAPE.test(scope)) {
      warnings.push(`${field}[${i}]: "${scope}" is not of a granular shape (resource:action, resource/action, Resource.Action)`);
    }
  });
  return [...new Set(scopes)];
}

function parseRoute(value: unknown, field: string, warnings: string[], fallback: Enforcement): RouteConfig {
  assertObject(value, field);
  rejectUnknown(value, field, ['method', 'path', 'scopes', 'anyOf', 'maxAuthAgeSeconds', 'enforcement', 'acceptOverDeny']);
  const rawMethod = str(value.method, `${field}.method`).toUpperCase();
  const method = rawMethod === 'ANY' ? '*' : rawMethod;
  if (method !== '*' && !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new ConfigError(`${field}.method`, `must be one of ${HTTP_METHODS.join(', ')} or "*"`);
  }
  const path = str(value.path, `${field}.path`);
  let template: RouteTemplate;
  if (path === DEFAULT_ROUTE_PATH) {
    if (method !== '*') throw new ConfigError(`${field}.method`, 'must be "*" for the $default route (it catches every method)');
    template = { segments: [], key: DEFAULT_ROUTE_PATH };
  } else {
    try {
      template = parseRouteTemplate(path);
    } catch (error) {
      throw new ConfigError(`${field}.path`, (error as Error).message);
    }
  }
  let scopes: string[] = [];
  let anyOf: string[][];
  if (value.anyOf !== undefined) {
    if (value.scopes !== undefined) throw new ConfigError(`${field}.anyOf`, 'a route has scopes or anyOf, not both');
    if (!Array.isArray(value.anyOf) || value.anyOf.length === 0) {
      throw new ConfigError(`${field}.anyOf`, 'must be a non-empty list of scope lists');
    }
    anyOf = value.anyOf.map((set, i) => {
      if (!Array.isArray(set)) throw new ConfigError(`${field}.anyOf[${i}]`, 'must be a list of scopes');
      return scopeList(set, `${field}.anyOf[${i}]`, warnings);
    });
  } else {
    scopes = scopeList(value.scopes ?? [], `${field}.scopes`, warnings);
    anyOf = [scopes];
  }
  const maxAuthAgeSeconds =
    value.maxAuthAgeSeconds === undefined ? undefined : int(value.maxAuthAgeSeconds, `${field}.maxAuthAgeSeconds`, 0, 1, 31_536_000);
  return {
    method: method as HttpMethod | '*',
    path,
    template,
    scopes,
    anyOf,
    maxAuthAgeSeconds,
    enforcement: oneOf(value.enforcement, `${field}.enforcement`, ENFORCEMENTS, fallback),
    acceptOverDeny: bool(value.acceptOverDeny, `${field}.acceptOverDeny`),
  };
}

function checkIntrospectionRouting(issuers: IssuerConfig[]): void {
  const introspecting = issuers.flatMap((issuer, i) => (issuer.introspection ? [{ i, prefix: issuer.introspection.tokenPrefix }] : []));
  if (introspecting.length < 2) return;
  const unprefixed = introspecting.filter((x) => x.prefix === undefined);
  if (unprefixed.length > 1) {
    throw new ConfigError(
      `issuers[${unprefixed[1]?.i}].introspection.tokenPrefix`,
      `is needed: issuers[${unprefixed[0]?.i}] introspects without a tokenPrefix too, and an opaque token must go to the one AS it can belong to`,
    );
  }
  for (const a of introspecting) {
    for (const b of introspecting) {
      if (
        a.i < b.i &&
        a.prefix !== undefined &&
        b.prefix !== undefined &&
        (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix))
      ) {
        throw new ConfigError(
          `issuers[${b.i}].introspection.tokenPrefix`,
          `overlaps issuers[${a.i}].introspection.tokenPrefix: a token could belong to both`,
        );
      }
    }
  }
}

/**
 * Validate a configuration (already parsed from JSON) into an {@link AuthorizerConfig}.
 * Throws a {@link ConfigError} naming the first bad field; returns warnings for scope names
 * that are broad or not of the `resource:action` shape.
 */
export function parseConfig(raw: unknown): ParsedConfig {
  const warnings: string[] = [];
  assertJsonObject(raw, () => new ConfigError('(root)', 'the configuration must be a JSON object'));
  rejectUnknown(raw, '', [
    'issuers',
    'routes',
    'clockToleranceSeconds',
    'maxTokenBytes',
    'policyCacheTtlSeconds',
    'minRsaBits',
    'jwks',
    'enforcement',
    'unrouted',
  ]);
  if (!Array.isArray(raw.issuers) || raw.issuers.length === 0) throw new ConfigError('issuers', 'must be a non-empty list');
  const issuers = raw.issuers.map((item, i) => parseIssuer(item, `issuers[${i}]`, warnings));
  const seenIssuers = new Map<string, number>();
  issuers.forEach((item, i) => {
    const before = seenIssuers.get(item.issuer);
    if (before !== undefined) throw new ConfigError(`issuers[${i}].issuer`, `duplicates issuers[${before}].issuer`);
    seenIssuers.set(item.issuer, i);
  });
  checkIntrospectionRouting(issuers);
  const topEnforcement = oneOf(raw.enforcement, 'enforcement', ENFORCEMENTS, Enforcement.ENFORCE);
  if (!Array.isArray(raw.routes)) throw new ConfigError('routes', 'must be a list');
  const routes = raw.routes.map((item, i) => parseRoute(item, `routes[${i}]`, warnings, topEnforcement));
  const seenRoutes = new Map<string, number>();
  routes.forEach((route, i) => {
    const key = `${route.method} ${route.template.key}`;
    const before = seenRoutes.get(key);
    if (before !== undefined) throw new ConfigError(`routes[${i}]`, `${route.method} ${route.path} is the same route as routes[${before}]`);
    seenRoutes.set(key, i);
  });
  if (routes.length === 0) warnings.push('routes: empty, every request will be denied');
  const policyCacheTtlSeconds = int(raw.policyCacheTtlSeconds, 'policyCacheTtlSeconds', 0, 0, 3600);
  // A cached policy answers later requests without a log line: report-only needs every request.
  if (policyCacheTtlSeconds > 0) {
    const field =
      raw.enforcement === 'report-only' ? 'enforcement' : `routes[${routes.findIndex((r) => r.enforcement === 'report-only')}].enforcement`;
    if (topEnforcement === 'report-only' || routes.some((r) => r.enforcement === 'report-only')) {
      throw new ConfigError(
        field,
        `"report-only" needs policyCacheTtlSeconds 0 (it is ${policyCacheTtlSeconds}): a cached policy would let later requests through unlogged`,
      );
    }
  }
  routes.forEach((route, i) => {
    if (route.maxAuthAgeSeconds !== undefined && route.maxAuthAgeSeconds <= policyCacheTtlSeconds) {
      warnings.push(
        `routes[${i}].maxAuthAgeSeconds: not above policyCacheTtlSeconds (${policyCacheTtlSeconds}), so the route is never allowed`,
      );
    }
  });
  const jwksRaw = raw.jwks ?? {};
  assertObject(jwksRaw, 'jwks');
  rejectUnknown(jwksRaw, 'jwks', ['maxBytes', 'timeoutMs', 'minRefetchIntervalSeconds', 'maxAgeSeconds']);
  return {
    warnings,
    config: {
      issuers,
      routes,
      clockToleranceSeconds: int(raw.clockToleranceSeconds, 'clockToleranceSeconds', 30, 0, 300),
      maxTokenBytes: int(raw.maxTokenBytes, 'maxTokenBytes', 8192, 256, 65536),
      policyCacheTtlSeconds,
      enforcement: topEnforcement,
      unrouted: oneOf(raw.unrouted, 'unrouted', UNROUTED_VALUES, Unrouted.DENY),
      minRsaBits: int(raw.minRsaBits, 'minRsaBits', 2048, 2048, 16384),
      jwks: {
        maxBytes: int(jwksRaw.maxBytes, 'jwks.maxBytes', 65536, 1024, 1_048_576),
        timeoutMs: int(jwksRaw.timeoutMs, 'jwks.timeoutMs', 2500, 100, 9000),
        minRefetchIntervalSeconds: int(jwksRaw.minRefetchIntervalSeconds, 'jwks.minRefetchIntervalSeconds', 10, 0, 3600),
        maxAgeSeconds: int(jwksRaw.maxAgeSeconds, 'jwks.maxAgeSeconds', 3600, 60, 86400),
      },
    },
  };
}

/**
 * Parse configuration JSON text; a syntax error is a {@link ConfigError} too. Its message
 * gives the position only: V8's `JSON.parse` messages quote the text, which may hold secrets.
 */
export function parseConfigJson(text: string): ParsedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError('(root)', `not valid JSON: syntax error at ${jsonErrorPosition(text)}`);
  }
  return parseConfig(raw);
}

/** `line L, column C (offset O)` of the first JSON syntax error in `text` (which JSON.parse refused). */
export function jsonErrorPosition(text: string): string {
  const offset = jsonErrorOffset(text);
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  return `line ${line}, column ${column} (offset ${offset})`;
}

/** The offset at which a JSON scanner first fails (RFC 8259); `text.length` for an early end. */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 34) return void i++;
      if (c < 32) fail();
      if (c === 92) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (match === null || match[0].length === 0) fail();
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail();
  };
  try {
    value();
    ws();
    return Math.min(i, text.length);
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : 0;
  }
}

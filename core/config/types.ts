/**
 * The configuration's shapes: the document as written (`*Document`) and the validated
 * configuration the authorizer trusts (`*Config`).
 */

import type { SignatureAlgorithm } from '../jwk-rules';
import type { ProfileName } from '../profiles';
import type { RouteTemplate } from '../routes';
import type { ScopeClaim } from '../scopes';
import type { Enforcement, HttpMethod, Unrouted } from './enums';

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

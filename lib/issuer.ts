import type { ProfileName } from '../core/profiles';
import type { ScopeIntrospection, SenderConstraint } from './introspection';

/** A trusted issuer, as the authorizer configuration names it (see docs/configuration.md, docs/providers.md). */
export interface ScopeAuthorizerIssuer {
  /** The issuer, compared with the token's `iss` exactly. */
  readonly issuer: string;
  /**
   * The identity-provider profile: client claim, permission claims, access-token rule.
   * @default 'rfc9068'
   */
  readonly profile?: ProfileName;
  /**
   * The key set URL; usually the JWKS distribution's.
   * @default - derived from the issuer (cognito, entra) or found by OIDC discovery
   */
  readonly jwksUri?: string;
  /**
   * Key sets read when `jwksUri` is unavailable or lacks a `kid`, in order (e.g. the issuer's
   * discovery document).
   * @default - none
   */
  readonly jwksFallbackUris?: string[];
  /**
   * The token's `aud` must contain one of these (the API's identifier). Required, except with
   * the `cognito` profile, whose access tokens carry no `aud` (`clientIds` stand in).
   * @default - none: allowed with the `cognito` profile only
   */
  readonly audience?: string | string[];
  /**
   * The token's client (the profile's client claim) must be one of these.
   * @default - any client
   */
  readonly clientIds?: string[];
  /**
   * Claims naming the client, first present wins.
   * @default - the profile's
   */
  readonly clientClaim?: string | string[];
  /**
   * Accepted JOSE `alg` values.
   * @default - every supported algorithm (RS256/384/512, ES256/384/512, EdDSA)
   */
  readonly algorithms?: string[];
  /**
   * Required JOSE `typ` (e.g. `at+jwt`, RFC 9068).
   * @default - any
   */
  readonly tokenType?: string;
  /**
   * Claims that grant scopes, in order: the first one the token carries grants its values,
   * the others are ignored (never a union).
   * @default - the profile's
   */
  readonly scopeClaim?: string | string[];
  /**
   * RFC 7662 introspection of this issuer's opaque tokens; the function is granted its secrets' parameters.
   * @default - none: JWTs only
   */
  readonly introspection?: ScopeIntrospection;
  /**
   * Whether tokens must be sender-constrained (`REQUIRED` needs `mode: AuthorizerMode.REQUEST` or an HTTP API).
   * @default SenderConstraint.OPTIONAL
   */
  readonly senderConstraint?: SenderConstraint;
}

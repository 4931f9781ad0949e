import { InvalidTokenError } from '../shared/errors';
import { Reason } from '../shared/reasons';

/**
 * Issuer profiles: what scopegate knows of each identity provider's access tokens. A profile
 * fixes the claim that names the client, the claims that grant permissions, and the rule that
 * tells the provider's access tokens from its ID tokens. Each profile lists the documented
 * facts it relies on, with their sources, so that a reviewer can check them (docs/providers.md
 * repeats them for operators).
 */

/** The profiles an issuer may name in `issuers[].profile`. */
export const PROFILE_NAMES = ['rfc9068', 'cognito', 'entra', 'okta', 'auth0', 'keycloak', 'oidc'] as const;

/** One of {@link PROFILE_NAMES}. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** A documented fact a profile relies on. */
export interface ProfileFact {
  /** What the profile does because of it. */
  rule: string;
  /** Where the provider documents it. */
  source: string;
  /** What the source says, in short. */
  says: string;
}

/** What a profile decides for its issuer; explicit configuration fields override the defaults. */
export interface IssuerProfile {
  name: ProfileName;
  /** The provider, for messages ("this is a Cognito ID token"). */
  provider: string;
  /** Claims that name the client, the first one present wins. */
  clientClaims: readonly string[];
  /** Claims whose values are granted; `undefined` means `scope`, then `scp` (RFC 9068). */
  scopeClaims: readonly string[] | undefined;
  /**
   * A check of the (not yet verified) header, before any key lookup: refuses tokens that no
   * one but their own audience can verify, with a reason that says so. Must not allocate.
   */
  checkHeader?: (header: Record<string, unknown>) => void;
  /** After the signature holds: refuses tokens that are not access tokens (ID tokens…). */
  checkTokenUse?: (payload: Record<string, unknown>) => void;
  /** The key set URL that follows from the issuer, when the provider documents one. */
  jwksUriFor?: (issuer: string) => string | undefined;
  /** Configuration warnings for an issuer of this profile (a likely misconfiguration). */
  warnings?: (issuer: { issuer: string; audience: readonly string[]; clientIds: readonly string[] | undefined }) => string[];
  /** The one-line rule `scopegate explain` prints for the profile. */
  summary: string;
  facts: readonly ProfileFact[];
}

const OIDC_CORE_ID_TOKEN = 'https://openid.net/specs/openid-connect-core-1_0.html#IDToken';

/**
 * Claims only an OpenID Connect ID token carries (OIDC Core §2, §3.1.3.6, §3.3.2.11): a
 * `nonce` echoed from the authentication request, and the `at_hash` / `c_hash` half-hashes
 * of the tokens issued beside it. No access token profile of the providers below defines them.
 */
function idTokenMarker(payload: Record<string, unknown>): string | undefined {
  if (payload.nonce !== undefined) return 'nonce';
  if (payload.at_hash !== undefined) return 'at_hash';
  if (payload.c_hash !== undefined) return 'c_hash';
  return undefined;
}

function refuse(message: string): never {
  throw new InvalidTokenError(Reason.TokenUse, message);
}

const rfc9068: IssuerProfile = {
  name: 'rfc9068',
  provider: 'RFC 9068',
  clientClaims: ['client_id', 'azp'],
  scopeClaims: undefined,
  summary: 'RFC 9068 access tokens: client in client_id, scopes in scope (or scp); set tokenType "at+jwt" to refuse other JWTs',
  facts: [
    {
      rule: 'the client is client_id (azp is read when client_id is absent, as before profiles existed)',
      source: 'https://www.rfc-editor.org/rfc/rfc9068#section-2.2',
      says: 'client_id is REQUIRED in a JWT access token',
    },
    {
      rule: 'tokenType "at+jwt" tells access tokens from ID tokens by the JOSE typ header',
      source: 'https://www.rfc-editor.org/rfc/rfc9068#section-4',
      says: 'resource servers MUST verify that the typ header value is "at+jwt" or "application/at+jwt"',
    },
  ],
};

const cognito: IssuerProfile = {
  name: 'cognito',
  provider: 'Amazon Cognito',
  clientClaims: ['client_id'],
  scopeClaims: ['scope'],
  checkTokenUse(payload) {
    const use = payload.token_use;
    if (use === 'access') return;
    if (use === 'id') refuse('this is a Cognito ID token (token_use "id"); send the access token');
    refuse(`a Cognito access token has token_use "access", this one has ${JSON.stringify(use ?? null).slice(0, 40)}`);
  },
  jwksUriFor: (issuer) => `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
  warnings({ audience }) {
    return audience.length > 0
      ? ['Cognito access tokens carry no aud claim (only client_id): with audience set, every access token is refused; use clientIds']
      : [];
  },
  summary: 'Amazon Cognito: access tokens carry token_use "access" and client_id (no aud); scopes in scope',
  facts: [
    {
      rule: 'token_use must be "access"; an ID token (token_use "id") is refused',
      source: 'https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html',
      says: 'the access token payload carries "token_use": "access", "client_id", "scope" and cognito:groups; the ID token carries token_use "id"',
    },
    {
      rule: 'the client is client_id, checked against clientIds; audience is not used (access tokens have no aud)',
      source: 'https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html',
      says: 'verify that the aud claim of an ID token, or the client_id claim of an access token, matches the app client ID',
    },
    {
      rule: 'the key set is {issuer}/.well-known/jwks.json; the issuer is https://cognito-idp.{region}.amazonaws.com/{userPoolId}',
      source: 'https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html',
      says: 'the user pool publishes its signing keys at https://cognito-idp.{region}.amazonaws.com/{userPoolId}/.well-known/jwks.json',
    },
    {
      rule: 'the newer issuer form https://issuer-cognito-idp.{region}.amazonaws.com/{userPoolId} is configured as its own issuer',
      source: 'https://github.com/awslabs/aws-jwt-verify/pull/239',
      says: 'user pools may use the "updated" issuer format; verifiers accept both forms during the transition',
    },
  ],
};

const entra: IssuerProfile = {
  name: 'entra',
  provider: 'Microsoft Entra ID',
  clientClaims: ['azp', 'appid'],
  scopeClaims: ['scp', 'roles'],
  checkHeader(header) {
    if (header.nonce !== undefined) {
      throw new InvalidTokenError(
        Reason.Unverifiable,
        'this is a Microsoft Graph access token (its header carries a nonce): only Graph can verify it; request a token for your own API (scope api://{your-api}/.default)',
      );
    }
  },
  checkTokenUse(payload) {
    if (payload.nonce !== undefined) refuse('this is an Entra ID token (it carries a nonce); send the access token issued for your API');
    if (payload.azp === undefined && payload.appid === undefined) {
      refuse('this is an Entra ID token (no azp or appid claim, which every Entra access token carries); send the access token');
    }
  },
  jwksUriFor(issuer) {
    // v2.0 tokens: https://login.microsoftonline.com/{tenant}/v2.0, keys at /{tenant}/discovery/v2.0/keys
    // (the same path on sovereign-cloud hosts). v1.0 tokens: https://sts.windows.net/{tenant}/.
    const v2 = /^(https:\/\/[^/]+)\/([^/]+)\/v2\.0\/?$/.exec(issuer);
    if (v2) return `${v2[1]}/${v2[2]}/discovery/v2.0/keys`;
    const v1 = /^https:\/\/sts\.windows\.net\/([^/]+)\/$/.exec(issuer);
    if (v1) return `https://login.microsoftonline.com/${v1[1]}/discovery/keys`;
    return undefined;
  },
  summary:
    'Microsoft Entra ID: client in azp (v2.0) or appid (v1.0); delegated scopes in scp, app roles in roles; ID tokens have neither azp nor appid',
  facts: [
    {
      rule: 'permissions are scp (delegated, space-separated) and roles (app roles, a list; all an app-only token has)',
      source: 'https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference',
      says: 'scp: "only included for user tokens"; roles: "the client credential flow uses this set of permission in place of user scopes for application tokens"',
    },
    {
      rule: 'the client is azp (v2.0 tokens) or appid (v1.0 tokens)',
      source: 'https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference',
      says: 'appid: "only present in v1.0 tokens"; azp: "a replacement for appid", "only present in v2.0 tokens"; claims used for access token validation are always present',
    },
    {
      rule: 'a token with a nonce claim, or with neither azp nor appid, is an ID token and is refused',
      source: 'https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference',
      says: 'ID tokens carry aud (the client app), nonce and roles, and list no azp or appid claim',
    },
    {
      rule: 'idtyp, when the API enables it, is "app" for app-only tokens; it is only emitted in access tokens',
      source: 'https://learn.microsoft.com/entra/identity-platform/optional-claims-reference',
      says: 'idtyp: token type, JWT access tokens only, "app" when the token is an app-only token',
    },
    {
      rule: 'a header nonce marks a Microsoft Graph token, refused as unverifiable',
      source: 'https://learn.microsoft.com/entra/identity-platform/access-tokens',
      says: 'tokens for Microsoft Graph cannot be validated by these rules (proprietary format); APIs must only accept tokens whose aud is theirs',
    },
    {
      rule: 'v2.0 issuer https://login.microsoftonline.com/{tenant}/v2.0, keys at .../{tenant}/discovery/v2.0/keys; v1.0 issuer https://sts.windows.net/{tenant}/, keys at https://login.microsoftonline.com/{tenant}/discovery/keys',
      source: 'https://learn.microsoft.com/entra/identity-platform/access-tokens',
      says: 'v1.0 tokens (ver "1.0") are validated with the v1.0 metadata, v2.0 tokens with the v2.0 metadata; jwks_uri is https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys',
    },
  ],
};

const okta: IssuerProfile = {
  name: 'okta',
  provider: 'Okta',
  clientClaims: ['cid'],
  scopeClaims: ['scp'],
  checkTokenUse(payload) {
    if (payload.cid === undefined)
      refuse('this is an Okta ID token (no cid claim, which every Okta access token carries); send the access token');
    const marker = idTokenMarker(payload);
    if (marker !== undefined) refuse(`this is an Okta ID token (it carries ${marker}); send the access token`);
  },
  warnings({ issuer }) {
    return /\/oauth2\/[^/]+\/?$/.test(issuer)
      ? []
      : [
          `${issuer} looks like the Okta org authorization server: its access tokens are meant for Okta's own APIs; use a custom authorization server (https://{yourOktaDomain}/oauth2/{authServerId})`,
        ];
  },
  summary: 'Okta (custom authorization server): client in cid, scopes in the scp list; ID tokens carry no cid',
  facts: [
    {
      rule: 'the client is cid; permissions are the scp list',
      source: 'https://developer.okta.com/docs/reference/api/oidc/#access-token',
      says: 'reserved access token claims: cid "Client ID of the client that requested the access token", scp "Array of scopes that are granted to this access token", uid, ver',
    },
    {
      rule: 'a token without cid is an ID token (aud is the client id, with amr, idp, at_hash or nonce) and is refused',
      source: 'https://developer.okta.com/docs/reference/api/oidc/#id-token',
      says: "ID token base claims: amr, aud (one of your application's client IDs), auth_time, idp, ver …; nonce in the implicit flow, at_hash beside an access token",
    },
    {
      rule: 'org authorization server tokens (issuer without /oauth2/{id}) draw a configuration warning',
      source: 'https://developer.okta.com/docs/guides/validate-access-tokens/',
      says: 'access tokens from the org authorization server should not be consumed or validated by any app other than Okta',
    },
  ],
};

const auth0: IssuerProfile = {
  name: 'auth0',
  provider: 'Auth0',
  clientClaims: ['azp', 'client_id'],
  scopeClaims: ['scope', 'permissions'],
  checkTokenUse(payload) {
    const marker = idTokenMarker(payload);
    if (marker !== undefined) refuse(`this is an Auth0 ID token (it carries ${marker}); send the access token`);
    if (payload.azp === undefined && payload.client_id === undefined) {
      refuse(
        'this is an Auth0 ID token (no azp or client_id, which Auth0 access tokens carry); send the access token requested with audience={your API}',
      );
    }
  },
  warnings({ issuer }) {
    return issuer.endsWith('/')
      ? []
      : [`Auth0 issues iss with a trailing slash ("https://{yourDomain}/"): ${issuer} will match no Auth0 token`];
  },
  summary: 'Auth0: client in azp (Auth0 profile) or client_id (RFC 9068 profile); permissions in scope and, with RBAC, permissions',
  facts: [
    {
      rule: 'the client is azp (Auth0 token profile) or client_id (RFC 9068 token profile); iss ends with a slash',
      source: 'https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles',
      says: 'sample tokens: "iss": "https://my-domain.auth0.com/", aud a list with the API and /userinfo, "azp" (Auth0 profile) or "client_id" (RFC 9068 profile), "scope"',
    },
    {
      rule: 'permissions are scope and, when the API enables RBAC with "Add Permissions in the Access Token", permissions',
      source: 'https://auth0.com/docs/get-started/apis/enable-role-based-access-control-for-apis',
      says: 'enabling Add Permissions in the Access Token includes all permissions assigned to the user in the permissions claim',
    },
    {
      rule: 'an ID token (aud = the client id, nonce/at_hash, no azp) is refused',
      source: OIDC_CORE_ID_TOKEN,
      says: "an ID token's aud contains the client_id of the relying party; nonce and at_hash are ID token claims",
    },
  ],
};

const keycloak: IssuerProfile = {
  name: 'keycloak',
  provider: 'Keycloak',
  clientClaims: ['azp'],
  scopeClaims: ['scope'],
  checkTokenUse(payload) {
    const typ = payload.typ;
    if (typ === 'Bearer') return;
    if (typ === 'ID') refuse('this is a Keycloak ID token (typ claim "ID"); send the access token');
    refuse(`a Keycloak access token has the typ claim "Bearer", this one has ${JSON.stringify(typ ?? null).slice(0, 40)}`);
  },
  summary:
    'Keycloak: access tokens carry the typ claim "Bearer" (ID tokens "ID", refresh tokens "Refresh"); client in azp; scopes in scope',
  facts: [
    {
      rule: 'the payload claim typ must be "Bearer"; "ID" (ID token), "Refresh" and "Logout" tokens are refused',
      source: 'https://github.com/keycloak/keycloak/blob/main/common/src/main/java/org/keycloak/util/TokenUtil.java',
      says: 'TOKEN_TYPE_BEARER = "Bearer", TOKEN_TYPE_ID = "ID", TOKEN_TYPE_REFRESH = "Refresh"',
    },
    {
      rule: 'the client is azp; aud names your API only with an audience mapper (by default it is "account")',
      source: 'https://www.keycloak.org/docs/latest/server_admin/#_audience',
      says: 'the Audience mapper (or Audience Resolve from client roles) puts a client or a custom string in aud; Keycloak never adds the requesting client to aud, that is azp',
    },
    {
      rule: 'the key set is {issuer}/protocol/openid-connect/certs, found by discovery',
      source: 'https://www.keycloak.org/securing-apps/oidc-layers',
      says: "the realm's OpenID configuration is at /realms/{realm}/.well-known/openid-configuration and names jwks_uri",
    },
  ],
};

const oidc: IssuerProfile = {
  name: 'oidc',
  provider: 'OpenID Connect',
  clientClaims: ['client_id', 'azp'],
  scopeClaims: undefined,
  checkTokenUse(payload) {
    const marker = idTokenMarker(payload);
    if (marker !== undefined) refuse(`this is an OpenID Connect ID token (it carries ${marker}); send the access token`);
  },
  summary:
    'a generic OpenID Connect issuer: client in client_id or azp; scopes in scope or scp; tokens with nonce, at_hash or c_hash are ID tokens',
  facts: [
    {
      rule: 'nonce, at_hash and c_hash mark an ID token, which is refused',
      source: OIDC_CORE_ID_TOKEN,
      says: "nonce, at_hash and c_hash are ID token claims; an ID token's aud contains the relying party's client_id",
    },
    {
      rule: 'without jwksUri, the key set comes from {issuer}/.well-known/openid-configuration, whose issuer must equal the configured one',
      source: 'https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation',
      says: 'the issuer value returned MUST be identical to the Issuer URL that was used as the prefix to /.well-known/openid-configuration',
    },
  ],
};

/** Every profile, by name. */
export const PROFILES: Readonly<Record<ProfileName, IssuerProfile>> = { rfc9068, cognito, entra, okta, auth0, keycloak, oidc };

/** Whether a string names a profile. */
export function isProfileName(value: unknown): value is ProfileName {
  return typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value);
}

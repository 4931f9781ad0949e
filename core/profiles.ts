import { InvalidTokenError } from './errors';
import { Reason } from './reasons';

/**
 * Issuer profiles: what scopegate knows of each identity provider's access tokens. A profile
 * fixes the claim that names the client, the claims that grant permissions, and the rule that
 * tells the provider's access tokens from its ID tokens. The documented facts each profile
 * relies on, with their sources, are in profile-docs.ts beside this file (kept out of the
 * Lambda bundle; docs/providers.md repeats them for operators, and a test checks it does).
 */

/** The profiles an issuer may name in `issuers[].profile`. */
export const PROFILE_NAMES = ['rfc9068', 'cognito', 'entra', 'okta', 'auth0', 'keycloak', 'oidc'] as const;

/** One of {@link PROFILE_NAMES}. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** What a profile decides for its issuer; explicit configuration fields override the defaults. */
export interface IssuerProfile {
  name: ProfileName;
  /** The provider, for messages ("this is a Cognito ID token"). */
  provider: string;
  /** Claims that name the client, the first one present wins. */
  clientClaims: readonly string[];
  /**
   * Claims that grant scopes, in order: the first one the token carries grants its values,
   * the others are ignored (never a union). `undefined` means `scope`, then `scp` (RFC 9068).
   */
  scopeClaims: readonly string[] | undefined;
  /**
   * A check of the (not yet verified) header, before any key lookup: refuses tokens that no
   * one but their own audience can verify, with a reason that says so. Must not allocate.
   */
  checkHeader?: (header: Record<string, unknown>) => void;
  /** After the signature holds: refuses tokens that are not access tokens (ID tokens…). */
  checkTokenUse?: (payload: Record<string, unknown>) => void;
  /**
   * What marks a token the client obtained for itself (client credentials: no user, so no
   * user authentication that a step-up route could accept), as the provider documents it;
   * `clientId` is the token's client. Returns a constant description of the marker, else
   * `undefined`. Must not allocate. See {@link clientCredentialsMarker}, which adds RFC
   * 9068's rule for every profile.
   */
  clientCredentials?: (payload: Record<string, unknown>, clientId: string) => string | undefined;
  /** The key set URL that follows from the issuer, when the provider documents one. */
  jwksUriFor?: (issuer: string) => string | undefined;
  /** Configuration warnings for an issuer of this profile (a likely misconfiguration). */
  warnings?: (issuer: { issuer: string; audience: readonly string[]; clientIds: readonly string[] | undefined }) => string[];
}

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

/** Whether `value` is the string `prefix + middle + suffix`, without building it. */
function isComposed(value: unknown, prefix: string, middle: string, suffix: string): boolean {
  return (
    typeof value === 'string' &&
    value.length === prefix.length + middle.length + suffix.length &&
    value.startsWith(prefix) &&
    value.endsWith(suffix) &&
    value.startsWith(middle, prefix.length)
  );
}

/**
 * Whether a token is one its client obtained for itself (the client credentials grant, RFC
 * 6749 §4.4): no user took part, so no user authentication can meet a step-up route, whatever
 * `auth_time` the token carries. For every profile, a `sub` equal to the token's client (RFC
 * 9068 §2.2: without a resource owner, `sub` identifies the client); then the profile's own
 * documented marker. Returns a constant description of the marker, else `undefined`.
 */
export function clientCredentialsMarker(
  profile: IssuerProfile,
  payload: Record<string, unknown>,
  clientId: string | undefined,
): string | undefined {
  if (clientId === undefined) return profile.clientCredentials?.(payload, '');
  if (payload.sub === clientId) return 'sub is the client id (RFC 9068 §2.2)';
  return profile.clientCredentials?.(payload, clientId);
}

const rfc9068: IssuerProfile = {
  name: 'rfc9068',
  provider: 'RFC 9068',
  clientClaims: ['client_id', 'azp'],
  scopeClaims: undefined,
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.rfc9068 in profile-docs.ts.
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
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.cognito in profile-docs.ts.
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
  clientCredentials(payload) {
    if (payload.idtyp === 'app') return 'idtyp "app"';
    // scp is "only included for user tokens"; an app-only token has roles instead.
    if (payload.scp === undefined) return 'no scp (Entra puts scp in user tokens only: an app-only token)';
    return undefined;
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
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.entra in profile-docs.ts.
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
  // uid "isn't included in the access token if there is no user bound to it".
  clientCredentials: (payload) => (payload.uid === undefined ? 'no uid (Okta leaves it out when no user is bound)' : undefined),
  warnings({ issuer }) {
    return /\/oauth2\/[^/]+\/?$/.test(issuer)
      ? []
      : [
          `${issuer} looks like the Okta org authorization server: its access tokens are meant for Okta's own APIs; use a custom authorization server (https://{yourOktaDomain}/oauth2/{authServerId})`,
        ];
  },
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.okta in profile-docs.ts.
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
  // A machine-to-machine token's sub is the client id with the suffix @clients.
  clientCredentials: (payload, clientId) =>
    isComposed(payload.sub, '', clientId, '@clients') ? 'sub is {client id}@clients (Auth0 machine-to-machine)' : undefined,
  warnings({ issuer }) {
    return issuer.endsWith('/')
      ? []
      : [`Auth0 issues iss with a trailing slash ("https://{yourDomain}/"): ${issuer} will match no Auth0 token`];
  },
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.auth0 in profile-docs.ts.
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
  clientCredentials(payload, clientId) {
    // The service account's own user, service-account-{clientId} (user names are lower case),
    // and the client_id claim that the service_account client scope adds to its tokens only.
    const user = payload.preferred_username;
    if (typeof user === 'string' && user.startsWith('service-account-') && user === `service-account-${clientId.toLowerCase()}`) {
      return 'preferred_username is the service account (service-account-{clientId})';
    }
    if (payload.client_id !== undefined) return 'client_id (added to service-account tokens only)';
    return undefined;
  },
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.keycloak in profile-docs.ts.
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
  // The documented facts behind these rules, with their sources: PROFILE_DOCS.oidc in profile-docs.ts.
};

/** Every profile, by name. */
export const PROFILES: Readonly<Record<ProfileName, IssuerProfile>> = { rfc9068, cognito, entra, okta, auth0, keycloak, oidc };

/** Whether a string names a profile. */
export function isProfileName(value: unknown): value is ProfileName {
  return typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value);
}

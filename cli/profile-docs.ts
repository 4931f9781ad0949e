import type { ProfileName } from '../core/profiles';

/**
 * What each issuer profile of profiles.ts relies on, from the provider's own documentation:
 * the rule, where the provider documents it, and what the source says. Kept apart from the
 * rules so that the Lambda bundle does not carry it; `scopegate explain` prints the summary,
 * and a test checks that docs/providers.md cites every source.
 */

/** A documented fact a profile relies on. */
export interface ProfileFact {
  /** What the profile does because of it. */
  rule: string;
  /** Where the provider documents it. */
  source: string;
  /** What the source says, in short. */
  says: string;
}

/** A profile's one-line rule and the facts behind it. */
export interface ProfileDocs {
  /** The one-line rule `scopegate explain` prints for the profile. */
  summary: string;
  facts: readonly ProfileFact[];
}

const OIDC_CORE_ID_TOKEN = 'https://openid.net/specs/openid-connect-core-1_0.html#IDToken';

/** Every profile's documentation, by profile name. */
export const PROFILE_DOCS: Readonly<Record<ProfileName, ProfileDocs>> = {
  rfc9068: {
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
      {
        rule: 'a token whose sub is its own client id is a client-credentials token (every profile): it never passes a step-up route',
        source: 'https://www.rfc-editor.org/rfc/rfc9068#section-2.2',
        says: 'for grants where no resource owner is involved, such as the client credentials grant, sub SHOULD correspond to an identifier the AS uses to indicate the client application',
      },
      {
        rule: 'step-up (maxAuthAgeSeconds) reads auth_time only: a token without it never passes a step-up route',
        source: 'https://www.rfc-editor.org/rfc/rfc9068#section-2.2.1',
        says: 'auth_time: the time when the user authentication occurred; iat (RFC 7519) is when the token was issued',
      },
    ],
  },
  cognito: {
    summary: 'Amazon Cognito: access tokens carry token_use "access" and client_id (no aud); scopes in scope',
    facts: [
      {
        rule: 'token_use must be "access"; an ID token (token_use "id") is refused',
        source: 'https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html',
        says: 'the access token payload carries "token_use": "access", "client_id", "scope" and cognito:groups; the ID token carries token_use "id"',
      },
      {
        rule: 'step-up reads auth_time, which a refreshed access token keeps at the original authentication',
        source: 'https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html',
        says: 'auth_time: on refreshes, the time when the original authentication occurred, not the time when the token was issued',
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
  },
  entra: {
    summary:
      'Microsoft Entra ID: client in azp (v2.0) or appid (v1.0); scopes from scp (user tokens), else roles (app-only tokens); ID tokens have neither azp nor appid',
    facts: [
      {
        rule: 'scopes come from scp (delegated, space-separated) when the token has it, else from roles (the app roles of an app-only token); a token without scp is app-only and never passes a step-up route',
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
        rule: 'idtyp "app" marks an app-only (client credentials) token, which never passes a step-up route',
        source: 'https://learn.microsoft.com/entra/identity-platform/optional-claims-reference',
        says: 'idtyp: token type, JWT access tokens only, "app" when the token is an app-only token; the most accurate way for an API to tell an app token from an app+user token',
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
  },
  okta: {
    summary: 'Okta (custom authorization server): client in cid, scopes in the scp list; ID tokens carry no cid',
    facts: [
      {
        rule: 'the client is cid; scopes are the scp list; a token without uid (no user bound: client credentials) never passes a step-up route',
        source: 'https://developer.okta.com/docs/reference/api/oidc/#access-token',
        says: 'reserved access token claims: cid "Client ID of the client that requested the access token", scp "Array of scopes that are granted to this access token", uid (not included if no user is bound to the token), ver',
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
  },
  auth0: {
    summary:
      'Auth0: client in azp (Auth0 profile) or client_id (RFC 9068 profile); scopes from scope, permissions only when scope is absent',
    facts: [
      {
        rule: 'the client is azp (Auth0 token profile) or client_id (RFC 9068 token profile); iss ends with a slash',
        source: 'https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles',
        says: 'sample tokens: "iss": "https://my-domain.auth0.com/", aud a list with the API and /userinfo, "azp" (Auth0 profile) or "client_id" (RFC 9068 profile), "scope"',
      },
      {
        rule: 'scopes come from scope (what the client was granted); permissions, all that the user holds, only when scope is absent',
        source: 'https://auth0.com/docs/get-started/apis/enable-role-based-access-control-for-apis',
        says: 'enabling Add Permissions in the Access Token includes all permissions assigned to the user in the permissions claim',
      },
      {
        rule: 'a token whose sub is {client id}@clients is a machine-to-machine (client credentials) token and never passes a step-up route; gty is not relied on',
        source: 'https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles',
        says: 'sub: for Machine-to-Machine apps using Client Credentials (no end user), a unique identifier for the app, the client ID with the suffix @clients; gty: only present for password and refresh_token',
      },
      {
        rule: 'an ID token (aud = the client id, nonce/at_hash, no azp) is refused',
        source: OIDC_CORE_ID_TOKEN,
        says: "an ID token's aud contains the client_id of the relying party; nonce and at_hash are ID token claims",
      },
    ],
  },
  keycloak: {
    summary:
      'Keycloak: access tokens carry the typ claim "Bearer" (ID tokens "ID", refresh tokens "Refresh"); client in azp; scopes in scope',
    facts: [
      {
        rule: 'the payload claim typ must be "Bearer"; "ID" (ID token), "Refresh" and "Logout" tokens are refused',
        source: 'https://github.com/keycloak/keycloak/blob/main/common/src/main/java/org/keycloak/util/TokenUtil.java',
        says: 'TOKEN_TYPE_BEARER = "Bearer", TOKEN_TYPE_ID = "ID", TOKEN_TYPE_REFRESH = "Refresh"',
      },
      {
        rule: 'a service-account token (preferred_username service-account-{clientId}, or a client_id claim) never passes a step-up route',
        source:
          'https://github.com/keycloak/keycloak/blob/main/common/src/main/java/org/keycloak/common/constants/ServiceAccountConstants.java',
        says: 'SERVICE_ACCOUNT_USER_PREFIX = "service-account-"; the service_account client scope maps the client_id session note of a client credentials grant (CLIENT_ID = "client_id")',
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
  },
  oidc: {
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
  },
};

import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ScopeAuthorizerIssuer } from './issuer';

/**
 * An Amazon Cognito user pool as a trusted issuer of the scope authorizer: its access
 * tokens, from the given app clients only. The rest follows from the pool (see
 * docs/providers.md): the issuer `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`,
 * the key set `{issuer}/.well-known/jwks.json`, the `cognito` profile (`token_use` must be
 * `access`, the client is `client_id`, scopes are `scope`), and the clients' ids as
 * `clientIds`, which stand in for the `aud` that Cognito access tokens do not carry.
 */
export interface CognitoUserPoolIssuer {
  /** The user pool whose access tokens are accepted. */
  readonly userPool: IUserPool;
  /** The app clients whose access tokens are accepted; tokens of other clients are refused (401). */
  readonly clients: IUserPoolClient[];
  /**
   * Claims whose values are granted as scopes, e.g. `['scope', 'cognito:groups']` to route by
   * group membership as well.
   * @default 'scope'
   */
  readonly scopeClaim?: string | string[];
  /**
   * The key set URL, e.g. the JWKS distribution's mirror of the pool's key set.
   * @default `{issuer}/.well-known/jwks.json`, the pool's own
   */
  readonly jwksUri?: string;
}

/** Whether an issuer of the construct's props is a Cognito user pool. */
export function isCognitoUserPoolIssuer(issuer: ScopeAuthorizerIssuer | CognitoUserPoolIssuer): issuer is CognitoUserPoolIssuer {
  return (issuer as CognitoUserPoolIssuer).userPool !== undefined;
}

/**
 * The configuration of a Cognito user pool issuer. `userPoolProviderName` is
 * `cognito-idp.{region}.{urlSuffix}/{userPoolId}` for created and imported pools alike, so the
 * issuer resolves at deploy time. Throws when no client is given: an issuer without
 * `clientIds` (Cognito access tokens have no `aud`) would accept every token of the pool.
 */
export function cognitoIssuerConfig(pool: CognitoUserPoolIssuer): ScopeAuthorizerIssuer {
  if (pool.clients.length === 0) {
    throw new Error('a Cognito user pool issuer needs at least one app client: Cognito access tokens carry no aud, only client_id');
  }
  return {
    issuer: `https://${pool.userPool.userPoolProviderName}`,
    profile: 'cognito',
    clientIds: pool.clients.map((client) => client.userPoolClientId),
    ...(pool.jwksUri !== undefined ? { jwksUri: pool.jwksUri } : {}),
    ...(pool.scopeClaim !== undefined ? { scopeClaim: pool.scopeClaim } : {}),
  };
}

/**
 * The issuer of a Cognito user pool id (`{region}_{id}`), in the region format Cognito
 * issues by default: `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`. Throws for a
 * string that is not a user pool id.
 */
export function cognitoIssuerUrl(userPoolId: string): string {
  const match = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/.exec(userPoolId);
  if (!match) throw new Error(`${JSON.stringify(userPoolId)} is not a Cognito user pool id ({region}_{id})`);
  return `https://cognito-idp.${match[1]}.amazonaws.com/${userPoolId}`;
}

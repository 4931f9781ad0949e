import { isIP } from 'node:net';
import type { AuthorizerConfig, IssuerConfig } from '../core/config';
import { clientCredentialsMarker, PROFILES, type ProfileName } from '../core/profiles';
import { grantedScopes, scopeClaimOf } from '../core/scopes';
import { checkAudience, checkClient, checkTimes, clientOf, optionalNumber } from '../functions/authorizer/claims';
import { decodeJwt } from '../functions/authorizer/token';
import type { TokenFacts } from './probe-plan';

/** Whether a URL may carry the token: HTTPS, or HTTP to a loopback address. */
export function checkStageUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('--url is not a URL');
  }
  if (url.username || url.password) throw new Error('--url must not carry credentials');
  if (url.search || url.hash) throw new Error('--url is the stage URL, without a query or fragment');
  if (url.protocol === 'https:') return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (url.protocol === 'http:' && loopback) return url;
  throw new Error(`refusing to send the token to ${url.protocol}//${url.host}: only https://, or http:// to a loopback address`);
}

/** A token or argument the probe cannot go on with (exit status 2). */
export class UsageError extends Error {}

/** The token's facts for the prediction, read as the authorizer reads them; throws a {@link UsageError} for a token API Gateway would refuse outright. */
export function readToken(
  token: string,
  config: AuthorizerConfig,
  issuersGiven: boolean,
  profileName: ProfileName,
): { facts: TokenFacts; issuer: IssuerConfig | undefined; profile: ProfileName; scopeClaim: string | undefined; exp: number } {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = decodeJwt(token));
  } catch (error) {
    throw new UsageError(
      `the token is not a JWT (${(error as Error).message}): probe predicts from its claims, which an opaque token does not show`,
    );
  }
  const nowSeconds = Date.now() / 1000;
  let issuer: IssuerConfig | undefined;
  let exp: number;
  try {
    exp = checkTimes(payload, nowSeconds, config.clockToleranceSeconds, true) as number;
    if (issuersGiven) {
      issuer = config.issuers.find((i) => i.issuer === payload.iss);
      if (issuer === undefined) {
        throw new UsageError(
          `the token's iss ${JSON.stringify(String(payload.iss).slice(0, 200))} names no configured issuer (${config.issuers.map((i) => i.issuer).join(', ')})`,
        );
      }
      PROFILES[issuer.profile].checkTokenUse?.(payload);
      if (issuer.audience.length > 0) checkAudience(payload.aud, issuer.audience);
      checkClient(issuer, clientOf(payload, issuer.clientClaims));
    }
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`API Gateway would answer 401 to every request: ${error.message}`);
    throw new UsageError(
      `API Gateway would answer 401 to every request: ${(error as Error).message} (scopegate explain --token … says more)`,
    );
  }
  const profile = PROFILES[issuer?.profile ?? profileName];
  const claims = issuer ? issuer.scopeClaims : profile.scopeClaims;
  let scopes: string[];
  try {
    scopes = grantedScopes(payload, claims);
  } catch (error) {
    throw new UsageError(`API Gateway would answer 401 to every request: ${(error as Error).message}`);
  }
  const authTime = optionalNumber(payload, 'auth_time');
  const clientId = clientOf(payload, issuer?.clientClaims ?? profile.clientClaims);
  const userAuth = authTime !== undefined && clientCredentialsMarker(profile, payload, clientId) === undefined ? authTime : undefined;
  return {
    facts: { scopes: new Set(scopes), authTime: userAuth },
    issuer,
    profile: profile.name,
    scopeClaim: scopeClaimOf(payload, claims),
    exp,
  };
}

/** What a JWT looks like in text: three base64url runs joined by dots. */
const JWT_SHAPE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

/**
 * `out` that never prints the token: the `--token` value, and anything shaped like a JWT (a
 * token given as a stray argument comes back in the parser's message).
 */
export function redacting(argv: readonly string[], out: (text: string) => void): (text: string) => void {
  const secrets = argv.flatMap((arg, i) => {
    if (arg.startsWith('--token=')) return [arg.slice('--token='.length)];
    return arg === '--token' && argv[i + 1] !== undefined ? [argv[i + 1] as string] : [];
  });
  return (text) => {
    let safe = text;
    for (const secret of secrets) if (secret.length > 0) safe = safe.split(secret).join('[token]');
    out(safe.replace(JWT_SHAPE, '[token]'));
  };
}

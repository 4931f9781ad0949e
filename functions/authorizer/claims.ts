/**
 * The claim rules of an access token, each once: a verified JWT's payload and an active
 * introspection answer (RFC 7662 §2.2) are checked by the same functions (as jose keeps
 * each rule once in `jwt_claims_set.ts`). Each throws an {@link InvalidTokenError} with
 * the reason that the decision log and the 401 carry.
 */

import type { IssuerConfig } from '../../core/config';
import { InvalidTokenError } from '../../core/errors';
import { isJsonObject, type JsonObject } from '../../core/json';
import { Reason } from '../../core/reasons';

/** A claim that must be a string when present. */
export function optionalString(claims: JsonObject, claim: string): string | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidTokenError(Reason.Claims, `the ${claim} claim is not a string`);
  return value;
}

/** A claim that must be a finite number when present (`exp`, `nbf`, `iat`, `auth_time`). */
export function optionalNumber(claims: JsonObject, claim: string): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new InvalidTokenError(Reason.Claims, `the ${claim} claim is not a number`);
  return value;
}

/**
 * `exp` and `nbf` against the clock, with the tolerance: an `exp` in the past or an `nbf` in
 * the future is refused, and so is a missing `exp` when `requireExp`. Returns `exp`.
 */
export function checkTimes(claims: JsonObject, nowSeconds: number, toleranceSeconds: number, requireExp: boolean): number | undefined {
  const exp = optionalNumber(claims, 'exp');
  if (exp === undefined && requireExp) throw new InvalidTokenError(Reason.MissingExp, 'the token has no exp');
  if (exp !== undefined && exp + toleranceSeconds < nowSeconds) throw new InvalidTokenError(Reason.Expired, 'the token has expired');
  const nbf = optionalNumber(claims, 'nbf');
  if (nbf !== undefined && nbf - toleranceSeconds > nowSeconds)
    throw new InvalidTokenError(Reason.NotYetValid, 'the token is not valid yet');
  return exp;
}

/**
 * The audience rule (RFC 7519 §4.1.3, RFC 9068 §4): `aud`, a string or a list of strings,
 * must contain one of `audience`. Nothing is checked when `audience` is empty (an issuer
 * configured by `clientIds` alone). A missing `aud` is refused as `invalid_token.audience`
 * with the message `whenMissing`; an `aud` that is neither a string nor a list of strings
 * as `invalid_token.claims`. Allocates nothing on the way to an answer (the hot path).
 */
export function checkAudience(aud: unknown, audience: readonly string[], whenMissing = 'the aud claim is missing or malformed'): void {
  if (audience.length === 0) return;
  if (aud === undefined) throw new InvalidTokenError(Reason.Audience, whenMissing);
  if (typeof aud === 'string') {
    if (audience.includes(aud)) return;
  } else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) {
    if (aud.some((a) => audience.includes(a))) return;
  } else {
    throw new InvalidTokenError(Reason.Claims, 'the aud claim is missing or malformed');
  }
  throw new InvalidTokenError(Reason.Audience, 'the token is not for this audience');
}

/**
 * The types of the registered claims a JWT's payload is not otherwise read for here, when
 * present: `jti` (RFC 7519 §4.1.7) and `scope` (RFC 9068 §2.2.3) are strings, whether or not
 * this issuer reads scopes from `scope`. (aws-jwt-verify checked them when it decoded tokens
 * itself; `iss`, `sub`, `aud`, `exp`, `nbf` and `iat` are checked where they are read.)
 */
export function checkClaimTypes(claims: JsonObject): void {
  optionalString(claims, 'jti');
  if (claims.scope !== undefined && typeof claims.scope !== 'string') {
    throw new InvalidTokenError(Reason.Claims, 'the scope claim is not a string');
  }
}

/** The confirmation claim (RFC 7800), an object when present. */
export function confirmation(claims: JsonObject): JsonObject | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  if (!isJsonObject(cnf)) throw new InvalidTokenError(Reason.Claims, 'the cnf claim is not an object');
  return cnf;
}

/** The token's client: the first of the issuer's client claims present, as a string. */
export function clientOf(claims: JsonObject, clientClaims: readonly string[]): string | undefined {
  for (const claim of clientClaims) {
    const value = optionalString(claims, claim);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** `clientIds`, when configured, must name the token's client. */
export function checkClient(issuer: IssuerConfig, clientId: string | undefined): void {
  if (issuer.clientIds === undefined) return;
  if (clientId === undefined) {
    throw new InvalidTokenError(Reason.Client, `the token names no client (${issuer.clientClaims.join(' or ')}), and clientIds is set`);
  }
  if (!issuer.clientIds.includes(clientId)) {
    throw new InvalidTokenError(Reason.Client, `client ${clientId.slice(0, 100)} is not one of this issuer's clientIds`);
  }
}

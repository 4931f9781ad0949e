import { InvalidTokenError } from './errors';
import { Reason } from './reasons';

/** A claim scopes or permissions are read from (`scope`, `scp`, `roles`, `permissions`, `cognito:groups`…). */
export type ScopeClaim = string;

/** RFC 6749 §3.3 scope-token: one or more of %x21 / %x23-5B / %x5D-7E (no space, `"` or `\`). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Whether `value` is an RFC 6749 scope token. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

function notTokens(claim: ScopeClaim): InvalidTokenError {
  // A value with a space would make `["a b"]` read like `["a", "b"]`: refused, not split.
  return new InvalidTokenError(Reason.Claims, `the ${claim} claim holds a value that is not an RFC 6749 scope token`);
}

function fromClaim(value: unknown, claim: ScopeClaim): string[] {
  // `scope` is a string (RFC 9068 §2.2.3); other permission claims (scp, roles, permissions,
  // cognito:groups) may also be lists of strings.
  const list = typeof value === 'string' ? value.split(' ').filter((s) => s.length > 0) : value;
  if ((typeof value === 'string' || claim !== 'scope') && Array.isArray(list) && list.every((s) => typeof s === 'string')) {
    let tokens = true;
    for (const s of list as string[]) if (!SCOPE_TOKEN.test(s)) tokens = false;
    if (tokens) return list as string[];
    if (claim === 'scope' || claim === 'scp') throw notTokens(claim);
    // Other permission claims name groups or roles, which may hold characters a scope token
    // cannot (a Cognito group name may be non-ASCII): such a value can never equal a configured
    // scope, so it is left out rather than failing the token.
    return (list as string[]).filter((s) => SCOPE_TOKEN.test(s));
  }
  throw new InvalidTokenError(
    Reason.Claims,
    claim === 'scope' ? 'the scope claim is not a string' : `the ${claim.slice(0, 40)} claim is not a string or a list of strings`,
  );
}

/** The claims scopes are read from when neither the profile nor `scopeClaim` names any: RFC 9068's `scope`, then `scp`. */
export const DEFAULT_SCOPE_CLAIMS: readonly ScopeClaim[] = ['scope', 'scp'];

/**
 * The claim a token's scopes come from: the first of `claims` (the issuer's list, in order)
 * that the token carries, else `undefined`. The others are never read: a user's entitlements
 * (Auth0 `permissions`, Entra `roles` beside `scp`) are not the client's grant (RFC 6749
 * §3.3). Allocates nothing.
 */
export function scopeClaimOf(payload: Record<string, unknown>, claims: readonly ScopeClaim[] | undefined): ScopeClaim | undefined {
  const list = claims === undefined || claims.length === 0 ? DEFAULT_SCOPE_CLAIMS : claims;
  for (let i = 0; i < list.length; i++) {
    const claim = list[i] as ScopeClaim;
    if (payload[claim] !== undefined) return claim;
  }
  return undefined;
}

/**
 * The scopes one claim grants: `scope` is a space-delimited string (RFC 6749 §3.3, RFC 9068
 * §2.2.3), `scp` a list or a string; `undefined` reads the first of `scope` and `scp` the
 * token carries. Scope names are compared exactly: no case folding, no prefix or wildcard
 * matching. Every value of `scope` and `scp` must be an RFC 6749 scope token (else
 * `invalid_token.claims`); values of other permission claims that are not are left out. So
 * the scopes joined by a space name one list only: the memo key of {@link scopeKey}.
 */
export function readScopes(payload: Record<string, unknown>, claim: ScopeClaim | undefined): string[] {
  const from = claim ?? scopeClaimOf(payload, DEFAULT_SCOPE_CLAIMS);
  return from === undefined || payload[from] === undefined ? [] : fromClaim(payload[from], from);
}

/**
 * The scopes a token grants from its issuer's permission claims: every value of ONE claim,
 * the first of `claims` the token carries ({@link scopeClaimOf}), read by {@link readScopes};
 * never a union of several (Auth0: `permissions` only without `scope`; Entra: `roles` only
 * without `scp`, on app-only tokens). `undefined` claims mean `scope`, then `scp`.
 */
export function grantedScopes(payload: Record<string, unknown>, claims: readonly ScopeClaim[] | undefined): string[] {
  const claim = scopeClaimOf(payload, claims);
  return claim === undefined ? [] : fromClaim(payload[claim], claim);
}

/**
 * A memo key for a list of scopes that no other list shares: the scopes joined by a space
 * when each is a scope token (no space, never empty), which {@link readScopes} guarantees;
 * otherwise a newline and their JSON, which no join of scope tokens can equal (a scope
 * token holds no newline).
 */
export function scopeKey(scopes: readonly string[]): string {
  let key = '';
  for (let i = 0; i < scopes.length; i++) {
    const s = scopes[i] as string;
    if (!SCOPE_TOKEN.test(s)) return `\n${JSON.stringify(scopes)}`;
    key = i === 0 ? s : `${key} ${s}`;
  }
  return key;
}

/** The required scopes a token lacks, in the route's order. */
export function missingScopes(required: readonly string[], granted: ReadonlySet<string>): string[] {
  return required.filter((s) => !granted.has(s));
}

/** Whether the granted scopes meet one of the alternatives (each: all of its scopes). */
export function satisfiesAnyOf(anyOf: readonly (readonly string[])[], granted: ReadonlySet<string>): boolean {
  return anyOf.some((set) => set.every((s) => granted.has(s)));
}

/** What each alternative lacks, in the route's order (an alternative that is met lacks `[]`). */
export function missingAnyOf(anyOf: readonly (readonly string[])[], granted: ReadonlySet<string>): string[][] {
  return anyOf.map((set) => missingScopes(set, granted));
}

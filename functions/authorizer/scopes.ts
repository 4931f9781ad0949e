import { InvalidTokenError } from '../shared/errors';
import { Reason } from '../shared/reasons';
import type { ScopeClaim } from './config';

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

/**
 * The scopes a token grants: `scope` is a space-delimited string (RFC 6749 §3.3, RFC 9068
 * §2.2.3), `scp` a list or a string. With no claim configured, `scope` then `scp`. Scope
 * names are compared exactly: no case folding, no prefix or wildcard matching. Every value
 * of `scope` and `scp` must be an RFC 6749 scope token (else `invalid_token.claims`); values
 * of other permission claims that are not are left out. So the scopes joined by a space name
 * one list only: the memo key of {@link scopeKey}.
 */
export function readScopes(payload: Record<string, unknown>, claim: ScopeClaim | undefined): string[] {
  if (claim !== undefined) return payload[claim] === undefined ? [] : fromClaim(payload[claim], claim);
  if (payload.scope !== undefined) return fromClaim(payload.scope, 'scope');
  if (payload.scp !== undefined) return fromClaim(payload.scp, 'scp');
  return [];
}

/**
 * The scopes a token grants from its issuer's permission claims: every value of each claim
 * (Entra `scp` and `roles`, Auth0 `scope` and `permissions`…), each claim read by
 * {@link readScopes}; `undefined` claims mean `scope`, then `scp`.
 */
export function grantedScopes(payload: Record<string, unknown>, claims: readonly string[] | undefined): string[] {
  if (claims === undefined || claims.length === 0) return readScopes(payload, undefined);
  if (claims.length === 1) return readScopes(payload, claims[0]);
  const granted: string[] = [];
  for (const claim of claims) {
    if (payload[claim] === undefined) continue;
    for (const scope of readScopes(payload, claim)) if (!granted.includes(scope)) granted.push(scope);
  }
  return granted;
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

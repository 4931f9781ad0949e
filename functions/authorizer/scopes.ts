import { InvalidTokenError } from '../shared/errors';
import { Reason } from '../shared/reasons';
import type { ScopeClaim } from './config';

function fromClaim(value: unknown, claim: ScopeClaim): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  // `scope` is a string (RFC 9068 §2.2.3); other permission claims (scp, roles, permissions,
  // cognito:groups) may also be lists of strings.
  if (claim !== 'scope' && Array.isArray(value) && value.every((s) => typeof s === 'string')) return value as string[];
  throw new InvalidTokenError(
    Reason.Claims,
    claim === 'scope' ? 'the scope claim is not a string' : `the ${claim.slice(0, 40)} claim is not a string or a list of strings`,
  );
}

/**
 * The scopes a token grants: `scope` is a space-delimited string (RFC 6749 §3.3, RFC 9068
 * §2.2.3), `scp` a list or a string. With no claim configured, `scope` then `scp`. Scope
 * names are compared exactly: no case folding, no prefix or wildcard matching.
 */
export function readScopes(payload: Record<string, unknown>, claim: ScopeClaim | undefined): string[] {
  if (claim !== undefined) return payload[claim] === undefined ? [] : fromClaim(payload[claim], claim);
  if (payload.scope !== undefined) return fromClaim(payload.scope, 'scope');
  if (payload.scp !== undefined) return fromClaim(payload.scp, 'scp');
  return [];
}

/** The required scopes a token lacks, in the route's order. */
export function missingScopes(required: readonly string[], granted: ReadonlySet<string>): string[] {
  return required.filter((s) => !granted.has(s));
}

/**
 * Stable reason codes written in every decision log line and counted as metrics.
 * `invalid_token.*` codes become a 401, `insufficient_scope`, `step_up_required`,
 * `no_route` and `over_deny` a Deny (403), `keys_unavailable`, `introspection_unavailable`, `config_unavailable` and
 * `internal_error` a 500.
 */
export const Reason = {
  Allow: 'allow',
  InsufficientScope: 'insufficient_scope',
  StepUpRequired: 'step_up_required',
  NoRoute: 'no_route',
  /**
   * The token satisfies the route, but no exact cached policy exists for what it satisfies, and
   * the configuration accepts that this route's requests be denied (`acceptOverDeny`): the
   * decision follows the policy API Gateway caches.
   */
  OverDeny: 'over_deny',
  Missing: 'invalid_token.missing',
  Scheme: 'invalid_token.scheme',
  TooLarge: 'invalid_token.too_large',
  Malformed: 'invalid_token.malformed',
  Algorithm: 'invalid_token.algorithm',
  Crit: 'invalid_token.crit',
  Type: 'invalid_token.type',
  Issuer: 'invalid_token.issuer',
  UnknownKid: 'invalid_token.unknown_kid',
  KeyMismatch: 'invalid_token.key_mismatch',
  WeakKey: 'invalid_token.weak_key',
  Signature: 'invalid_token.signature',
  Expired: 'invalid_token.expired',
  MissingExp: 'invalid_token.missing_exp',
  NotYetValid: 'invalid_token.not_yet_valid',
  IssuedInFuture: 'invalid_token.issued_in_future',
  Audience: 'invalid_token.audience',
  Claims: 'invalid_token.claims',
  Inactive: 'invalid_token.inactive',
  SenderConstraint: 'invalid_token.sender_constraint',
  Dpop: 'invalid_token.dpop',
  /** Not an access token by the issuer profile's rule (an ID token, a refresh token, …). */
  TokenUse: 'invalid_token.token_use',
  /** The token's client (the profile's client claim) is missing or not in `clientIds`. */
  Client: 'invalid_token.client',
  /** A token only its own audience can verify (a Microsoft Graph token, with a `nonce` header). */
  Unverifiable: 'invalid_token.unverifiable',
  KeysUnavailable: 'keys_unavailable',
  IntrospectionUnavailable: 'introspection_unavailable',
  ConfigUnavailable: 'config_unavailable',
  Internal: 'internal_error',
} as const;

/** One of the {@link Reason} codes. */
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Reason codes that mean the token itself is not acceptable (HTTP 401). */
export type InvalidTokenReason = Extract<ReasonCode, `invalid_token.${string}`>;

/**
 * What API Gateway is answered for a reason: a policy (an Allow, or a Deny it turns into a
 * 403), a 401 (`invalid_token.*`), or a 500 (everything else). The one mapping from reason
 * to outcome.
 */
export function outcomeOf(reason: ReasonCode): 'policy' | 'unauthorized' | 'error' {
  if (reason.startsWith('invalid_token.')) return 'unauthorized';
  return reason === Reason.Allow ||
    reason === Reason.InsufficientScope ||
    reason === Reason.StepUpRequired ||
    reason === Reason.NoRoute ||
    reason === Reason.OverDeny
    ? 'policy'
    : 'error';
}

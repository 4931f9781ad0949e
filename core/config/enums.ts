/**
 * The configuration's enumerations and constants: HTTP methods, enforcement modes, unrouted
 * requests and the HTTP API `$default` route. Shared by the authorizer, the OpenAPI reader,
 * the CLI, the proof and the CDK constructs.
 */
/** HTTP methods API Gateway REST APIs route (its `ANY` is `*` here). */
export const HTTP_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];
/**
 * Whether a decision is enforced, or only logged. The one declaration, used by the authorizer,
 * the OpenAPI reader, the CLI and the CDK constructs; the values are the configuration's.
 */
export enum Enforcement {
  /** Deny what the route table does not allow (the default). */
  ENFORCE = 'enforce',
  /**
   * Let every request with a valid token through and log the decision that would have been
   * made (`enforced: false`), counted in the `WouldDeny` metric: a rollout on a live API.
   * Invalid tokens are refused all the same.
   */
  REPORT_ONLY = 'report-only',
}

/** The values of {@link Enforcement}. */
export const ENFORCEMENTS: readonly Enforcement[] = Object.values(Enforcement);

/**
 * Whether a request that no route matches can reach the authorizer, and so its cached policy.
 */
export enum Unrouted {
  /**
   * It can (an imported API, a `{proxy+}` resource in front of an app that routes itself, a
   * hand-written configuration): such a request is denied, by the decision and by every
   * policy returned. The default.
   */
  DENY = 'deny',
  /**
   * It cannot: API Gateway's resources are exactly the route table (the construct created
   * them), so API Gateway answers such a request itself and a policy may leave it either way.
   */
  UNREACHABLE = 'unreachable',
}

/** The values of {@link Unrouted}. */
export const UNROUTED_VALUES: readonly Unrouted[] = Object.values(Unrouted);

/**
 * The HTTP API catch-all route (`routeKey` `$default`), written `{"method": "*", "path":
 * "$default"}`. It has no resource path: REST APIs and the policy compiler never see it.
 */
export const DEFAULT_ROUTE_PATH = '$default';

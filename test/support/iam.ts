import { type RouteLike, resolveRoute } from '../../functions/authorizer/routes';

/** The IAM evaluator lives beside the sandbox gateway, which evaluates policies the same way. */
export { type EvaluablePolicy, evaluate } from '../../sandbox/iam';

/**
 * The route a REST API invokes for a request, as API Gateway routes it: a trailing slash is
 * dropped (`/x/` reaches the resource `/x`); what it does with other empty segments
 * (`/a//b`, `//a`) is not documented, so those may reach any route (`'any'`). `-1` when no
 * route matches. Written for the tests, beside the authorizer's own `resolveRoute`.
 */
export function gatewayRoute(routes: readonly RouteLike[], method: string, segments: readonly string[]): number | 'any' {
  const trimmed = segments.length > 0 && segments[segments.length - 1] === '' ? segments.slice(0, -1) : segments;
  if (trimmed.some((s) => s.length === 0)) return 'any';
  return resolveRoute(routes, method, trimmed);
}

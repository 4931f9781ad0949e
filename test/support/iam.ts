/** The IAM evaluator lives beside the sandbox gateway, which evaluates policies the same way. */
export { type EvaluablePolicy, evaluate } from '../../sandbox/iam';

/** The methods API Gateway's `ANY` method stands for (REST and HTTP APIs). */
const ANY_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/** A route as the tests' gateway model reads it: a method (or `*` / `ANY`) and a resource path template. */
export interface GatewayRoute {
  method: string;
  path: string;
}

/**
 * The specificity of a template that matches `segments`, as a string that sorts the most
 * specific first (or `undefined` when it does not match): per segment `0` for a literal, `1`
 * for `{name}`, `2` for `{name+}` (API Gateway: "the most specific match", a literal before a
 * path variable before a greedy one, left to right).
 */
function specificity(path: string, segments: readonly string[]): string | undefined {
  const parts = path === '/' ? [] : path.slice(1).split('/');
  let rank = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part.startsWith('{') && part.endsWith('+}')) {
      // A greedy variable takes one or more of the remaining segments.
      return i < segments.length ? `${rank}2` : undefined;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith('{')) rank += '1';
    else if (part === segment) rank += '0';
    else return undefined;
  }
  return parts.length === segments.length ? rank : undefined;
}

/**
 * The route a REST API invokes for a request, as API Gateway's documentation describes its
 * routing, written for the tests apart from the authorizer's own routing (routes.ts), so that
 * the two cannot share a mistake: a trailing slash is dropped (`/x/` reaches `/x`); what API
 * Gateway does with other empty segments (`/a//b`, `//a`) is not documented, so those may
 * reach any route (`'any'`); the most specific template wins, and on the same template an
 * exact method beats `ANY`. `-1` when no route matches.
 */
export function gatewayRoute(routes: readonly GatewayRoute[], method: string, segments: readonly string[]): number | 'any' {
  const trimmed = segments.length > 0 && segments[segments.length - 1] === '' ? segments.slice(0, -1) : segments;
  if (trimmed.some((s) => s.length === 0)) return 'any';
  let best = -1;
  let bestKey = '';
  routes.forEach((route, i) => {
    const any = route.method === '*' || route.method.toUpperCase() === 'ANY';
    if (!(any ? ANY_METHODS.includes(method) : route.method === method)) return;
    const rank = specificity(route.path, trimmed);
    if (rank === undefined) return;
    const key = `${rank} ${any ? 1 : 0}`;
    if (best === -1 || key < bestKey) {
      best = i;
      bestKey = key;
    }
  });
  return best;
}

/**
 * API Gateway's routing as its documentation describes it: the proof's own reading, written
 * apart from the authorizer's (core/routes.ts and core/config/), so that a
 * mistake there is not repeated here. What the documentation says, and what we made of it:
 *
 * - Resource paths (REST "Set up API resources"; HTTP API "Working with path variables"): a
 *   path is a tree of parts under the root `/`; `{name}` is a path variable and stands for one
 *   part; `{name+}` is a greedy path variable ("`/parent/{proxy+}` stands for any resource
 *   matching `/parent/*`": one part or more) and must be the last part ("a proxy resource
 *   cannot have any child resource").
 * - Precedence (REST "Use a proxy resource to streamline API setup": "a method request against
 *   a specific resource takes precedence over a method request against a generic resource at
 *   the same level of the resource hierarchy"; HTTP API "Routing API requests": "the
 *   most-specific match", a full match before a greedy one): going down the levels, at the
 *   first level where two matching resources differ, a fixed part beats `{name}`, which beats
 *   `{name+}`.
 * - Methods (REST "Set up an HTTP method"): `ANY` stands for DELETE, GET, HEAD, OPTIONS,
 *   PATCH, POST and PUT; on one resource, a method defined for it beats `ANY` (HTTP API:
 *   "ANY ... match all methods that you haven't defined for a resource").
 * - Trailing slash: API Gateway routes `/x/` as `/x`. An empty part anywhere else (`//x`,
 *   `/a//b`) is not documented: the proof assumes nothing of where such a request goes, so a
 *   policy must deny it (see {@link requestShape}).
 *
 * Stage, custom domains and URL decoding come before this and are outside the model.
 */

/** The methods `ANY` stands for (REST "Set up an HTTP method"), in the documentation's order. */
export const ANY_METHODS: readonly string[] = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/** One level of a resource path. */
export type PathPart = { kind: 'fixed'; text: string } | { kind: 'variable' } | { kind: 'greedy' };

/** A resource path as the proof reads it. */
export interface ResourcePath {
  /** The parts below the root (none for `/`). */
  parts: readonly PathPart[];
  /**
   * Per level, how generic the part is (`0` fixed, `1` `{name}`, `2` `{name+}`): of two
   * resources that match one request, the smaller string is the more specific.
   */
  rank: string;
}

/** A route as the proof reads it: a method (or `*`, API Gateway's `ANY`) and a resource path. */
export interface GatewayRoute {
  method: string;
  path: string;
}

const GENERIC = { fixed: '0', variable: '1', greedy: '2' } as const;

/** Read a resource path (`/config/{name}/secrets`). Throws on what the documentation rules out. */
export function readResourcePath(path: string): ResourcePath {
  if (path[0] !== '/') throw new Error(`a resource path starts at the root "/": ${JSON.stringify(path)}`);
  const texts = path === '/' ? [] : path.slice(1).split('/');
  const parts = texts.map((text, level): PathPart => {
    if (text === '') throw new Error(`a resource path has no empty part: ${JSON.stringify(path)}`);
    if (!text.startsWith('{')) return { kind: 'fixed', text };
    if (!text.endsWith('}') || text.length < 3) throw new Error(`unclosed path variable ${JSON.stringify(text)}`);
    if (!text.endsWith('+}')) return { kind: 'variable' };
    if (level !== texts.length - 1) throw new Error(`a greedy path variable has no child resource: ${JSON.stringify(path)}`);
    return { kind: 'greedy' };
  });
  return { parts, rank: parts.map((p) => GENERIC[p.kind]).join('') };
}

/** Whether a route's method takes a request's method: the same, or `ANY` standing for it. */
export function methodMatches(routeMethod: string, method: string): boolean {
  return routeMethod === '*' || routeMethod === 'ANY' ? ANY_METHODS.includes(method) : routeMethod === method;
}

function isAny(routeMethod: string): boolean {
  return routeMethod === '*' || routeMethod === 'ANY';
}

/**
 * Whether route `a` takes a request that both match away from `b`: its resource is more
 * specific at the first level where they differ, or, on one resource, `a` names the method
 * and `b` is `ANY`.
 */
export function takesPrecedence(a: { method: string; resource: ResourcePath }, b: { method: string; resource: ResourcePath }): boolean {
  if (a.resource.rank !== b.resource.rank) return a.resource.rank < b.resource.rank;
  return !isAny(a.method) && isAny(b.method);
}

/** Whether a resource path matches the parts of a request path (no empty part among them). */
export function resourceMatches(resource: ResourcePath, parts: readonly string[]): boolean {
  const last = resource.parts[resource.parts.length - 1];
  if (last?.kind === 'greedy') {
    if (parts.length < resource.parts.length) return false;
  } else if (parts.length !== resource.parts.length) return false;
  return resource.parts.every((p, level) => p.kind !== 'fixed' || p.text === parts[level]);
}

/** What a request path is, as far as routing goes. */
export type RequestShape =
  /** No empty part (or the root `/`): routed as it is. */
  | { kind: 'canonical'; parts: string[] }
  /** One trailing `/` after a part: routed as the path without it. */
  | { kind: 'trailing-slash'; parts: string[] }
  /** An empty part elsewhere: where API Gateway sends it is not documented. */
  | { kind: 'undocumented' };

/** The shape of a request path (`/a/b`, `/a/b/`, `/a//b`). */
export function requestShape(path: string): RequestShape {
  if (path === '/') return { kind: 'canonical', parts: [] };
  const parts = path.slice(1).split('/');
  let kind: 'canonical' | 'trailing-slash' = 'canonical';
  if (parts.length > 1 && parts[parts.length - 1] === '') {
    parts.pop();
    kind = 'trailing-slash';
  }
  return path[0] !== '/' || parts.includes('') ? { kind: 'undocumented' } : { kind, parts };
}

/**
 * The route API Gateway invokes for a request (`GET`, `/a/b/`), by the rules above, read
 * directly (the proof's automata are checked against this): its index, `-1` when no route
 * matches, `'undocumented'` when the path has an empty part that is not one trailing `/`.
 */
export function gatewayRouteOf(routes: readonly GatewayRoute[], method: string, path: string): number | 'undocumented' {
  const shape = requestShape(path);
  if (shape.kind === 'undocumented') return 'undocumented';
  let best = -1;
  let bestRoute: { method: string; resource: ResourcePath } | undefined;
  routes.forEach((route, i) => {
    if (!methodMatches(route.method, method)) return;
    const resource = readResourcePath(route.path);
    if (!resourceMatches(resource, shape.parts)) return;
    const candidate = { method: route.method, resource };
    if (bestRoute === undefined || takesPrecedence(candidate, bestRoute)) {
      best = i;
      bestRoute = candidate;
    }
  });
  return best;
}

/**
 * API Gateway resource paths: parsing, matching and precedence.
 * `{name}` matches exactly one path segment; a last `{name+}` matches one or more.
 */

/** One segment of a resource path template. */
export type TemplateSegment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

/** A parsed resource path such as `/config/{name}/secrets`. */
export interface RouteTemplate {
  segments: TemplateSegment[];
  /** The template with parameter names erased (`/config/{}/secrets`): equal keys, same route. */
  key: string;
}

const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=:@%-]+$/;

/** The deepest resource path accepted: far beyond what APIs use, and what the policy compiler's segment automata hold. */
export const MAX_TEMPLATE_SEGMENTS = 20;
const PARAM = /^\{([A-Za-z0-9._-]+)(\+?)\}$/;

/**
 * Parse a resource path. Throws on what API Gateway would refuse or what IAM would read
 * as a wildcard (`*`, `?` in a literal segment).
 */
export function parseRouteTemplate(path: string): RouteTemplate {
  if (!path.startsWith('/')) throw new Error(`must start with "/": ${JSON.stringify(path)}`);
  if (path === '/') return { segments: [], key: '/' };
  const raw = path.slice(1).split('/');
  if (raw.length > MAX_TEMPLATE_SEGMENTS)
    throw new Error(`has more than ${MAX_TEMPLATE_SEGMENTS} segments: ${JSON.stringify(path.slice(0, 200))}`);
  const segments: TemplateSegment[] = raw.map((part, i) => {
    if (part.length === 0) throw new Error(`has an empty segment: ${JSON.stringify(path)}`);
    const param = PARAM.exec(part);
    if (param) {
      const name = param[1] as string;
      if (param[2] === '+') {
        if (i !== raw.length - 1) throw new Error(`{${name}+} must be the last segment: ${JSON.stringify(path)}`);
        return { kind: 'greedy', name };
      }
      return { kind: 'param', name };
    }
    if (!LITERAL.test(part)) throw new Error(`segment ${JSON.stringify(part)} has characters a resource path cannot hold`);
    return { kind: 'literal', value: part };
  });
  const key = `/${segments.map((s) => (s.kind === 'literal' ? s.value : s.kind === 'param' ? '{}' : '{+}')).join('/')}`;
  return { segments, key };
}

/** Whether a request path, split into segments, matches the template. */
export function matchesTemplate(template: RouteTemplate, segments: readonly string[]): boolean {
  const parts = template.segments;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as TemplateSegment;
    if (part.kind === 'greedy') return segments.length > i && segments.slice(i).every((s) => s.length > 0);
    const seg = segments[i];
    if (seg === undefined || seg.length === 0) return false;
    if (part.kind === 'literal' && part.value !== seg) return false;
  }
  return segments.length === parts.length;
}

const RANK = { literal: 0, param: 1, greedy: 2 } as const;

/**
 * Order two templates by specificity as API Gateway does: compared left to right, a
 * literal segment beats `{name}`, which beats `{name+}`. Negative when `a` is more
 * specific, positive when `b` is, 0 when they rank alike. Meaningful for templates
 * that can match the same request.
 */
export function compareSpecificity(a: RouteTemplate, b: RouteTemplate): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = RANK[(a.segments[i] as TemplateSegment).kind] - RANK[(b.segments[i] as TemplateSegment).kind];
    if (d !== 0) return d;
  }
  return 0;
}

/** What {@link resolveRoute} needs of a route. */
export interface RouteLike {
  method: string;
  template: RouteTemplate;
}

/**
 * The route that governs a request: among the routes whose method matches (exactly, or
 * `*`) and whose template matches the path, the most specific template wins; on the same
 * template an exact method beats `*`. Returns the index, or -1 when no route matches.
 */
export function resolveRoute(routes: readonly RouteLike[], method: string, segments: readonly string[]): number {
  let best = -1;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i] as RouteLike;
    if (route.method !== method && route.method !== '*') continue;
    if (!matchesTemplate(route.template, segments)) continue;
    if (best === -1) {
      best = i;
      continue;
    }
    const current = routes[best] as RouteLike;
    const order = compareSpecificity(route.template, current.template);
    if (order < 0 || (order === 0 && current.method === '*' && route.method !== '*')) best = i;
  }
  return best;
}

/** Split a request path into segments: `/a/b` → `['a', 'b']`, `/` → `[]`. */
export function splitPath(path: string): string[] {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  return trimmed.length === 0 ? [] : trimmed.split('/');
}

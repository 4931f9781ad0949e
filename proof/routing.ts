import type { DFA } from 'refa';
import type { PolicyRoute } from '../functions/authorizer/policy';
import { compareSpecificity } from '../functions/authorizer/routes';
import { difference, templateNfa, union, universeNfa } from './languages';

/**
 * API Gateway's routing as regular languages over request strings (`METHOD/raw/path`).
 *
 * A canonical path (no empty segment, no trailing `/`, or the root `/`) goes to the most
 * specific route whose method (exactly, or `*`) and template match: literal beats
 * `{name}` beats `{name+}`, left to right; on one template an exact method beats `*`.
 * A raw path with empty segments is routed as its collapsed form (runs of `/` made one,
 * a trailing `/` dropped): API Gateway REST routes `/x/` to `/x`, and for `//` we assume
 * the same, which is the cautious reading (the request then counts as governed by that
 * route and must be denied when the route is).
 */
export interface RoutingModel {
  /** Per route index: the canonical requests it gets (after precedence). */
  canonical: DFA[];
  /** Per route index: every request it governs: canonical, or collapsing to one it gets. */
  governed: DFA[];
  /** Requests no route governs. */
  unrouted: DFA;
}

/** Whether `q` takes a request both match away from `r` (see {@link RoutingModel}). */
function beats(q: PolicyRoute, r: PolicyRoute): boolean {
  if (q.method !== r.method && q.method !== '*' && r.method !== '*') return false;
  const order = compareSpecificity(q.template, r.template);
  if (order !== 0) return order < 0;
  return q.template.key === r.template.key && q.method !== '*' && r.method === '*';
}

/** Whether two templates may match a common path: a quick filter on their leading literals. */
function mayOverlap(a: PolicyRoute, b: PolicyRoute): boolean {
  const n = Math.min(a.template.segments.length, b.template.segments.length);
  for (let i = 0; i < n; i++) {
    const x = a.template.segments[i];
    const y = b.template.segments[i];
    if (x?.kind !== 'literal' || y?.kind !== 'literal') return true;
    if (x.value !== y.value) return false;
  }
  return true;
}

/** Build the routing model of a route table. */
export function routingModel(routes: readonly PolicyRoute[]): RoutingModel {
  const canonicalT = routes.map((r) => templateNfa(r.method, r.template, 'canonical'));
  const collapsedT = routes.map((r) => templateNfa(r.method, r.template, 'collapsed'));
  const canonical: DFA[] = [];
  const governed: DFA[] = [];
  routes.forEach((r, i) => {
    const winners = routes.flatMap((q, k) => (k !== i && mayOverlap(q, r) && beats(q, r) ? [k] : []));
    canonical.push(difference(canonicalT[i] as never, winners.map((k) => canonicalT[k]) as never));
    governed.push(difference(collapsedT[i] as never, winners.map((k) => collapsedT[k]) as never));
  });
  const unrouted = difference(universeNfa(), [union(collapsedT)]);
  return { canonical, governed, unrouted };
}

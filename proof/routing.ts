import { HTTP_METHODS } from '../functions/authorizer/config';
import type { PolicyRoute } from '../functions/authorizer/policy';
import { compareSpecificity } from '../functions/authorizer/routes';
import { type Alphabet, type Fragment, LazyDfa, PatternSet } from './automaton';

/**
 * API Gateway's routing as an automaton over request strings (`METHOD/raw/path`).
 *
 * A canonical path (no empty segment, no trailing `/`, or the root `/`) goes to the most
 * specific route whose method (exactly, or `*`) and template match: literal beats
 * `{name}` beats `{name+}`, left to right; on one template an exact method beats `*`.
 * A raw path with empty segments is routed as its collapsed form (runs of `/` made one,
 * a trailing `/` dropped): API Gateway REST routes `/x/` to `/x`, and for `//` we assume
 * the same, which is the cautious reading (the request then counts as governed by that
 * route, and must be denied when the route is).
 */

/** What the router knows at the end of a request string. */
export interface RouteVerdict {
  /** The string is a request: a method token (any, not only those API Gateway routes), then `/`. */
  request: boolean;
  /** The route a canonical request goes to, or -1 (not canonical, or no route). */
  canonical: number;
  /** The route that governs the request, canonical or collapsing to one, or -1. */
  governed: number;
}

/** Whether `q` takes a request both match away from `r` (see the module comment). */
export function beats(q: PolicyRoute, r: PolicyRoute): boolean {
  if (q.method !== r.method && q.method !== '*' && r.method !== '*') return false;
  const order = compareSpecificity(q.template, r.template);
  if (order !== 0) return order < 0;
  return q.template.key === r.template.key && q.method !== '*' && r.method === '*';
}

function methodFragment(p: PatternSet, method: string): Fragment {
  return method === '*' ? p.alt(...HTTP_METHODS.map((m) => p.literal(m))) : p.literal(method);
}

/** The requests a template matches, canonical or collapsed (see the module comment). */
function templateFragment(p: PatternSet, route: PolicyRoute, form: 'canonical' | 'collapsed'): Fragment {
  const sep = () => (form === 'canonical' ? p.literal('/') : p.plus(p.literal('/')));
  const parts: Fragment[] = [methodFragment(p, route.method)];
  if (route.template.segments.length === 0) parts.push(sep());
  for (const seg of route.template.segments) {
    parts.push(sep());
    if (seg.kind === 'literal') parts.push(p.literal(seg.value));
    else if (seg.kind === 'param') parts.push(p.plus(p.notSlash()));
    else parts.push(p.plus(p.notSlash()), p.star(p.seq(sep(), p.plus(p.notSlash()))));
  }
  if (form === 'collapsed' && route.template.segments.length > 0) parts.push(p.star(p.literal('/')));
  return p.seq(...parts);
}

/** The router of a route table: a lazy DFA whose states say which route a request goes to. */
export class Router {
  readonly dfa: LazyDfa;
  private readonly verdicts: (RouteVerdict | undefined)[] = [];

  constructor(
    private readonly routes: readonly PolicyRoute[],
    alphabet: Alphabet,
  ) {
    const p = new PatternSet(alphabet);
    routes.forEach((route, i) => {
      p.add(templateFragment(p, route, 'canonical'), 2 * i);
      p.add(templateFragment(p, route, 'collapsed'), 2 * i + 1);
    });
    p.add(p.seq(p.plus(p.notSlash()), p.literal('/'), p.star(p.any())), 2 * routes.length);
    this.dfa = new LazyDfa(p);
  }

  /** The verdict for a request string (`METHOD/raw/path`). */
  classify(request: string): RouteVerdict {
    return this.verdict(this.dfa.walk(request));
  }

  /** The verdict at a DFA state (memoized). */
  verdict(state: number): RouteVerdict {
    const known = this.verdicts[state];
    if (known !== undefined) return known;
    const tags = this.dfa.accepting[state] as number[];
    const canonical: number[] = [];
    const collapsed: number[] = [];
    let request = false;
    for (const tag of tags) {
      if (tag === 2 * this.routes.length) request = true;
      else (tag % 2 === 0 ? canonical : collapsed).push(tag >> 1);
    }
    const verdict = { request, canonical: this.winner(canonical), governed: this.winner(collapsed) };
    this.verdicts[state] = verdict;
    return verdict;
  }

  private winner(matching: number[]): number {
    let best = -1;
    for (const i of matching) {
      if (best === -1 || beats(this.routes[i] as PolicyRoute, this.routes[best] as PolicyRoute)) best = i;
    }
    return best;
  }
}

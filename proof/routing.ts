import { type Alphabet, type Fragment, LazyDfa, PatternSet } from './automaton';
import { ANY_METHODS, type GatewayRoute, type ResourcePath, readResourcePath, takesPrecedence } from './gateway-model';

/**
 * API Gateway's routing (proof/gateway-model.ts) as an automaton over request strings
 * (`METHOD/raw/path`): each route's resource path read from its `path`, in two forms, the
 * canonical one (`GET/a/b`, or the root `GET/`) and the one with a trailing slash
 * (`GET/a/b/`, routed as `/a/b`); plus every request string, and every request string whose
 * path has no empty part but one trailing `/` at most (the rest are undocumented).
 */

/** What the router knows at the end of a request string. */
export interface RouteVerdict {
  /** The string is a request: a method token (any, not only those `ANY` stands for), then `/`. */
  request: boolean;
  /** The path has no empty part but one trailing `/` at most: API Gateway's routing of it is documented. */
  documented: boolean;
  /** The route a canonical request goes to, or -1 (not canonical, or no route). */
  canonical: number;
  /** The route that governs the request, canonical or with a trailing slash, or -1. */
  governed: number;
}

interface ReadRoute {
  method: string;
  resource: ResourcePath;
}

function methodFragment(p: PatternSet, method: string): Fragment {
  return method === '*' || method === 'ANY' ? p.alt(...ANY_METHODS.map((m) => p.literal(m))) : p.literal(method);
}

/** One part or more (`{name}` is one, `{name+}` one or more), each after a `/`. */
function pathFragment(p: PatternSet, route: ReadRoute, trailingSlash: boolean): Fragment {
  const part = () => p.plus(p.notSlash());
  const pieces: Fragment[] = [methodFragment(p, route.method)];
  if (route.resource.parts.length === 0) pieces.push(p.literal('/'));
  for (const level of route.resource.parts) {
    pieces.push(p.literal('/'));
    if (level.kind === 'fixed') pieces.push(p.literal(level.text));
    else if (level.kind === 'variable') pieces.push(part());
    else pieces.push(part(), p.star(p.seq(p.literal('/'), part())));
  }
  if (trailingSlash) pieces.push(p.literal('/'));
  return p.seq(...pieces);
}

/** The router of a route table: a lazy DFA whose states say which route a request goes to. */
export class Router {
  readonly dfa: LazyDfa;
  private readonly routes: ReadRoute[];
  private readonly verdicts: (RouteVerdict | undefined)[] = [];

  constructor(routes: readonly GatewayRoute[], alphabet: Alphabet) {
    this.routes = routes.map((r) => ({ method: r.method, resource: readResourcePath(r.path) }));
    const p = new PatternSet(alphabet);
    const n = this.routes.length;
    this.routes.forEach((route, i) => {
      p.add(pathFragment(p, route, false), 2 * i);
      if (route.resource.parts.length > 0) p.add(pathFragment(p, route, true), 2 * i + 1);
    });
    const token = () => p.plus(p.notSlash());
    const part = () => p.plus(p.notSlash());
    p.add(p.seq(token(), p.literal('/'), p.star(p.any())), 2 * n);
    // `M/`, `M/a/b`, `M/a/b/`.
    const parts = p.seq(part(), p.star(p.seq(p.literal('/'), part())), p.alt(p.seq(), p.literal('/')));
    p.add(p.seq(token(), p.literal('/'), p.alt(p.seq(), parts)), 2 * n + 1);
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
    const n = this.routes.length;
    const canonical: number[] = [];
    const trailing: number[] = [];
    let request = false;
    let documented = false;
    for (const tag of this.dfa.accepting[state] as number[]) {
      if (tag === 2 * n) request = true;
      else if (tag === 2 * n + 1) documented = true;
      else (tag % 2 === 0 ? canonical : trailing).push(tag >> 1);
    }
    const winner = this.winner(canonical);
    const verdict = { request, documented, canonical: winner, governed: winner >= 0 ? winner : this.winner(trailing) };
    this.verdicts[state] = verdict;
    return verdict;
  }

  private winner(matching: readonly number[]): number {
    let best = -1;
    for (const i of matching) {
      if (best === -1 || takesPrecedence(this.routes[i] as ReadRoute, this.routes[best] as ReadRoute)) best = i;
    }
    return best;
  }
}

import type { Enforcement } from '../core/config';
import { Alphabet } from './automaton';
import { ANY_METHODS, readResourcePath } from './gateway-model';
import { routeName, type UnroutedMode } from './prove';
import { type ProofRoute, requirementsOf } from './route-sets';
import { Router } from './routing';

/**
 * Who gains and who loses access when a route table changes (`scopegate diff`), decided over
 * every valid token and every request path, with the proof's own model of API Gateway's
 * routing ({@link Router}), not the authorizer's code.
 *
 * A request is allowed by a table for a token when the route that governs it (API Gateway's
 * precedence: a literal route beside a parameter takes requests away from the parameter's
 * route) is satisfied by the token: the scopes of one of its requirement sets, and for a
 * step-up route an authentication recent enough for as long as the policy may be cached;
 * a report-only route lets every valid token through. A request no route governs is denied,
 * unless the table has HTTP API's `$default` route (which then governs it) or it reaches the
 * authorizer (`unrouted: deny`) under a top-level `report-only`. A request with an empty path
 * segment (a trailing or doubled slash) is denied by the authorizer whatever route API Gateway
 * sends it to, unless the top level is `report-only`.
 *
 * The two routers run in product over the request strings `METHOD/path`, breadth first from
 * each method, so every pair of governing routes (base, head) that some request reaches is met
 * first on a shortest request. For each pair, the tokens are decided without enumerating them:
 * "allowed" is monotone in the scopes (more scopes never lose a route) and in the
 * authentication (a more recent one never fails a step-up a less recent one passes), so a token
 * gains access at a pair exactly when one of the head route's requirement sets does, held alone
 * and authenticated as long ago as the head route allows (or not at all when it asks for no
 * step-up), and the base route denies that token; the smallest such set is a smallest scope
 * set of any token that gains there. Losses are the same with the tables swapped.
 */

/** A route of a table under comparison: the proof's route, and whether it is only reported. */
export interface DiffRoute extends ProofRoute {
  /** `report-only`: every valid token passes (the decision is only logged). Default `enforce`. */
  enforcement?: `${Enforcement}` | undefined;
}

/** A route table and the settings of its configuration that decide access. */
export interface DiffTable {
  /** The routes, HTTP API's `$default` (`{"method": "*", "path": "$default"}`) among them when it has one. */
  routes: readonly DiffRoute[];
  /** API Gateway's authorizer cache TTL: a step-up route must hold that long. Default 0. */
  policyCacheTtlSeconds?: number | undefined;
  /** Whether a request no route matches reaches the authorizer. Default `deny`. */
  unrouted?: UnroutedMode | undefined;
  /** The top-level enforcement: it decides the requests no route governs that reach the authorizer. Default `enforce`. */
  enforcement?: `${Enforcement}` | undefined;
}

/** One change in access: a token that shows it, a request that shows it, and the routes that decide it. */
export interface AccessChange {
  /** A smallest set of scopes whose tokens (authenticated as {@link authAgeSeconds} says) gain or lose access. */
  scopes: string[];
  /** A shortest request that shows it, `METHOD /path`. */
  request: string;
  /** The route that governs the request in the head table (a gain) or the base table (a loss), `METHOD /template`; `(no route)` or `(empty path segment)` when none does. */
  route: string;
  /** The route that governs the request in the base table, `null` when none does. */
  baseRoute: string | null;
  /** The route that governs the request in the head table, `null` when none does. */
  headRoute: string | null;
  /**
   * Present where step-up decides: the token authenticated this many seconds before the request
   * (`auth_time`). Absent: a token without `auth_time` shows the change.
   */
  authAgeSeconds?: number;
  /** Every smallest-by-inclusion scope set that shows the change, `scopes` first. */
  scopeSets: string[][];
  /** What the base and the head table ask of the request, in words. */
  before: string;
  after: string;
}

/** The access that a change of route table grants and takes away. */
export interface AccessDiff {
  /** Requests newly allowed, one per pair of governing routes. */
  newAccess: AccessChange[];
  /** Requests newly denied, one per pair of governing routes. */
  lostAccess: AccessChange[];
  /** The scopes of both tables: every token is decided as its set of these. */
  scopes: string[];
  /** The authentication ages that change a step-up verdict of either table, in seconds. */
  authAgesSeconds: number[];
  /** The distinct pairs of governing routes (base, head) that some request reaches. */
  pairs: number;
  /** Reachable states of the product of the two routers. */
  states: number;
  elapsedMs: number;
}

/** The governor of a request without a route: none matches (a canonical request), or its path has an empty segment. */
const UNROUTED = -1;
const EMPTY_SEGMENT = -2;

/** What a governor asks of a token. */
type Requirement =
  | { kind: 'any'; why: 'report-only' | 'no scope' }
  | { kind: 'none' }
  /** One of `sets`, all of its scopes; `maxAge`: the oldest authentication that passes step-up (absent: no step-up). */
  | { kind: 'scopes'; sets: readonly (readonly string[])[]; maxAge: number | undefined };

const DEFAULT_ROUTE = '$default';
const NO_ROUTE_NAME = '(no route)';
const EMPTY_SEGMENT_NAME = '(empty path segment)';

/** The order requests are tried in, per path length: the methods a reviewer reads most first. */
const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** One table as the comparison reads it. */
class Side {
  readonly router: Router;
  /** Index in `table.routes` of each route the router knows (all but `$default`). */
  private readonly rest: number[];
  private readonly defaultRoute: number;
  private readonly ttl: number;
  readonly unrouted: UnroutedMode;
  readonly reportOnly: boolean;

  constructor(
    readonly table: DiffTable,
    alphabet: Alphabet,
  ) {
    this.rest = table.routes.flatMap((r, i) => (r.path === DEFAULT_ROUTE ? [] : [i]));
    this.defaultRoute = table.routes.findIndex((r) => r.path === DEFAULT_ROUTE);
    this.router = new Router(
      this.rest.map((i) => table.routes[i] as DiffRoute),
      alphabet,
    );
    this.ttl = table.policyCacheTtlSeconds ?? 0;
    this.unrouted = table.unrouted ?? 'deny';
    this.reportOnly = table.enforcement === 'report-only';
  }

  /** The governor of a canonical request at a router state: a route's index, or {@link UNROUTED}. */
  canonical(state: number): number {
    const j = this.router.verdict(state).canonical;
    return j >= 0 ? (this.rest[j] as number) : this.defaultRoute >= 0 ? this.defaultRoute : UNROUTED;
  }

  /**
   * The governor of a request with a trailing slash: it reaches the authorizer (which refuses
   * an empty segment, {@link EMPTY_SEGMENT}) when API Gateway routes it (as the path without
   * the slash) or when unrouted requests reach the authorizer; else API Gateway answers it.
   */
  trailing(state: number): number {
    return this.router.verdict(state).governed >= 0 || this.unrouted === 'deny' ? EMPTY_SEGMENT : UNROUTED;
  }

  requirement(governor: number): Requirement {
    if (governor === EMPTY_SEGMENT) return this.reportOnly ? { kind: 'any', why: 'report-only' } : { kind: 'none' };
    if (governor === UNROUTED) {
      return this.reportOnly && this.unrouted === 'deny' ? { kind: 'any', why: 'report-only' } : { kind: 'none' };
    }
    const route = this.table.routes[governor] as DiffRoute;
    if (route.enforcement === 'report-only') return { kind: 'any', why: 'report-only' };
    const sets = requirementsOf(route);
    const max = route.maxAuthAgeSeconds;
    if (max === undefined)
      return sets.some((s) => s.length === 0) ? { kind: 'any', why: 'no scope' } : { kind: 'scopes', sets, maxAge: undefined };
    // The authorizer's rule: allowed while age + TTL <= maxAuthAgeSeconds.
    return max - this.ttl < 0 ? { kind: 'none' } : { kind: 'scopes', sets, maxAge: max - this.ttl };
  }

  name(governor: number): string | null {
    return governor >= 0 ? routeName(this.table.routes[governor] as DiffRoute) : null;
  }

  /** The authentication ages (seconds) at which some step-up verdict of this table changes. */
  ages(): number[] {
    return this.table.routes.flatMap((r) =>
      r.maxAuthAgeSeconds !== undefined && r.maxAuthAgeSeconds - this.ttl >= 0 ? [r.maxAuthAgeSeconds - this.ttl] : [],
    );
  }
}

/** Whether a token with `scopes`, authenticated `age` seconds ago (`undefined`: no `auth_time`), meets a requirement. */
function meets(req: Requirement, scopes: readonly string[], age: number | undefined): boolean {
  if (req.kind === 'any') return true;
  if (req.kind === 'none') return false;
  const held = new Set(scopes);
  if (!req.sets.some((set) => set.every((s) => held.has(s)))) return false;
  return req.maxAge === undefined || (age !== undefined && age <= req.maxAge);
}

/**
 * The tokens that meet `gains` but not `loses`, as the smallest ones: the requirement sets of
 * `gains`, each at the oldest authentication it accepts (monotonicity: every such token holds
 * one of them, and is no more recent), that `loses` refuses. Sorted smallest first; empty when
 * no token shows a change.
 */
function changeTokens(gains: Requirement, loses: Requirement): { sets: string[][]; age: number | undefined } {
  const candidates: { scopes: readonly string[]; age: number | undefined }[] =
    gains.kind === 'any'
      ? [{ scopes: [], age: undefined }]
      : gains.kind === 'none'
        ? []
        : gains.sets.map((scopes) => ({ scopes, age: gains.maxAge }));
  const winning = candidates.filter((c) => !meets(loses, c.scopes, c.age));
  const age = winning[0]?.age;
  const sets = winning
    .map((c) => [...new Set(c.scopes)])
    .sort((a, b) => a.length - b.length)
    .filter((set, i, all) => !all.slice(0, i).some((smaller) => smaller.every((s) => set.includes(s))));
  return { sets, age };
}

/** What a governor asks of a token, in words, for a reviewer. */
function describe(req: Requirement, governor: number): string {
  if (req.kind === 'none') {
    if (governor === EMPTY_SEGMENT) return 'denied (empty path segment)';
    if (governor === UNROUTED) return 'denied (no route)';
    return 'never allowed (maxAuthAgeSeconds below the cache TTL)';
  }
  if (req.kind === 'any') return req.why === 'report-only' ? 'any valid token (report-only)' : 'any valid token';
  const sets = req.sets.map((set) => set.join(' '));
  const scopes = sets.length === 1 ? (sets[0] as string) : `any of [${sets.join('], [')}]`;
  return req.maxAge === undefined ? scopes : `${scopes}, authenticated within ${req.maxAge} s`;
}

/** What a pair of governors is called when the governor is not a route. */
function governorName(side: Side, governor: number): string {
  return side.name(governor) ?? (governor === EMPTY_SEGMENT ? EMPTY_SEGMENT_NAME : NO_ROUTE_NAME);
}

/**
 * Compare two route tables (see the module comment): every request whose access changes for
 * some valid token, reported once per pair of governing routes and direction, with a
 * smallest scope set that shows it, a shortest witness request and the governing route.
 */
export function diffRouteTables(base: DiffTable, head: DiffTable): AccessDiff {
  const started = performance.now();
  const literals: string[] = [...ANY_METHODS];
  for (const table of [base, head]) {
    for (const route of table.routes) {
      if (route.path === DEFAULT_ROUTE) continue;
      literals.push(route.method);
      for (const part of readResourcePath(route.path).parts) if (part.kind === 'fixed') literals.push(part.text);
    }
  }
  const alphabet = new Alphabet(literals);
  const b = new Side(base, alphabet);
  const h = new Side(head, alphabet);

  // Breadth first over (base state, head state, phase): phase 0 at the root `M/`, 1 after a
  // path character, 2 after a `/` that follows one (a trailing slash so far), 3 once the path
  // has an empty segment elsewhere (routing undocumented: one node stands for all of them).
  const nodes: { b: number; h: number; phase: number; parent: number; via: string }[] = [];
  const seen = new Set<string>();
  const add = (bs: number, hs: number, phase: number, parent: number, via: string) => {
    const key = phase === 3 ? 'undocumented' : `${bs},${hs},${phase}`;
    if (seen.has(key)) return;
    seen.add(key);
    nodes.push({ b: bs, h: hs, phase, parent, via });
  };
  for (const method of METHOD_ORDER) add(b.router.dfa.walk(`${method}/`), h.router.dfa.walk(`${method}/`), 0, -1, `${method}/`);
  const firstAt = new Map<string, { node: number; base: number; head: number }>();
  const k = alphabet.size;
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n] as (typeof nodes)[number];
    let pair: [number, number];
    if (node.phase === 3) pair = [EMPTY_SEGMENT, EMPTY_SEGMENT];
    else if (node.phase === 2) pair = [b.trailing(node.b), h.trailing(node.h)];
    else pair = [b.canonical(node.b), h.canonical(node.h)];
    const key = `${pair[0]} ${pair[1]}`;
    if (!firstAt.has(key)) firstAt.set(key, { node: n, base: pair[0], head: pair[1] });
    if (node.phase === 3) continue;
    const bNamed = b.router.dfa.named[node.b] as Uint8Array;
    const hNamed = h.router.dfa.named[node.h] as Uint8Array;
    for (let c = 0; c < k; c++) {
      // A class neither router names here moves both like class 0: the same successor.
      if (c !== 0 && bNamed[c] === 0 && hNamed[c] === 0) continue;
      const slash = c === alphabet.slash;
      const phase = !slash ? 1 : node.phase === 1 ? 2 : 3;
      add(b.router.dfa.step(node.b, c), h.router.dfa.step(node.h, c), phase, n, alphabet.sample(c));
    }
  }

  const spell = (n: number): string => {
    let text = '';
    for (let i = n; i >= 0; i = (nodes[i] as (typeof nodes)[number]).parent) text = (nodes[i] as (typeof nodes)[number]).via + text;
    const slash = text.indexOf('/');
    return `${text.slice(0, slash)} ${text.slice(slash)}`;
  };

  const newAccess: AccessChange[] = [];
  const lostAccess: AccessChange[] = [];
  const ordered = [...firstAt.values()].sort((x, y) => x.node - y.node);
  for (const { node, base: gb, head: gh } of ordered) {
    const rb = b.requirement(gb);
    const rh = h.requirement(gh);
    const names = { baseRoute: b.name(gb), headRoute: h.name(gh) };
    const before = describe(rb, gb);
    const after = describe(rh, gh);
    for (const [gained, into, route] of [
      [true, newAccess, governorName(h, gh)],
      [false, lostAccess, governorName(b, gb)],
    ] as const) {
      const { sets, age } = gained ? changeTokens(rh, rb) : changeTokens(rb, rh);
      if (sets.length === 0) continue;
      into.push({
        scopes: sets[0] as string[],
        request: spell(node),
        route,
        ...names,
        ...(age !== undefined ? { authAgeSeconds: age } : {}),
        scopeSets: sets,
        before,
        after,
      });
    }
  }
  const scopes = [...new Set([base, head].flatMap((t) => t.routes.flatMap((r) => requirementsOf(r).flat())))].sort();
  const authAgesSeconds = [...new Set([...b.ages(), ...h.ages()])].sort((x, y) => x - y);
  return {
    newAccess,
    lostAccess,
    scopes,
    authAgesSeconds,
    pairs: firstAt.size,
    states: nodes.length,
    elapsedMs: Math.round(performance.now() - started),
  };
}

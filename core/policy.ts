import { type HttpMethod, Unrouted } from './config';
import { analysisOf, type Candidate, type Cell, type TableAnalysis } from './policy-analysis';
import type { RouteTemplate } from './routes';

/**
 * Compiles the IAM policy an authorizer returns for a token, by synthesis.
 *
 * API Gateway caches the policy by token and evaluates it for every later request with that
 * token, so it must answer for the whole API, not just the route asked. IAM evaluates it with
 * explicit Deny winning over Allow, and `*` in a resource matching any characters, `/`
 * included: a glob cannot say "exactly one segment", so `{name}` is written as `*` (one or more
 * segments) and what that overreaches is taken back with Deny globs.
 *
 * The compiler works over canonical requests (`METHOD/seg/…/seg`, no empty segment; requests
 * with one are denied by {@link EMPTY_SEGMENT_DENIES}) cut into segments. Over those, a route
 * template and every glob whose wildcards stand for whole segments are regular languages, and
 * the request space falls into **cells**: sets of requests that the same route governs and the
 * same candidate globs match, found once per route table ({@link TableAnalysis}: finite cells,
 * and regions past the templates' depth where routing no longer changes). A route set then
 * marks each cell positive (a route the token satisfies governs it), negative (a route it does
 * not satisfy governs it, or no route does while unrouted requests reach the authorizer) or
 * free (unrouted, and unrouted requests never reach it). Then:
 *
 * - a candidate may be **denied** when it matches no positive cell;
 * - a candidate may be **allowed** when what it matches of every negative cell is matched by
 *   candidates that may be denied;
 * - an exact policy made of candidates exists when every positive cell is matched by a
 *   candidate that may be allowed (for a region: matched whole). The compiler picks few of them
 *   (greedy set cover) for the Allow list, then few Deny globs for what those Allows match of
 *   negative cells. Over finite cells this decides exactly whether the candidates allow an
 *   exact policy; over regions it asks one Allow (one Deny) to match the whole of what is
 *   needed, so it may miss a policy that only a union would give: then it says "not exact",
 *   never the other way round.
 *
 * Candidates come from the table: each route's glob, one and two segments deeper, each `{name}`
 * widened to two segments or more, every literal prefix's subtree and node, and the meet of two
 * routes of one length (a literal sibling beside a parameter). When no exact policy of
 * candidates exists, the compiler returns the best safe one (it never allows a request it must
 * deny) and names the routes it over-denies; the authorizer then answers with a policy for the
 * request at hand alone, or, where the configuration accepts that route's over-deny, with the
 * compiled policy and a decision that follows it.
 */

/**
 * Requests with an empty path segment: a double slash anywhere (`GET//a`, `GET/a//b`), or a
 * trailing slash after a segment (`GET/a/`; the root `GET/` keeps its own). API Gateway
 * routes `/x/` to the resource `/x`, and does not document what it makes of `/a//b`; IAM
 * globs cannot tell `/x/` of an allowed route from `/x/` of a denied one without doubling
 * the policy, so every such request is denied. A client never needs to send one.
 */
export const EMPTY_SEGMENT_DENIES: readonly string[] = ['*//*', '*/?*/'];

/** The route fields the compiler reads. */
export interface PolicyRoute {
  method: HttpMethod | '*';
  template: RouteTemplate;
}

/** Options of {@link compilePolicy}. */
export interface CompileOptions {
  /**
   * Whether a request no route matches reaches the authorizer: `deny` (every policy must deny
   * it) or `unreachable` (API Gateway's resources are the route table: either answer will do).
   */
  unrouted: Unrouted;
  /**
   * Per route index: the configuration accepts that a cached policy denies some requests of
   * this route when no exact policy exists (`acceptOverDeny`). The compiler then lets such a
   * route give way first. Default: no route.
   */
  mayOverDeny?: (index: number) => boolean;
}

/** The resource patterns of a policy, relative to `apiId/stage/`. */
export interface CompiledPolicy {
  allow: string[];
  deny: string[];
  /**
   * Whether Allow minus Deny is exactly the token's requests: every canonical request of a
   * route it satisfies, and no request a route it does not satisfy governs, nor (under
   * `unrouted: deny`) a request no route governs.
   */
  exact: boolean;
  /**
   * When not exact: the routes (indexes) the token satisfies some of whose requests the policy
   * denies, in index order. A policy is never inexact the other way: it allows no request it
   * must deny.
   */
  overDenied: number[];
}

/** Cell roles for one route set. */
const FREE = 0;
const POSITIVE = 1;
const NEGATIVE = 2;
/** Positive, but the configuration accepts that it be denied (only when no exact policy exists). */
const SOFT = 3;

/**
 * Compile the resource patterns for a token whose verdict per route is `isAllowed` (see the
 * module comment). The result is exact when {@link CompiledPolicy.exact} says so; otherwise it
 * still allows no request it must deny, and names the routes it over-denies.
 */
export function compilePolicy(
  routes: readonly PolicyRoute[],
  isAllowed: (index: number) => boolean,
  options: CompileOptions,
): CompiledPolicy {
  const analysis = analysisOf(routes);
  const allowed = routes.map((_, i) => isAllowed(i));
  if (analysis.overflow) {
    // Too large a table to show any policy exact: allow nothing, and say which routes that denies.
    return { allow: [], deny: [], exact: !allowed.includes(true), overDenied: allowed.flatMap((a, i) => (a ? [i] : [])) };
  }
  const roles = analysis.cells.map((cell) => {
    if (cell.route < 0) return options.unrouted === Unrouted.DENY ? NEGATIVE : FREE;
    return allowed[cell.route] ? POSITIVE : NEGATIVE;
  });
  let result = select(analysis, roles);
  if (result.overDenied.length > 0 && options.mayOverDeny !== undefined) {
    const accepted = options.mayOverDeny;
    const relaxed = analysis.cells.map((cell, i) => (roles[i] === POSITIVE && accepted(cell.route) ? SOFT : (roles[i] as number)));
    const second = select(analysis, relaxed);
    if (second.overDenied.every((r) => accepted(r))) result = second;
  }
  return result;
}

/** Choose Allow and Deny globs for the cell roles (see the module comment). */
function select(analysis: TableAnalysis, roles: readonly number[]): CompiledPolicy {
  const { cells, candidates } = analysis;
  const count = candidates.length;
  // Candidates that touch a positive cell may not be denied.
  const deniable = new Uint8Array(count).fill(1);
  cells.forEach((cell, i) => {
    if (roles[i] === POSITIVE) for (const c of cell.candidates) deniable[c] = 0;
  });
  const anyDeniable = (list: readonly number[]) => list.some((c) => deniable[c] === 1);
  /** The deniable candidates that take from a negative region every request `a` matches there. */
  const regionDenies = (cell: Cell, a: number): number[] => {
    const whole = (cell.whole as number[]).filter((d) => deniable[d] === 1);
    return whole.length > 0 ? whole : cell.candidates.filter((d) => deniable[d] === 1 && analysis.covers(cell, d, a));
  };
  // Candidates that touch a negative cell no deniable candidate can take back may not be allowed.
  const usable = new Uint8Array(count).fill(1);
  cells.forEach((cell, i) => {
    if (roles[i] !== NEGATIVE) return;
    if (cell.whole === undefined) {
      if (!anyDeniable(cell.candidates)) for (const c of cell.candidates) usable[c] = 0;
    } else if (!anyDeniable(cell.whole)) {
      for (const a of cell.candidates) {
        if (usable[a] === 1 && !cell.candidates.some((d) => deniable[d] === 1 && analysis.covers(cell, d, a))) usable[a] = 0;
      }
    }
  });

  // Allow: a greedy cover of the positive cells (hard first, then soft) by usable candidates,
  // whole regions by candidates matching all of them. Each negative cell an Allow matches costs
  // a Deny: an Allow is chosen by the cells it closes per negative cell it matches (plus one),
  // so a token that may call a few resources of many gets their globs, not `GET/?*` minus the rest.
  const negatives = new Int32Array(count);
  cells.forEach((cell, i) => {
    if (roles[i] === NEGATIVE) for (const c of cell.candidates) negatives[c] = (negatives[c] as number) + 1;
  });
  // Between equals, the narrowest (fewest cells): the least it could let through if the table were wrong.
  const widths = new Int32Array(count);
  for (let c = 0; c < count; c++) widths[c] = (analysis.cellsOf[c] as number[]).length;
  const allowSet = new Uint8Array(count);
  const allowList: number[] = [];
  const allowedCell = (cell: Cell) => (cell.whole ?? cell.candidates).some((c) => allowSet[c] === 1);
  for (const role of [POSITIVE, SOFT]) {
    const open: number[][] = [];
    cells.forEach((cell, i) => {
      if (roles[i] !== role || allowedCell(cell)) return;
      const coverers = (cell.whole ?? cell.candidates).filter((c) => usable[c] === 1);
      if (coverers.length > 0) open.push(coverers);
    });
    for (const c of cover(open, count, negatives, candidates, widths)) {
      allowSet[c] = 1;
      allowList.push(c);
    }
  }

  // Deny: a greedy cover of what the Allows match of negative cells, by deniable candidates
  // that spare soft cells where they can.
  const softHits = new Int32Array(count);
  cells.forEach((cell, i) => {
    if (roles[i] === SOFT) for (const c of cell.candidates) softHits[c] = (softHits[c] as number) + 1;
  });
  const open: number[][] = [];
  cells.forEach((cell, i) => {
    if (roles[i] !== NEGATIVE) return;
    if (cell.whole === undefined) {
      if (cell.candidates.some((c) => allowSet[c] === 1)) open.push(cell.candidates.filter((c) => deniable[c] === 1));
    } else {
      for (const a of cell.candidates) if (allowSet[a] === 1) open.push(regionDenies(cell, a));
    }
  });
  // First by Denies that spare every soft cell, then the rest by any.
  const denySet = new Uint8Array(count);
  const denyList = cover(
    open.map((coverers) => coverers.filter((c) => softHits[c] === 0)),
    count,
    softHits,
    candidates,
  );
  for (const c of denyList) denySet[c] = 1;
  const left = open.filter((coverers) => !coverers.some((c) => denySet[c] === 1));
  for (const c of cover(left, count, softHits, candidates)) {
    denySet[c] = 1;
    denyList.push(c);
  }

  const overDenied = new Set<number>();
  cells.forEach((cell, i) => {
    if (roles[i] !== POSITIVE && roles[i] !== SOFT) return;
    if (!allowedCell(cell) || cell.candidates.some((c) => denySet[c] === 1)) overDenied.add(cell.route);
  });
  const allowGlobs = allowList.map((c) => (candidates[c] as Candidate).glob).sort();
  const denyGlobs = denyList.map((c) => (candidates[c] as Candidate).glob).sort();
  return {
    allow: allowGlobs,
    // The segment model knows no empty segments, but a `*` matches them: deny them all
    // wherever an Allow glob has a `*` (a literal glob cannot match them).
    deny: allowGlobs.some((g) => g.includes('*')) ? [...denyGlobs, ...EMPTY_SEGMENT_DENIES] : denyGlobs,
    exact: overDenied.size === 0,
    overDenied: [...overDenied].sort((a, b) => a - b),
  };
}

/**
 * Greedy set cover: each element of `open` lists the candidates that may close it. Repeatedly
 * pick the candidate closing the most open elements (ties: the smallest `penalty`, then the
 * shorter glob, then the first); or, given `widths`, the most per unit of `1 + penalty` (ties:
 * the most elements, the smallest width, the shorter glob). Elements without a candidate stay
 * open.
 */
function cover(
  open: readonly number[][],
  count: number,
  penalty: Int32Array,
  candidates: readonly Candidate[],
  widths?: Int32Array,
): number[] {
  const weighted = widths !== undefined;
  const gain = new Int32Array(count);
  const elementsOf: number[][] = [];
  open.forEach((coverers, e) => {
    for (const c of coverers) {
      gain[c] = (gain[c] as number) + 1;
      const list = elementsOf[c];
      if (list) list.push(e);
      else elementsOf[c] = [e];
    }
  });
  const isOpen = new Uint8Array(open.length).fill(1);
  const picked: number[] = [];
  for (;;) {
    let best = -1;
    for (let c = 0; c < count; c++) {
      const g = gain[c] as number;
      if (g === 0) continue;
      if (best === -1) {
        best = c;
        continue;
      }
      const b = gain[best] as number;
      const pc = penalty[c] as number;
      const pb = penalty[best] as number;
      // Keys in order, each "greater is better": elements closed (per unit of cost, when
      // weighted), then elements or the smaller penalty, then the smaller width, then the shorter glob.
      let key = weighted ? g * (1 + pb) - b * (1 + pc) : g - b;
      if (key === 0) key = weighted ? g - b : pb - pc;
      if (key === 0 && widths) key = (widths[best] as number) - (widths[c] as number);
      if (key === 0) key = (candidates[best] as Candidate).glob.length - (candidates[c] as Candidate).glob.length;
      if (key > 0) best = c;
    }
    if (best === -1) return picked;
    picked.push(best);
    for (const e of elementsOf[best] as number[]) {
      if (isOpen[e] === 0) continue;
      isOpen[e] = 0;
      for (const c of open[e] as number[]) gain[c] = (gain[c] as number) - 1;
    }
  }
}

/** An IAM policy document as API Gateway expects it from an authorizer. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string[] }[];
}

/**
 * Render compiled patterns as a policy for one API stage. `arnPrefix` is
 * `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/`. With nothing allowed, the
 * policy denies the whole API.
 */
export function renderPolicy(compiled: Pick<CompiledPolicy, 'allow' | 'deny'>, arnPrefix: string): PolicyDocument {
  const statements: PolicyDocument['Statement'] = [];
  if (compiled.allow.length > 0) {
    statements.push({ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: compiled.allow.map((p) => arnPrefix + p) });
  }
  const deny = compiled.allow.length > 0 ? compiled.deny.map((p) => arnPrefix + p) : [`${arnPrefix}*`];
  if (deny.length > 0) statements.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: deny });
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * Whether compiled patterns allow a request (`METHOD/raw/path`, what follows `API/STAGE/` in
 * its ARN), read as IAM reads them: some Allow glob matches and no Deny glob does.
 */
export function patternsAllow(compiled: Pick<CompiledPolicy, 'allow' | 'deny'>, request: string): boolean {
  return compiled.allow.some((g) => globMatches(g, request)) && !compiled.deny.some((g) => globMatches(g, request));
}

/** IAM's glob match: `*` any run of characters (`/` included), `?` any one character. */
function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const ch = glob[g];
    if (ch === '*') {
      starG = g++;
      starT = t;
    } else if (ch !== undefined && (ch === '?' || ch === text[t])) {
      g++;
      t++;
    } else if (starG >= 0) {
      g = starG + 1;
      t = ++starT;
    } else return false;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** IAM wildcards in a request ARN, each written `?`: the pattern then matches that ARN and ones differing only there. */
const WILDCARDS = /[*?]/g;

/**
 * A policy for one request only: Allow its ARN (the IAM wildcards a path may hold written
 * `?`), or Deny the whole API stage. For answers that no cache may reuse for another request.
 */
export function singleRequestPolicy(requestArn: string, arnPrefix: string, allow: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      allow
        ? { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [requestArn.replace(WILDCARDS, '?')] }
        : { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${arnPrefix}*`] },
    ],
  };
}

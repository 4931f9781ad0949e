import { HTTP_METHODS, type HttpMethod, Unrouted } from './config';
import { compareSpecificity, type RouteTemplate } from './routes';

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
 * the request space falls into finitely many **cells**: sets of requests that the same route
 * governs and the same candidate globs match. The cells of a route table are computed once
 * (a lazy subset construction over the segments, {@link TableAnalysis}); a route set then
 * marks each cell positive (a route the token satisfies governs it), negative (a route it does
 * not satisfy governs it, or no route does while unrouted requests reach the authorizer) or
 * free (unrouted, and unrouted requests never reach it). Then:
 *
 * - a candidate may be **denied** when it matches no positive cell;
 * - a candidate may be **allowed** when every negative cell it matches is matched by some
 *   candidate that may be denied;
 * - an exact policy made of candidates exists exactly when every positive cell is matched by a
 *   candidate that may be allowed. The compiler picks few of them (greedy set cover) for the
 *   Allow list, then few Deny globs for the negative cells those Allows match.
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

/** A token of a segment pattern: a literal segment, any one segment, or any run of segments. */
type Tok = { t: 'lit'; v: string } | { t: 'one' } | { t: 'star' };

const ONE: Tok = { t: 'one' };
const STAR: Tok = { t: 'star' };
/** A glob's `*` standing for whole segments: one or more. */
const WILD: readonly Tok[] = [ONE, STAR];

/** Positions are bits of a number: patterns have at most this many tokens. */
const MAX_TOKENS = 30;

/** A candidate glob, for one method. */
interface Candidate {
  method: HttpMethod;
  toks: Tok[];
  /** The glob after `apiId/stage/`, e.g. `GET/users/*`. */
  glob: string;
}

/**
 * One class of requests: what governs it, which candidates match it.
 */
interface Cell {
  /** Index of the governing route, or -1 when no route matches. */
  route: number;
  /** Bitset over candidates. */
  bits: Uint32Array;
  /** The candidates, as a list. */
  candidates: number[];
}

/**
 * What the compiler knows of a route table, whatever the token: its candidates and its cells.
 * Built once per table (the authorizer's routes, or a proof's), on the first compile.
 */
class TableAnalysis {
  readonly candidates: Candidate[] = [];
  readonly cells: Cell[] = [];
  /** Per candidate, the cells it matches. */
  readonly cellsOf: number[][];
  readonly words: number;

  constructor(readonly routes: readonly PolicyRoute[]) {
    const byMethod = new Map<HttpMethod, number[]>();
    routes.forEach((route, i) => {
      for (const method of route.method === '*' ? HTTP_METHODS : [route.method]) {
        const list = byMethod.get(method);
        if (list) list.push(i);
        else byMethod.set(method, [i]);
      }
    });
    const found: { route: number; candidates: number[] }[] = [];
    for (const [method, indexes] of byMethod) {
      const first = this.candidates.length;
      const globs = new Set<string>();
      for (const toks of candidateShapes(indexes.map((i) => (routes[i] as PolicyRoute).template))) {
        if (toks.length > MAX_TOKENS) continue;
        const glob = renderGlob(method, toks);
        if (globs.has(glob)) continue;
        globs.add(glob);
        this.candidates.push({ method, toks, glob });
      }
      const patterns: Tok[][] = [
        ...indexes.map((i) => templateToks((routes[i] as PolicyRoute).template)),
        ...this.candidates.slice(first).map((c) => c.toks),
      ];
      for (const accepting of acceptingSignatures(patterns)) {
        const matching = accepting.filter((p) => p < indexes.length).map((p) => indexes[p] as number);
        found.push({
          route: this.winner(matching, method),
          candidates: accepting.filter((p) => p >= indexes.length).map((p) => first + p - indexes.length),
        });
      }
    }
    this.words = Math.ceil(this.candidates.length / 32) || 1;
    this.cellsOf = this.candidates.map(() => []);
    for (const { route, candidates } of found) {
      const bits = new Uint32Array(this.words);
      for (const c of candidates) {
        bits[c >>> 5] = (bits[c >>> 5] as number) | (1 << (c & 31));
        (this.cellsOf[c] as number[]).push(this.cells.length);
      }
      this.cells.push({ route, bits, candidates });
    }
  }

  /** The route API Gateway invokes among those whose templates match: the most specific; on one template an exact method beats `*`. */
  private winner(matching: number[], method: HttpMethod): number {
    let best = -1;
    for (const i of matching) {
      if (best === -1) {
        best = i;
        continue;
      }
      const a = this.routes[i] as PolicyRoute;
      const b = this.routes[best] as PolicyRoute;
      const order = compareSpecificity(a.template, b.template);
      if (order < 0 || (order === 0 && b.method !== method && a.method === method)) best = i;
    }
    return best;
  }
}

const analyses = new WeakMap<readonly PolicyRoute[], TableAnalysis>();

function analysisOf(routes: readonly PolicyRoute[]): TableAnalysis {
  let analysis = analyses.get(routes);
  if (analysis === undefined) {
    analysis = new TableAnalysis(routes);
    analyses.set(routes, analysis);
  }
  return analysis;
}

/** The tokens of the requests a template matches. */
function templateToks(template: RouteTemplate): Tok[] {
  return template.segments.flatMap((s): Tok[] =>
    s.kind === 'literal' ? [{ t: 'lit', v: s.value }] : s.kind === 'param' ? [ONE] : [ONE, STAR],
  );
}

/** The tokens of a template's glob: every parameter a `*`. */
function globToks(segments: RouteTemplate['segments']): Tok[] {
  return segments.flatMap((s): readonly Tok[] => (s.kind === 'literal' ? [{ t: 'lit', v: s.value }] : WILD));
}

/** The candidate globs of routes of one method (as token lists; duplicates possible). */
function* candidateShapes(templates: readonly RouteTemplate[]): Generator<Tok[]> {
  for (const template of templates) {
    const segments = template.segments;
    const base = globToks(segments);
    yield base;
    yield [...base, ...WILD];
    yield [...base, ...WILD, ...WILD];
    // Each parameter widened to two segments or more: the spill of its `*`.
    for (let k = 0; k < segments.length; k++) {
      if ((segments[k] as { kind: string }).kind === 'literal') continue;
      yield [...globToks(segments.slice(0, k)), ...WILD, ...WILD, ...globToks(segments.slice(k + 1))];
    }
    // Every prefix: its node and its subtree.
    for (let k = 0; k < segments.length; k++) {
      const prefix = globToks(segments.slice(0, k));
      yield prefix;
      yield [...prefix, ...WILD];
    }
  }
  // The meet of two templates of one length: literal siblings beside parameters.
  for (let i = 0; i < templates.length; i++) {
    const a = (templates[i] as RouteTemplate).segments;
    if (a.some((s) => s.kind === 'greedy')) continue;
    for (let j = i + 1; j < templates.length; j++) {
      const b = (templates[j] as RouteTemplate).segments;
      if (b.length !== a.length || b.some((s) => s.kind === 'greedy')) continue;
      // The meet is new only when each template gives it a literal the other has as a parameter.
      const meet: RouteTemplate['segments'] = [];
      let met = true;
      let fromA = false;
      let fromB = false;
      for (let k = 0; k < a.length && met; k++) {
        const x = a[k] as RouteTemplate['segments'][number];
        const y = b[k] as RouteTemplate['segments'][number];
        if (x.kind === 'literal' && y.kind === 'literal' && x.value !== y.value) met = false;
        else if (x.kind !== 'literal' && y.kind === 'literal') {
          meet.push(y);
          fromB = true;
        } else {
          if (x.kind === 'literal' && y.kind !== 'literal') fromA = true;
          meet.push(x);
        }
      }
      if (!met || !fromA || !fromB) continue;
      const toks = globToks(meet);
      yield toks;
      yield [...toks, ...WILD];
    }
  }
}

/** `GET` and `[lit users, one, star]` → `GET/users/*`; a leading `*` is written `?*`, so that it does not match the root `GET/`. */
function renderGlob(method: HttpMethod, toks: readonly Tok[]): string {
  const parts: string[] = [];
  for (const tok of toks) {
    if (tok.t === 'lit') parts.push(tok.v);
    else if (tok.t === 'one') parts.push(parts.length === 0 ? '?*' : '*');
  }
  return `${method}/${parts.join('/')}`;
}

/** Add to a position set the positions a `star` may skip to. */
function close(toks: readonly Tok[], mask: number): number {
  let m = mask;
  for (let i = 0; i < toks.length; i++) if ((m >>> i) & 1 && (toks[i] as Tok).t === 'star') m |= 1 << (i + 1);
  return m;
}

/** The positions after reading one segment (`undefined`: a segment no literal of the pattern names). */
function step(toks: readonly Tok[], mask: number, segment: string | undefined): number {
  let next = 0;
  for (let i = 0; i < toks.length; i++) {
    if (!((mask >>> i) & 1)) continue;
    const tok = toks[i] as Tok;
    if (tok.t === 'star') next |= 1 << i;
    else if (tok.t === 'one' || tok.v === segment) next |= 1 << (i + 1);
  }
  return close(toks, next);
}

/**
 * Every distinct set of patterns that accept together some segment sequence: a lazy subset
 * construction over segments, whose alphabet at each state is the literals its live patterns
 * name, and one segment named by none.
 */
function acceptingSignatures(patterns: readonly Tok[][]): number[][] {
  type State = { ids: number[]; masks: number[] };
  const start: State = { ids: [], masks: [] };
  patterns.forEach((toks, i) => {
    start.ids.push(i);
    start.masks.push(close(toks, 1));
  });
  const seen = new Set<string>();
  const signatures = new Map<string, number[]>();
  const queue: State[] = [start];
  const keyOf = (s: State) => s.ids.map((id, k) => `${id}:${s.masks[k]}`).join(',');
  seen.add(keyOf(start));
  while (queue.length > 0) {
    const state = queue.shift() as State;
    const accepting: number[] = [];
    const literals = new Set<string>();
    state.ids.forEach((id, k) => {
      const toks = patterns[id] as Tok[];
      const mask = state.masks[k] as number;
      if ((mask >>> toks.length) & 1) accepting.push(id);
      for (let i = 0; i < toks.length; i++) {
        const tok = toks[i] as Tok;
        if ((mask >>> i) & 1 && tok.t === 'lit') literals.add(tok.v);
      }
    });
    signatures.set(accepting.join(','), accepting);
    for (const segment of [...literals, undefined]) {
      const next: State = { ids: [], masks: [] };
      state.ids.forEach((id, k) => {
        const mask = step(patterns[id] as Tok[], state.masks[k] as number, segment);
        if (mask !== 0) {
          next.ids.push(id);
          next.masks.push(mask);
        }
      });
      if (next.ids.length === 0) continue;
      const key = keyOf(next);
      if (seen.has(key)) continue;
      seen.add(key);
      queue.push(next);
    }
  }
  return [...signatures.values()];
}

function has(bits: Uint32Array, c: number): boolean {
  return (((bits[c >>> 5] as number) >>> (c & 31)) & 1) === 1;
}

function set(bits: Uint32Array, c: number): void {
  bits[c >>> 5] = (bits[c >>> 5] as number) | (1 << (c & 31));
}

function meets(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (((a[w] as number) & (b[w] as number)) !== 0) return true;
  return false;
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
  const { cells, candidates, cellsOf, words } = analysis;
  // Candidates that touch a positive cell may not be denied.
  const blocked = new Uint32Array(words);
  cells.forEach((cell, i) => {
    if (roles[i] === POSITIVE) for (let w = 0; w < words; w++) blocked[w] = (blocked[w] as number) | (cell.bits[w] as number);
  });
  const deniable = (c: number) => !has(blocked, c);
  // Candidates that touch a negative cell no deniable candidate matches may not be allowed.
  const unusable = new Uint32Array(words);
  cells.forEach((cell, i) => {
    if (roles[i] !== NEGATIVE) return;
    let covered = false;
    for (let w = 0; w < words && !covered; w++) covered = ((cell.bits[w] as number) & ~(blocked[w] as number)) !== 0;
    if (!covered) for (let w = 0; w < words; w++) unusable[w] = (unusable[w] as number) | (cell.bits[w] as number);
  });
  const usable = (c: number) => !has(unusable, c);

  // Allow: a greedy cover of the positive cells (hard first, then soft) by usable candidates;
  // among Allows that close as many cells, the narrowest (fewest cells) needs the fewest Denies.
  const count = candidates.length;
  const allowable = new Uint8Array(count);
  const widths = new Int32Array(count);
  for (let c = 0; c < count; c++) {
    allowable[c] = usable(c) ? 1 : 0;
    widths[c] = (cellsOf[c] as number[]).length;
  }
  const allow = new Uint32Array(words);
  const allowList: number[] = [];
  for (const role of [POSITIVE, SOFT]) {
    const open: number[] = [];
    cells.forEach((cell, i) => {
      if (roles[i] === role && !meets(cell.bits, allow) && cell.candidates.some((c) => allowable[c] === 1)) open.push(i);
    });
    for (const c of cover(open, analysis, allowable, widths)) {
      set(allow, c);
      allowList.push(c);
    }
  }

  // Deny: a greedy cover of the negative cells the Allows match, by deniable candidates that
  // spare soft cells where they can.
  const open: number[] = [];
  cells.forEach((cell, i) => {
    if (roles[i] === NEGATIVE && meets(cell.bits, allow)) open.push(i);
  });
  const deniableFlags = new Uint8Array(count);
  const softHits = new Int32Array(count);
  for (let c = 0; c < count; c++) deniableFlags[c] = deniable(c) ? 1 : 0;
  cells.forEach((cell, i) => {
    if (roles[i] === SOFT) for (const c of cell.candidates) softHits[c] = (softHits[c] as number) + 1;
  });
  const denyBits = new Uint32Array(words);
  const denyList = cover(open, analysis, deniableFlags, softHits);
  for (const c of denyList) set(denyBits, c);

  const overDenied = new Set<number>();
  cells.forEach((cell, i) => {
    if ((roles[i] === POSITIVE || roles[i] === SOFT) && (!meets(cell.bits, allow) || meets(cell.bits, denyBits)))
      overDenied.add(cell.route);
  });
  const allowGlobs = allowList.map((c) => (candidates[c] as Candidate).glob).sort();
  const denyGlobs = denyList.map((c) => (candidates[c] as Candidate).glob).sort();
  return {
    allow: allowGlobs,
    // The segment model above knows no empty segments, but a `*` matches them: deny them all
    // wherever an Allow glob has a `*` (a literal glob cannot match them).
    deny: allowGlobs.some((g) => g.includes('*')) ? [...denyGlobs, ...EMPTY_SEGMENT_DENIES] : denyGlobs,
    exact: overDenied.size === 0,
    overDenied: [...overDenied].sort((a, b) => a - b),
  };
}

/**
 * Greedy set cover of the `open` cells by `eligible` candidates: repeatedly the candidate
 * matching the most open cells (ties: the smallest `penalty`, then the shorter glob, then the
 * first). Gains are kept per candidate and lowered as cells close. Cells no eligible candidate
 * matches stay open.
 */
function cover(
  open: readonly number[],
  { cells, cellsOf, candidates }: TableAnalysis,
  eligible: Uint8Array,
  penalty: Int32Array,
): number[] {
  const count = candidates.length;
  const gain = new Int32Array(count);
  const isOpen = new Uint8Array(cells.length);
  for (const i of open) {
    isOpen[i] = 1;
    for (const c of (cells[i] as Cell).candidates) if (eligible[c] === 1) gain[c] = (gain[c] as number) + 1;
  }
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
      if (g < b) continue;
      if (g > b || (penalty[c] as number) < (penalty[best] as number)) best = c;
      else if (penalty[c] === penalty[best] && (candidates[c] as Candidate).glob.length < (candidates[best] as Candidate).glob.length)
        best = c;
    }
    if (best === -1) return picked;
    picked.push(best);
    for (const i of cellsOf[best] as number[]) {
      if (isOpen[i] === 0) continue;
      isOpen[i] = 0;
      for (const c of (cells[i] as Cell).candidates) if (eligible[c] === 1) gain[c] = (gain[c] as number) - 1;
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

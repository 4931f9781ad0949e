import { HTTP_METHODS, type HttpMethod } from './config';
import { compareSpecificity, type RouteTemplate } from './routes';
import { DEAD, includesSuffixes, MAX_TOKENS, ONE, SegmentPattern, STAR, type Tok } from './segment-pattern';

/**
 * What the policy compiler knows of a route table whatever the token: the candidate globs,
 * and the cells of the request space (see policy.ts).
 *
 * The cells are found by walking, per method, the product of every route template and every
 * candidate (each a {@link SegmentPattern}) over path segments: the alphabet at each step is
 * the literals the live patterns name, and one segment none names. Each reachable product
 * state is a **finite cell** (the requests that end there: one governing route, one set of
 * matching candidates). The walk stops where routing can no longer change (every live
 * template matches every longer path, or none is live): all longer requests there form a
 * **region**, governed by one route (or none), which candidates may match in part (`touching`)
 * or whole (`whole`). Regions keep the walk finite when candidates such as `GET/repos/*\/*\/issues`
 * would otherwise tell apart every combination of literals past the templates' depth.
 */

/** A route as the analysis reads it. */
export interface AnalysisRoute {
  method: HttpMethod | '*';
  template: RouteTemplate;
}

/** A candidate glob, for one method. */
export interface Candidate {
  method: HttpMethod;
  pattern: SegmentPattern;
  /** The glob after `apiId/stage/`, e.g. `GET/users/*`. */
  glob: string;
}

/** A class of requests: what governs it, which candidates match it. */
export interface Cell {
  /** Index of the governing route, or -1 when no route matches. */
  route: number;
  /** The candidates that match some request of the cell (every request of a finite cell). */
  candidates: number[];
  /** A region's candidates that match every request of it; `undefined` for a finite cell. */
  whole: number[] | undefined;
  /** A region's touching candidates and their pattern states (for suffix inclusion). */
  states: Map<number, number> | undefined;
}

/**
 * The analysis gives up past this much work (pattern steps of the walk): every token of such a
 * table is then answered one request at a time. About a second of CPU; typical tables take a
 * few thousand steps.
 */
export const MAX_ANALYSIS_STEPS = 4_000_000;

/** The candidates and cells of a route table. */
export class TableAnalysis {
  readonly candidates: Candidate[] = [];
  readonly cells: Cell[] = [];
  /** Per candidate, the cells it touches. */
  readonly cellsOf: number[][] = [];
  /** The walk outgrew {@link MAX_ANALYSIS_STEPS}: no cell is known, no policy can be shown exact. */
  readonly overflow: boolean;
  /** Product states walked, and pattern steps taken (a measure of the table's difficulty). */
  states = 0;
  steps = 0;
  /** Suffix inclusions by outer (candidate, state) then inner (candidate, state). */
  private readonly inclusions = new Map<number, Map<number, boolean>>();

  constructor(readonly routes: readonly AnalysisRoute[]) {
    const byMethod = new Map<HttpMethod, number[]>();
    routes.forEach((route, i) => {
      for (const method of route.method === '*' ? HTTP_METHODS : [route.method]) {
        const list = byMethod.get(method);
        if (list) list.push(i);
        else byMethod.set(method, [i]);
      }
    });
    let overflow = false;
    for (const [method, indexes] of byMethod) {
      const first = this.candidates.length;
      const globs = new Set<string>();
      for (const toks of candidateShapes(indexes.map((i) => (routes[i] as AnalysisRoute).template))) {
        if (toks.length > MAX_TOKENS) continue;
        const glob = renderGlob(method, toks);
        if (globs.has(glob)) continue;
        globs.add(glob);
        this.candidates.push({ method, pattern: new SegmentPattern(toks), glob });
      }
      if (!this.walk(method, indexes, first)) {
        overflow = true;
        break;
      }
    }
    this.overflow = overflow;
    for (let c = 0; c < this.candidates.length; c++) this.cellsOf.push([]);
    if (overflow) this.cells.length = 0;
    this.cells.forEach((cell, i) => {
      for (const c of cell.candidates) (this.cellsOf[c] as number[]).push(i);
    });
  }

  /**
   * Whether a region's requests that `inner` matches are all matched by `outer` (both touch
   * the region). Memoized.
   */
  covers(region: Cell, outer: number, inner: number): boolean {
    const so = region.states?.get(outer);
    const si = region.states?.get(inner);
    if (so === undefined || si === undefined) return false;
    const outerKey = outer * 0x10000 + so;
    let byInner = this.inclusions.get(outerKey);
    if (byInner === undefined) {
      byInner = new Map();
      this.inclusions.set(outerKey, byInner);
    }
    const innerKey = inner * 0x10000 + si;
    let known = byInner.get(innerKey);
    if (known === undefined) {
      known = includesSuffixes((this.candidates[outer] as Candidate).pattern, so, (this.candidates[inner] as Candidate).pattern, si);
      byInner.set(innerKey, known);
    }
    return known;
  }

  /** Walk one method's product (see the class comment); false when it outgrows the budget. */
  private walk(method: HttpMethod, routeIndexes: number[], firstCandidate: number): boolean {
    const templates = routeIndexes.map((i) => new SegmentPattern(templateToks((this.routes[i] as AnalysisRoute).template)));
    const patterns = [...templates, ...this.candidates.slice(firstCandidate).map((c) => c.pattern)];
    const split = templates.length;
    type State = { ids: number[]; states: number[] };
    const start: State = { ids: patterns.map((_, i) => i), states: patterns.map((p) => p.start) };
    const seen = new StateSet();
    seen.add(start.ids, start.states);
    const cells = new Map<string, Cell>();
    const queue: State[] = [start];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as State;
      this.states++;
      // The requests that end here.
      const accepting = state.ids.filter((id, k) => (patterns[id] as SegmentPattern).accepts(state.states[k] as number));
      const route = this.winner(
        accepting.filter((id) => id < split).map((id) => routeIndexes[id] as number),
        method,
      );
      const matched = accepting.filter((id) => id >= split).map((id) => firstCandidate + id - split);
      addCell(cells, { route, candidates: matched, whole: undefined, states: undefined });
      // Past here, does routing still change?
      const extending = state.ids.flatMap((id, k) => (id < split && templates[id]?.extends(state.states[k] as number) ? [k] : []));
      if (extending.every((k) => templates[state.ids[k] as number]?.extendsAll(state.states[k] as number))) {
        const governing = this.winner(
          extending.map((k) => routeIndexes[state.ids[k] as number] as number),
          method,
        );
        const touching = new Map<number, number>();
        const whole: number[] = [];
        state.ids.forEach((id, k) => {
          if (id < split) return;
          const pattern = patterns[id] as SegmentPattern;
          const s = state.states[k] as number;
          if (!pattern.extends(s)) return;
          touching.set(firstCandidate + id - split, s);
          if (pattern.extendsAll(s)) whole.push(firstCandidate + id - split);
        });
        addCell(cells, { route: governing, candidates: [...touching.keys()], whole, states: touching });
        continue;
      }
      const symbols = new Set<string | undefined>();
      state.ids.forEach((id, k) => {
        for (const v of (patterns[id] as SegmentPattern).literals(state.states[k] as number)) symbols.add(v);
      });
      symbols.add(undefined);
      this.steps += symbols.size * state.ids.length;
      if (this.steps > MAX_ANALYSIS_STEPS) return false;
      for (const segment of symbols) {
        const next: State = { ids: [], states: [] };
        state.ids.forEach((id, k) => {
          const s = (patterns[id] as SegmentPattern).step(state.states[k] as number, segment);
          if (s !== DEAD) {
            next.ids.push(id);
            next.states.push(s);
          }
        });
        if (next.ids.length > 0 && seen.add(next.ids, next.states)) queue.push(next);
      }
    }
    for (const cell of cells.values()) this.cells.push(cell);
    return true;
  }

  /** The route API Gateway invokes among those whose templates match: the most specific; on one template an exact method beats `*`. */
  private winner(matching: number[], method: HttpMethod): number {
    let best = -1;
    for (const i of matching) {
      if (best === -1) {
        best = i;
        continue;
      }
      const a = this.routes[i] as AnalysisRoute;
      const b = this.routes[best] as AnalysisRoute;
      const order = compareSpecificity(a.template, b.template);
      if (order < 0 || (order === 0 && b.method !== method && a.method === method)) best = i;
    }
    return best;
  }
}

/** A set of product states (parallel lists of pattern ids and their states), hashed. */
class StateSet {
  private readonly buckets = new Map<number, { ids: number[]; states: number[] }[]>();

  /** Add a state; false when it was already there. */
  add(ids: number[], states: number[]): boolean {
    let h = ids.length | 0;
    for (let k = 0; k < ids.length; k++) {
      h = Math.imul(h ^ (ids[k] as number), 0x01000193);
      h = Math.imul(h ^ (states[k] as number), 0x01000193);
    }
    const bucket = this.buckets.get(h);
    if (bucket === undefined) {
      this.buckets.set(h, [{ ids, states }]);
      return true;
    }
    for (const other of bucket) {
      if (other.ids.length !== ids.length) continue;
      let same = true;
      for (let k = 0; k < ids.length && same; k++) same = other.ids[k] === ids[k] && other.states[k] === states[k];
      if (same) return false;
    }
    bucket.push({ ids, states });
    return true;
  }
}

/** Keep one finite cell per distinct content; every region (each from its own product state) as it comes. */
function addCell(cells: Map<string, Cell>, cell: Cell): void {
  const key = cell.whole ? `R${cells.size}` : `${cell.route}|${cell.candidates.join(',')}`;
  if (!cells.has(key)) cells.set(key, cell);
}

const analyses = new WeakMap<readonly AnalysisRoute[], TableAnalysis>();

/** The analysis of a route table, built on first use and kept for as long as the table is. */
export function analysisOf(routes: readonly AnalysisRoute[]): TableAnalysis {
  let analysis = analyses.get(routes);
  if (analysis === undefined) {
    analysis = new TableAnalysis(routes);
    analyses.set(routes, analysis);
  }
  return analysis;
}

/** A glob's `*` standing for whole segments: one or more. */
const WILD: readonly Tok[] = [ONE, STAR];

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

/**
 * The candidate globs of the routes of one method (as token lists; duplicates possible): each
 * template's glob, one and two segments deeper, each parameter widened to two segments or
 * more (its spill), each prefix's node and subtree, and the meet of two templates of one
 * length that each give it a literal the other has as a parameter.
 */
function* candidateShapes(templates: readonly RouteTemplate[]): Generator<Tok[]> {
  for (const template of templates) {
    const segments = template.segments;
    const base = globToks(segments);
    yield base;
    yield [...base, ...WILD];
    yield [...base, ...WILD, ...WILD];
    for (let k = 0; k < segments.length; k++) {
      if ((segments[k] as { kind: string }).kind === 'literal') continue;
      yield [...globToks(segments.slice(0, k)), ...WILD, ...WILD, ...globToks(segments.slice(k + 1))];
    }
    for (let k = 0; k < segments.length; k++) {
      const prefix = globToks(segments.slice(0, k));
      yield prefix;
      yield [...prefix, ...WILD];
    }
  }
  for (let i = 0; i < templates.length; i++) {
    const a = (templates[i] as RouteTemplate).segments;
    if (a.some((s) => s.kind === 'greedy')) continue;
    for (let j = i + 1; j < templates.length; j++) {
      const b = (templates[j] as RouteTemplate).segments;
      if (b.length !== a.length || b.some((s) => s.kind === 'greedy')) continue;
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

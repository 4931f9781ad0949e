// The proof imports the compiler under proof, and types only of the authorizer's modules: its
// model of API Gateway (gateway-model.ts) is its own, and nothing here routes, parses or
// expands `ANY` with the authorizer's code.
import type { Unrouted } from '../core/config';
import { type CompiledPolicy, type CompileOptions, compilePolicy, type PolicyRoute, renderPolicy } from '../core/policy';
import { Alphabet, LazyDfa, PatternSet } from './automaton';
import { ANY_METHODS, readResourcePath } from './gateway-model';
import {
  DEFAULT_LIMITS,
  type EnumerationLimits,
  enumerateRouteSets,
  type ProofRoute,
  type RouteSet,
  requirementsOf,
  type TokenModel,
} from './route-sets';
import { Router } from './routing';

export type { EnumerationLimits, ProofRoute, RouteSet, TokenModel } from './route-sets';

/**
 * A route of the table under proof: what the proof reads ({@link ProofRoute}: method, path,
 * requirements), and what the compiler under proof reads (its own parsed `template`), which
 * the proof passes on to it and never reads.
 */
export type TableRoute = ProofRoute & PolicyRoute;

/** Where requests no route matches go: `deny` (they reach the authorizer) or `unreachable`. */
export type UnroutedMode = `${Unrouted}`;

/**
 * The proof that compiled policies are exact, over every request string of the API and
 * stage (see docs/proof.md). For each set of routes a token can satisfy, the policy the
 * authorizer would return is rendered, read as the regular language IAM evaluates (Allow
 * globs minus Deny globs), and walked in product with API Gateway's routing
 * ({@link Router}), breadth first, so that every counterexample found is a shortest one:
 *
 * - `complete`: every canonical request of a satisfied route is allowed;
 * - `sound`: no request governed by a route the token does not satisfy is allowed, nor a
 *   request whose routing is undocumented (an empty path segment) while some route is not
 *   satisfied;
 * - `unrouted`: under `unrouted: deny`, no request that no route governs is allowed (nor an
 *   undocumented one).
 *
 * Nothing the compiler says of its own policy excuses a failure; what it says decides only how
 * the authorizer answers ({@link CaseAnswer}), and so which over-denials are no failure.
 */

/** Which property a counterexample breaks. */
export type ProofProperty = 'complete' | 'sound' | 'unrouted';

/** A request that breaks a property. */
export interface Counterexample {
  /** `METHOD /raw/path`, a shortest one. */
  request: string;
  property: ProofProperty;
  /** The route that governs the request (`METHOD /template`), when one does. */
  route?: string;
  /** The counterexample in a sentence: what the policy does, and why it must not. */
  detail: string;
}

/**
 * What the authorizer answers a token of a route set with: its whole-API policy (`cached`:
 * it must be exact); that policy with over-denied requests of routes that accept it
 * (`accepted-over-deny`: the decision denies them too); or, when the compiler found no exact
 * policy and the configuration is uncached, a policy for each request alone (`single-request`:
 * nothing is reused, so only safety is asked of the whole-API policy).
 */
export type CaseAnswer = 'cached' | 'accepted-over-deny' | 'single-request';

/** The proof for one set of satisfied routes. */
export interface ProofCase {
  /** The satisfied routes, `METHOD /path`. */
  satisfied: string[];
  proven: boolean;
  /** Failures: requests the policy gets wrong where it must not. */
  counterexamples: Counterexample[];
  /** Requests the policy denies although the token satisfies their route, where that is no failure (`answer` says why). */
  overDenied: Counterexample[];
  /** Whether the compiler said its policy is exact (the proof decides for itself). */
  compilerExact: boolean;
  answer: CaseAnswer;
  /** A token that satisfies exactly these routes. */
  token: TokenModel;
}

/** The proof for a route table. */
export interface ProofReport {
  /** Every route set a token can satisfy was checked, and none has a counterexample. */
  proven: boolean;
  /** Some checked route set has a counterexample. */
  failed: boolean;
  /** Whether `cases` hold every route set a token can satisfy. */
  exhaustive: boolean;
  /** What was covered, in words; when not exhaustive, what was left out. */
  coverage: string;
  cases: ProofCase[];
  /** Unions of requirement sets explored to find the route sets. */
  unions: number;
  /** Reachable states of the product of the router and the policy patterns (built once, read by every case). */
  states: number;
  /** Wall-clock time of the whole proof, in milliseconds. */
  elapsedMs: number;
}

/** A policy compiler, as the authorizer calls it. */
export type PolicyCompiler = (
  routes: readonly PolicyRoute[],
  isAllowed: (index: number) => boolean,
  options: CompileOptions,
) => CompiledPolicy;

/** Options of {@link proveRouteTable}. */
export interface ProofOptions {
  /** The authorizer's `policyCacheTtlSeconds` (step-up routes must stay fresh that long). Default 0. */
  policyCacheTtlSeconds?: number;
  /** How far the route-set enumeration goes. Default {@link DEFAULT_LIMITS}. */
  limits?: EnumerationLimits;
  /** Counterexamples kept per property and case. Default 5. */
  maxCounterexamples?: number;
  /** The policy compiler under proof. Default the authorizer's `compilePolicy`. */
  compile?: PolicyCompiler;
  /** Whether requests no route matches reach the authorizer. Default `deny`. */
  unrouted?: UnroutedMode;
  /**
   * The authorizer is uncached (`policyCacheTtlSeconds` 0): a route set without an exact
   * policy is answered one request at a time, and its over-denials are no failure. Default false.
   */
  uncached?: boolean;
}

/** Any concrete ARN prefix: the proof is about what follows it. */
const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:proofapi/proof/';

/** `GET/admin/users/` → `GET /admin/users/`. */
export function formatRequest(request: string): string {
  const slash = request.indexOf('/');
  return slash < 0 ? request : `${request.slice(0, slash)} ${request.slice(slash)}`;
}

/** `METHOD /path` of a route. */
export function routeName(route: ProofRoute): string {
  return `${route.method} ${route.path}`;
}

/** What a token lacks for a route it does not satisfy, in words. */
function lacking(route: ProofRoute, token: TokenModel): string {
  const granted = new Set(token.scopes);
  const sets = requirementsOf(route);
  if (sets.some((set) => set.every((s) => granted.has(s)))) {
    return `an authentication recent enough for its maxAuthAgeSeconds (${route.maxAuthAgeSeconds} s)`;
  }
  const missing = sets.map((set) => set.filter((s) => !granted.has(s)).join(' '));
  return missing.length === 1 ? (missing[0] as string) : `any of ${missing.map((m) => `[${m}]`).join(', ')}`;
}

type Finding = ProofProperty | 'undocumented-sound' | 'undocumented-unrouted';

function explain(finding: Finding, request: string, route: ProofRoute | undefined, token: TokenModel): string {
  const name = route ? routeName(route) : '?';
  switch (finding) {
    case 'complete':
      return `${request} is denied, yet the token satisfies ${name}, which governs it`;
    case 'sound':
      return `${request} is allowed for a token without ${route ? lacking(route, token) : '?'} (the request reaches ${name})`;
    case 'unrouted':
      return `${request} is allowed, and no route governs it`;
    case 'undocumented-sound':
      return (
        `${request} is allowed, but API Gateway documents no routing for a path with an empty segment: ` +
        `it might reach ${name}, which the token does not satisfy`
      );
    case 'undocumented-unrouted':
      return `${request} is allowed, but API Gateway documents no routing for a path with an empty segment: it might reach no route`;
  }
}

/** The policy's resource patterns after the stage prefix, which every resource must start with (no other stage or API). */
function patterns(compiled: CompiledPolicy): { allow: string[]; deny: string[] } {
  const out = { allow: [] as string[], deny: [] as string[] };
  for (const statement of renderPolicy(compiled, PREFIX).Statement) {
    for (const resource of statement.Resource) {
      if (!resource.startsWith(PREFIX)) throw new Error(`policy resource ${resource} is not confined to the API and stage`);
      (statement.Effect === 'Allow' ? out.allow : out.deny).push(resource.slice(PREFIX.length));
    }
  }
  return out;
}

/**
 * Every reachable state of the product of the router and one automaton of all the policy
 * patterns of all cases, found breadth first from the empty string: the path to each
 * state in the search tree is a shortest string reaching it. Built once per proof; each
 * case then reads it with its own Allow/Deny roles of the patterns.
 */
class ProductGraph {
  readonly router: number[] = [];
  readonly policy: number[] = [];
  private readonly parent: number[] = [-1];
  private readonly via: number[] = [-1];

  constructor(
    readonly routerDfa: LazyDfa,
    readonly policyDfa: LazyDfa,
    private readonly alphabet: Alphabet,
  ) {
    this.router.push(routerDfa.start);
    this.policy.push(policyDfa.start);
    const seen = new Set<number>([routerDfa.start * 0x100000 + policyDfa.start]);
    const k = alphabet.size;
    for (let node = 0; node < this.router.length; node++) {
      const r = this.router[node] as number;
      const p = this.policy[node] as number;
      const rNamed = routerDfa.named[r] as Uint8Array;
      const pNamed = policyDfa.named[p] as Uint8Array;
      for (let c = 0; c < k; c++) {
        // A class neither automaton names here moves both like class 0: the same successor.
        if (rNamed[c] === 0 && pNamed[c] === 0) continue;
        const r2 = routerDfa.step(r, c);
        if (r2 === 0) continue; // no longer the prefix of a request
        const p2 = policyDfa.step(p, c);
        if (p2 >= 0x100000) throw new Error('policy automaton too large for the proof (over 2^20 states)');
        const key = r2 * 0x100000 + p2;
        if (seen.has(key)) continue;
        seen.add(key);
        this.router.push(r2);
        this.policy.push(p2);
        this.parent.push(node);
        this.via.push(c);
      }
    }
  }

  get size(): number {
    return this.router.length;
  }

  /** A shortest request string reaching `node`, as `METHOD /path`. */
  spell(node: number): string {
    let text = '';
    for (let n = node; n > 0; n = this.parent[n] as number) text = this.alphabet.sample(this.via[n] as number) + text;
    return formatRequest(text);
  }
}

interface CaseInput {
  satisfied: boolean[];
  token: TokenModel;
  compiled: CompiledPolicy;
}

const ALLOW = 1;
const DENY = 2;

function proveCase(
  routes: readonly ProofRoute[],
  router: Router,
  graph: ProductGraph,
  globIds: Map<string, number>,
  input: CaseInput,
  options: { unrouted: UnroutedMode; uncached: boolean; max: number },
): ProofCase {
  const { satisfied, compiled } = input;
  const { allow, deny } = patterns(compiled);
  const role = new Uint8Array(globIds.size);
  for (const g of allow) role[globIds.get(g) as number] |= ALLOW;
  for (const g of deny) role[globIds.get(g) as number] |= DENY;
  // Per policy state: 0 unknown, 1 refused, 2 permitted.
  const permittedMemo = new Uint8Array(graph.policyDfa.size);
  const permitted = (p: number): boolean => {
    let v = permittedMemo[p] as number;
    if (v === 0) {
      let a = false;
      let d = false;
      for (const tag of graph.policyDfa.accepting[p] as number[]) {
        const r = role[tag] as number;
        if (r & ALLOW) a = true;
        if (r & DENY) d = true;
      }
      v = a && !d ? 2 : 1;
      permittedMemo[p] = v;
    }
    return v === 2;
  };

  const counterexamples: Counterexample[] = [];
  const overDenied: Counterexample[] = [];
  const found = new Set<string>();
  const count = { complete: 0, sound: 0, unrouted: 0 };
  // The compiler's own claim decides only what the authorizer answers with (authorize.ts):
  // an inexact policy is returned when its over-denials are accepted, or not at all when the
  // authorizer is uncached. Whether that answer is right is decided here.
  const accepted = !compiled.exact && compiled.overDenied.every((i) => routes[i]?.acceptOverDeny === true);
  const answer: CaseAnswer = compiled.exact ? 'cached' : accepted ? 'accepted-over-deny' : options.uncached ? 'single-request' : 'cached';
  const unsatisfied = satisfied.indexOf(false);
  const report = (finding: Finding, route: number, node: number) => {
    const property: ProofProperty = finding === 'undocumented-sound' ? 'sound' : finding === 'undocumented-unrouted' ? 'unrouted' : finding;
    const key = `${finding} ${route}`;
    if (found.has(key) || count[property] >= options.max) return;
    found.add(key);
    count[property]++;
    const r = routes[route];
    const request = graph.spell(node);
    const x: Counterexample = {
      request,
      property,
      ...(r ? { route: routeName(r) } : {}),
      detail: explain(finding, request, r, input.token),
    };
    const excused =
      property === 'complete' && (answer === 'single-request' || (answer === 'accepted-over-deny' && r?.acceptOverDeny === true));
    (excused ? overDenied : counterexamples).push(x);
  };

  // Nodes are in breadth-first order: the first node to break a property is a shortest witness.
  for (let node = 0; node < graph.size; node++) {
    const rv = router.verdict(graph.router[node] as number);
    if (!rv.request) continue;
    const allowed = permitted(graph.policy[node] as number);
    if (!rv.documented) {
      if (allowed && unsatisfied >= 0) report('undocumented-sound', unsatisfied, node);
      else if (allowed && options.unrouted === 'deny') report('undocumented-unrouted', -1, node);
      continue;
    }
    if (!allowed && rv.canonical >= 0 && satisfied[rv.canonical]) report('complete', rv.canonical, node);
    if (allowed && rv.governed >= 0 && !satisfied[rv.governed]) report('sound', rv.governed, node);
    if (allowed && rv.governed < 0 && options.unrouted === 'deny') report('unrouted', -1, node);
  }
  return {
    satisfied: routes.flatMap((route, i) => (satisfied[i] ? [routeName(route)] : [])),
    proven: counterexamples.length === 0,
    counterexamples,
    overDenied,
    compilerExact: compiled.exact,
    answer,
    token: input.token,
  };
}

/**
 * Decide the three properties for the given route sets of a table (`$default` routes
 * already left out): the core of {@link proveRouteTable}, for callers that choose the sets.
 */
export function proveRouteSets(
  routes: readonly TableRoute[],
  sets: readonly RouteSet[],
  options: Pick<ProofOptions, 'compile' | 'maxCounterexamples' | 'unrouted' | 'uncached'> = {},
): { cases: ProofCase[]; states: number } {
  const compile = options.compile ?? compilePolicy;
  const unrouted: UnroutedMode = options.unrouted ?? 'deny';
  const mayOverDeny = (i: number) => routes[i]?.acceptOverDeny === true;
  const inputs: CaseInput[] = sets.map((set) => ({
    ...set,
    compiled: compile(routes, (i) => set.satisfied[i] === true, { unrouted: unrouted as Unrouted, mayOverDeny }),
  }));
  const perCase = inputs.map((input) => {
    const { allow, deny } = patterns(input.compiled);
    return [...allow, ...deny];
  });
  // One alphabet for the whole proof: the table's characters and every pattern's.
  const literals: string[] = [...ANY_METHODS];
  for (const route of routes) {
    literals.push(route.method);
    for (const part of readResourcePath(route.path).parts) if (part.kind === 'fixed') literals.push(part.text);
  }
  for (const globs of perCase) for (const glob of globs) literals.push(glob.replace(/[*?]/g, ''));
  const alphabet = new Alphabet(literals);
  const router = new Router(routes, alphabet);
  // One automaton for every pattern of every case, each pattern tagged with its index.
  const globIds = new Map<string, number>();
  const policySet = new PatternSet(alphabet);
  for (const globs of perCase) {
    for (const glob of globs) {
      if (globIds.has(glob)) continue;
      globIds.set(glob, globIds.size);
      policySet.add(policySet.glob(glob), globIds.size - 1);
    }
  }
  const graph = new ProductGraph(router.dfa, new LazyDfa(policySet), alphabet);
  const caseOptions = { unrouted, uncached: options.uncached ?? false, max: options.maxCounterexamples ?? 5 };
  return { cases: inputs.map((input) => proveCase(routes, router, graph, globIds, input, caseOptions)), states: graph.size };
}

/**
 * Prove the policies of a route table exact (see the module comment): for every set of
 * routes a token can satisfy (or, for tables with too many, those the report's `coverage`
 * names), decide the three properties over all request strings.
 */
export function proveRouteTable(table: readonly TableRoute[], options: ProofOptions = {}): ProofReport {
  const started = performance.now();
  // HTTP API's catch-all `$default` has no resource path: the policy compiler never sees it.
  const routes = table.filter((r) => r.path !== '$default');
  const enumeration = enumerateRouteSets(routes, options.policyCacheTtlSeconds ?? 0, options.limits ?? DEFAULT_LIMITS);
  const { cases, states } = proveRouteSets(routes, enumeration.sets, options);
  const failed = cases.some((c) => !c.proven);
  return {
    proven: !failed && enumeration.exhaustive,
    failed,
    exhaustive: enumeration.exhaustive,
    coverage: enumeration.coverage,
    cases,
    unions: enumeration.unions,
    states,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/**
 * A route set that has no exact cached policy, with its witness: a case that fails only by
 * over-denying (`complete`) where the compiler itself said it found no exact policy, which an
 * uncached authorizer answers one request at a time. `undefined` when there is none.
 */
export function noExactCachedPolicy(report: ProofReport): { case: ProofCase; witness: Counterexample } | undefined {
  for (const c of report.cases) {
    const witness = c.counterexamples[0];
    if (witness && !c.compilerExact && c.counterexamples.every((x) => x.property === 'complete')) return { case: c, witness };
  }
  return undefined;
}

/** The scopes of a token, in words. */
export function tokenScopes(token: TokenModel): string {
  return token.scopes.length > 0 ? token.scopes.join(' ') : 'no scope';
}

/**
 * The failures of a report as synth errors: one line per distinct counterexample (at most
 * `max`), naming the property, the request, the route and the token; empty when none.
 */
export function proofErrors(report: ProofReport, max = 10): string[] {
  const errors = new Map<string, string>();
  for (const c of report.cases) {
    for (const x of c.counterexamples) {
      if (errors.size >= max) break;
      if (!errors.has(x.detail))
        errors.set(x.detail, `policy proof (${x.property}): ${x.detail}; token with ${tokenScopes(c.token)} (docs/proof.md)`);
    }
  }
  return [...errors.values()];
}

/**
 * The proof of a validated configuration as synth errors (see {@link proofErrors}): uncached
 * when its `policyCacheTtlSeconds` is 0.
 */
export function routeTableProofErrors(
  config: { routes: readonly TableRoute[]; policyCacheTtlSeconds: number; unrouted?: UnroutedMode },
  options: Pick<ProofOptions, 'compile'> & { max?: number } = {},
): string[] {
  const report = proveRouteTable(config.routes, {
    policyCacheTtlSeconds: config.policyCacheTtlSeconds,
    unrouted: config.unrouted ?? 'deny',
    uncached: config.policyCacheTtlSeconds === 0,
    ...(options.compile ? { compile: options.compile } : {}),
  });
  return proofErrors(report, options.max);
}

import type { DFA, NFA } from 'refa';
import { type CompiledPolicy, compilePolicy, type PolicyInexactness, type PolicyRoute, renderPolicy } from '../functions/authorizer/policy';
import { accepts, complement, globNfa, globsDfa, intersect, type Language, shortestCommon, union } from './languages';
import { enumerateRouteSets, type ProofRoute, type RouteSet, type TokenModel } from './route-sets';
import { type RoutingModel, routingModel } from './routing';

export type { ProofRoute, TokenModel } from './route-sets';

/**
 * The proof that a compiled policy is exact, over every request string of the API and
 * stage (see docs/proof.md). For each set of routes a token can satisfy, the policy the
 * authorizer would return is rendered, read as the regular language IAM evaluates
 * (Allow globs minus Deny globs), and compared with API Gateway's routing:
 *
 * - `complete`: every canonical request of a satisfied route is allowed;
 * - `sound`: no request governed by a route the token does not satisfy is allowed;
 * - `unrouted`: no request that no route governs is allowed, except inside a pattern the
 *   compiler reports as `unrouted_allowed`.
 *
 * A `complete` failure inside a pattern the compiler reports as `over_deny` is excused the
 * same way. Each reported inexactness is confirmed with a witness (or said to be unseen).
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
}

/** An inexactness the compiler reported, and a request that shows it. */
export interface ConfirmedInexactness extends PolicyInexactness {
  /** A shortest request inside the pattern that the inexactness lets through (or denies); absent when none exists. */
  witness?: string;
}

/** The proof for one set of satisfied routes. */
export interface ProofCase {
  /** The satisfied routes, `METHOD /path`. */
  satisfied: string[];
  proven: boolean;
  counterexamples: Counterexample[];
  inexact: ConfirmedInexactness[];
  /** A token that satisfies exactly these routes. */
  token: TokenModel;
}

/** The proof for a route table. */
export interface ProofReport {
  proven: boolean;
  cases: ProofCase[];
  /** What was covered, in words: all reachable route sets, or which sample. */
  coverage: string;
  /** Whether `cases` hold every route set a token can satisfy. */
  exhaustive: boolean;
  elapsedMs: number;
}

/** Options of {@link proveRouteTable}. */
export interface ProofOptions {
  /** The authorizer's `policyCacheTtlSeconds` (step-up routes must stay fresh that long). Default 0. */
  policyCacheTtlSeconds?: number;
  /** Enumerate at most this many scope sets before falling back to a sample. Default 256. */
  maxScopeSets?: number;
  /** Counterexamples kept per property and case. Default 5. */
  maxCounterexamples?: number;
  /** The policy compiler under proof. Default the authorizer's `compilePolicy` (tests inject faults here). */
  compile?: (routes: readonly PolicyRoute[], isAllowed: (index: number) => boolean) => CompiledPolicy;
}

/** Any concrete ARN prefix: the proof is about what follows it. */
const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:proofapi/proof/';

/** `GET/admin/users/` → `GET /admin/users/`. */
export function formatRequest(request: string): string {
  const slash = request.indexOf('/');
  return slash < 0 ? request : `${request.slice(0, slash)} ${request.slice(slash)}`;
}

function routeName(route: ProofRoute): string {
  return `${route.method} ${route.path}`;
}

/** The policy's resources after the stage prefix. Every resource must start with the literal prefix (no other stage or API). */
function relativeResources(resources: readonly string[]): string[] {
  return resources.map((r) => {
    if (!r.startsWith(PREFIX)) throw new Error(`policy resource ${r} is not confined to the API and stage`);
    return r.slice(PREFIX.length);
  });
}

/**
 * Up to `max` witnesses of `lang ∩ (∪ parts)`, each naming the part (route) it falls in:
 * first one shortest witness of the whole union, then one per part.
 */
function witnesses(
  parts: { index: number; lang: DFA }[],
  against: Language,
  max: number,
): { request: string; index: number | undefined }[] {
  if (parts.length === 0) return [];
  const whole = shortestCommon(union(parts.map((p) => p.lang)), against);
  if (whole === undefined) return [];
  const out: { request: string; index: number | undefined }[] = [];
  for (const part of parts) {
    if (out.length >= max) break;
    const w = shortestCommon(part.lang, against);
    if (w !== undefined) out.push({ request: w, index: part.index });
  }
  out.sort((a, b) => a.request.length - b.request.length);
  return out;
}

function proveCase(routes: readonly ProofRoute[], model: RoutingModel, set: RouteSet, options: Required<Omit<ProofOptions, 'policyCacheTtlSeconds' | 'maxScopeSets'>>): ProofCase {
  const { satisfied } = set;
  const compiled = options.compile(routes, (i) => satisfied[i] === true);
  const policy = renderPolicy(compiled, PREFIX);
  const allowGlobs: string[] = [];
  const denyGlobs: string[] = [];
  for (const statement of policy.Statement) {
    (statement.Effect === 'Allow' ? allowGlobs : denyGlobs).push(...relativeResources(statement.Resource));
  }
  const permitted = intersect(globsDfa(allowGlobs), complement(globsDfa(denyGlobs)));
  const refused = complement(permitted);
  const overDeny = compiled.inexact.filter((x) => x.kind === 'over_deny').map((x) => x.pattern);
  const unroutedOk = compiled.inexact.filter((x) => x.kind === 'unrouted_allowed').map((x) => x.pattern);
  const max = options.maxCounterexamples;

  const counterexamples: Counterexample[] = [];
  const named = (property: ProofProperty) => (w: { request: string; index: number | undefined }) => {
    const route = w.index === undefined ? undefined : routes[w.index];
    counterexamples.push({ request: formatRequest(w.request), property, ...(route ? { route: routeName(route) } : {}) });
  };
  const inS = routes.flatMap((_, i) => (satisfied[i] ? [{ index: i, lang: model.canonical[i] as DFA }] : []));
  const outS = routes.flatMap((_, i) => (satisfied[i] ? [] : [{ index: i, lang: model.governed[i] as DFA }]));
  const refusedUnexcused = overDeny.length > 0 ? intersect(refused, complement(globsDfa(overDeny))) : refused;
  witnesses(inS, refusedUnexcused, max).forEach(named('complete'));
  witnesses(outS, permitted, max).forEach(named('sound'));
  const permittedUnexcused = unroutedOk.length > 0 ? intersect(permitted, complement(globsDfa(unroutedOk))) : permitted;
  const unrouted = shortestCommon(model.unrouted, permittedUnexcused);
  if (unrouted !== undefined) named('unrouted')({ request: unrouted, index: undefined });

  // Confirm each reported inexactness with a request it concerns.
  let deniedOfS: DFA | undefined;
  let allowedUnrouted: DFA | undefined;
  const inexact = compiled.inexact.map((x): ConfirmedInexactness => {
    let lang: DFA;
    if (x.kind === 'over_deny') {
      deniedOfS ??= intersect(union(inS.map((p) => p.lang)) as NFA, refused);
      lang = deniedOfS;
    } else {
      allowedUnrouted ??= intersect(model.unrouted, permitted);
      lang = allowedUnrouted;
    }
    const witness = shortestCommon(lang, globNfa(x.pattern));
    return { ...x, ...(witness !== undefined ? { witness: formatRequest(witness) } : {}) };
  });

  return {
    satisfied: routes.flatMap((r, i) => (satisfied[i] ? [routeName(r)] : [])),
    proven: counterexamples.length === 0,
    counterexamples,
    inexact,
    token: set.token,
  };
}

/**
 * Prove the policies of a route table exact (see the module comment): for every set of
 * routes a token can satisfy (or, for tables with too many, the sample the report's
 * `coverage` names), decide the three properties over all request strings.
 */
export function proveRouteTable(routes: readonly ProofRoute[], options: ProofOptions = {}): ProofReport {
  const started = performance.now();
  const model = routingModel(routes);
  const enumeration = enumerateRouteSets(routes, options.policyCacheTtlSeconds ?? 0, options.maxScopeSets ?? 256);
  const caseOptions = { compile: options.compile ?? compilePolicy, maxCounterexamples: options.maxCounterexamples ?? 5 };
  const cases = enumeration.sets.map((set) => proveCase(routes, model, set, caseOptions));
  return {
    proven: cases.every((c) => c.proven),
    cases,
    coverage: enumeration.coverage,
    exhaustive: enumeration.exhaustive,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** Whether a request string (`METHOD /path`) is allowed by a compiled policy, as the proof reads it (for tests and tools). */
export function policyAllows(compiled: CompiledPolicy, request: string): boolean {
  const policy = renderPolicy(compiled, PREFIX);
  const text = request.replace(' ', '');
  let allowed = false;
  for (const statement of policy.Statement) {
    const hit = relativeResources(statement.Resource).some((g) => accepts(globsDfa([g]), text));
    if (hit && statement.Effect === 'Deny') return false;
    if (hit) allowed = true;
  }
  return allowed;
}

import type { PolicyRoute } from '../functions/authorizer/policy';

/**
 * The sets of routes a token can satisfy. A route is satisfied when the token holds all
 * the scopes of one of its requirement sets (`scopes`, or one of `anyOf`) and, for a
 * step-up route, authenticated recently enough that the Allow stays fresh for as long as
 * API Gateway may cache it.
 */

/** A route as the proof reads it: the compiler's fields, its requirements and its step-up. */
export interface ProofRoute extends PolicyRoute {
  path: string;
  /** All required (ignored when `anyOf` is given). */
  scopes: readonly string[];
  /** Alternatives: any one set, all of its scopes. */
  anyOf?: readonly (readonly string[])[] | undefined;
  maxAuthAgeSeconds?: number | undefined;
  /** The configuration accepts that a cached policy over-deny this route where no exact one exists. */
  acceptOverDeny?: boolean | undefined;
}

/** A token as far as route satisfaction goes. */
export interface TokenModel {
  scopes: readonly string[];
  /** Seconds since authentication; `undefined` when unknown (or too old for every step-up route). */
  authAgeSeconds: number | undefined;
}

/** One set of routes some token satisfies, with the first token found that does. */
export interface RouteSet {
  satisfied: boolean[];
  token: TokenModel;
}

/** The route sets to prove, and what they cover. */
export interface RouteSetEnumeration {
  sets: RouteSet[];
  /** True when every route set a token can reach is among `sets`. */
  exhaustive: boolean;
  coverage: string;
}

/** The requirement sets of a route: `anyOf`, else its `scopes` as the one set. */
export function requirementsOf(route: ProofRoute): readonly (readonly string[])[] {
  return route.anyOf ?? [route.scopes];
}

/** Whether a token satisfies a route (the authorizer's rule). */
export function satisfies(route: ProofRoute, token: TokenModel, policyCacheTtlSeconds: number): boolean {
  const granted = new Set(token.scopes);
  if (!requirementsOf(route).some((set) => set.every((s) => granted.has(s)))) return false;
  if (route.maxAuthAgeSeconds === undefined) return true;
  return token.authAgeSeconds !== undefined && token.authAgeSeconds + policyCacheTtlSeconds <= route.maxAuthAgeSeconds;
}

function key(scopes: Iterable<string>): string {
  return [...scopes].sort().join(' ');
}

/**
 * Enumerate the route sets. A token's verdicts depend only on which requirement sets its
 * scopes contain, so the scope sets worth trying are the unions of requirement sets;
 * they are enumerated breadth first up to `maxScopeSets`. Beyond that, a reachable
 * sample is tried: no scope, every scope, each requirement set alone, every scope but one.
 * Each scope set is tried at every authentication age that changes a step-up verdict.
 */
export function enumerateRouteSets(
  routes: readonly ProofRoute[],
  policyCacheTtlSeconds: number,
  maxScopeSets: number,
): RouteSetEnumeration {
  const requirements = new Map<string, string[]>();
  for (const route of routes) for (const set of requirementsOf(route)) requirements.set(key(set), [...new Set(set)].sort());
  const reqs = [...requirements.values()];
  const atoms = [...new Set(reqs.flat())].sort();

  let scopeSets: string[][] = [];
  let exhaustive = true;
  const seen = new Map<string, string[]>([['', []]]);
  const queue: string[][] = [[]];
  while (queue.length > 0 && exhaustive) {
    const current = queue.shift() as string[];
    for (const req of reqs) {
      const next = [...new Set([...current, ...req])].sort();
      const k = next.join(' ');
      if (seen.has(k)) continue;
      if (seen.size >= maxScopeSets) {
        exhaustive = false;
        break;
      }
      seen.set(k, next);
      queue.push(next);
    }
  }
  let scopeText: string;
  if (exhaustive) {
    scopeSets = [...seen.values()];
    scopeText = `every combination of the ${reqs.length} distinct requirement sets over ${atoms.length} scopes (${scopeSets.length} scope sets)`;
  } else {
    const sample = new Map<string, string[]>();
    const add = (s: string[]) => sample.set(key(s), [...s].sort());
    add([]);
    add(atoms);
    for (const req of reqs) add(req);
    for (const atom of atoms) add(atoms.filter((a) => a !== atom));
    scopeSets = [...sample.values()];
    scopeText =
      `a sample of the scope sets: the ${reqs.length} distinct requirement sets over ${atoms.length} scopes combine into more than ` +
      `${maxScopeSets} scope sets, so tried were no scope, all ${atoms.length} scopes, each requirement set alone and all scopes but one ` +
      `(${scopeSets.length} scope sets); route sets reachable only by other combinations were not checked`;
  }

  const ages = new Set<number>();
  for (const route of routes) {
    const max = route.maxAuthAgeSeconds;
    if (max !== undefined && max > policyCacheTtlSeconds) ages.add(max - policyCacheTtlSeconds);
  }
  const ageList: (number | undefined)[] = [undefined, ...[...ages].sort((a, b) => b - a)];
  const ageText =
    ageList.length === 1
      ? ''
      : `, each at ${ageList.length} authentication ages (${ageList.map((a) => (a === undefined ? 'too old for any step-up route' : `${a} s`)).join(', ')})`;

  const sets: RouteSet[] = [];
  const masks = new Set<string>();
  for (const scopes of scopeSets) {
    for (const authAgeSeconds of ageList) {
      const token = { scopes, authAgeSeconds };
      const satisfied = routes.map((r) => satisfies(r, token, policyCacheTtlSeconds));
      const mask = satisfied.map((v) => (v ? '1' : '0')).join('');
      if (masks.has(mask)) continue;
      masks.add(mask);
      sets.push({ satisfied, token });
    }
  }
  const coverage = `${sets.length} distinct route sets from ${scopeText}${ageText}${exhaustive ? ': every route set a token can satisfy' : ''}`;
  return { sets, exhaustive, coverage };
}

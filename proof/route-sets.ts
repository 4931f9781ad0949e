/**
 * The sets of routes a token can satisfy. A route is satisfied when the token holds all the
 * scopes of one of its requirement sets (`scopes`, or one of `anyOf`) and, for a step-up route,
 * authenticated recently enough that the Allow stays fresh for as long as API Gateway may
 * cache it (the authorizer's rule, read here from the configuration, not from its code).
 *
 * A token's verdicts depend only on which requirement sets its scopes contain, so the scope
 * sets worth trying are the unions of requirement sets. They are explored breadth first (no
 * requirement set, each one, each two combined, …), and each distinct *route set* they reach
 * is proven once. Two unions can satisfy the same routes and still differ in what they lead
 * to (`[a]` and `[b]` both satisfy a route with `anyOf: [[a],[b]]`, but only `a` completes
 * `[a,c]`), so unions are kept apart by what matters for their successors: the requirement
 * sets they contain and the scopes they hold of the others.
 */

/** A route as the proof reads it: method, resource path, requirements, step-up. */
export interface ProofRoute {
  /** An HTTP method, or `*` (API Gateway's `ANY`). */
  method: string;
  /** The resource path (`/users/{id}`), read by the proof's own model. */
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

/** How far the enumeration goes before it stops and says what it left out. */
export interface EnumerationLimits {
  /** Distinct route sets to prove at most. */
  maxRouteSets: number;
  /** Distinct unions of requirement sets to explore at most (several may give one route set). */
  maxUnions: number;
}

/**
 * The limits of `scopegate verify` and of the construct's synth-time proof, chosen by
 * measurement (docs/proof.md): on the 100-route table of the tests, 4 096 route sets (every
 * token combining up to two of its 80 requirement sets) take about 2 s in a fresh process,
 * about the time of a small synth; exploring a union costs some 25 µs. Every table whose
 * tokens can satisfy at most 4 096 route sets (twelve independent scopes) is covered exhaustively.
 */
export const DEFAULT_LIMITS: EnumerationLimits = { maxRouteSets: 4096, maxUnions: 32_768 };

/** The route sets to prove, and what they cover. */
export interface RouteSetEnumeration {
  sets: RouteSet[];
  /** True when every route set a token can reach is among `sets`. */
  exhaustive: boolean;
  /** What was covered, in words; when not exhaustive, what was left out. */
  coverage: string;
  /** Unions of requirement sets explored. */
  unions: number;
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

/** A set of scopes as bits, one word per 32 scopes. */
type Bits = Uint32Array;

function covers(outer: Bits, inner: Bits): boolean {
  for (let w = 0; w < inner.length; w++) if (((inner[w] as number) & ~(outer[w] as number)) !== 0) return false;
  return true;
}

function union(a: Bits, b: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let w = 0; w < a.length; w++) out[w] = (a[w] as number) | (b[w] as number);
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One explored union: its scopes, the requirement sets worth adding to it, and how many it combines. */
interface Union {
  scopes: Bits;
  open: Uint8Array;
  depth: number;
}

/**
 * Enumerate the route sets (see the module comment), each at every authentication age that
 * changes a step-up verdict, up to `limits`; `exhaustive` says whether the exploration ended
 * on its own, and `coverage` what it covered and, when not, what it left out.
 */
export function enumerateRouteSets(
  routes: readonly ProofRoute[],
  policyCacheTtlSeconds: number,
  limits: EnumerationLimits = DEFAULT_LIMITS,
): RouteSetEnumeration {
  const atoms = [...new Set(routes.flatMap((r) => requirementsOf(r).flat()))].sort();
  const atomIndex = new Map(atoms.map((a, i) => [a, i]));
  const words = Math.max(1, Math.ceil(atoms.length / 32));
  const bitsOf = (scopes: readonly string[]): Bits => {
    const bits = new Uint32Array(words);
    for (const s of scopes) {
      const i = atomIndex.get(s) as number;
      bits[i >> 5] = (bits[i >> 5] as number) | (1 << (i & 31));
    }
    return bits;
  };
  const reqKeys = new Map<string, number>();
  const reqs: Bits[] = [];
  const reqsOfRoute = routes.map((route) =>
    requirementsOf(route).map((set) => {
      const key = [...new Set(set)].sort().join(' ');
      let id = reqKeys.get(key);
      if (id === undefined) {
        id = reqs.length;
        reqKeys.set(key, id);
        reqs.push(bitsOf(set));
      }
      return id;
    }),
  );

  const ages = new Set<number>();
  for (const route of routes) {
    const max = route.maxAuthAgeSeconds;
    if (max !== undefined && max > policyCacheTtlSeconds) ages.add(max - policyCacheTtlSeconds);
  }
  const ageList: (number | undefined)[] = [undefined, ...[...ages].sort((a, b) => b - a)];

  const sets: RouteSet[] = [];
  const masks = new Set<string>();
  /** Per route, whether `scopes` hold one of its requirement sets (step-up aside). */
  const routesHeld = (scopes: Bits): Uint8Array => {
    const heldReq = reqs.map((req) => covers(scopes, req));
    return Uint8Array.from(reqsOfRoute, (ids) => (ids.some((q) => heldReq[q]) ? 1 : 0));
  };
  /** Add the route sets of a token holding `scopes`, at every age; false when `cap` stopped it. */
  const addRouteSets = (scopes: Bits, held: Uint8Array, cap: number): boolean => {
    const granted = atoms.filter((_, i) => ((scopes[i >> 5] as number) >>> (i & 31)) & 1);
    for (const authAgeSeconds of ageList) {
      const satisfied = routes.map((route, r) => {
        if (held[r] === 0) return false;
        const max = route.maxAuthAgeSeconds;
        return max === undefined || (authAgeSeconds !== undefined && authAgeSeconds + policyCacheTtlSeconds <= max);
      });
      const mask = satisfied.map((v) => (v ? '1' : '0')).join('');
      if (masks.has(mask)) continue;
      if (sets.length >= cap) return false;
      masks.add(mask);
      sets.push({ satisfied, token: { scopes: granted, authAgeSeconds } });
    }
    return true;
  };

  const seen = new Set<string>();
  const queue: Union[] = [];
  let stopped: 'route sets' | 'unions' | undefined;
  /** Explore a union unless one with the same future is known; false once a limit is reached. */
  const visit = (scopes: Bits, depth: number): boolean => {
    const held = routesHeld(scopes);
    // What decides the route sets reachable from here: the routes held, and the scopes held
    // among the requirement sets of the others (the only ones worth adding: a route already
    // held adds nothing, and a scope only matters through a requirement set that holds it).
    const open = new Uint8Array(reqs.length);
    const rest = new Uint32Array(words);
    reqsOfRoute.forEach((ids, r) => {
      if (held[r] === 1) return;
      for (const q of ids) {
        open[q] = 1;
        const req = reqs[q] as Bits;
        for (let w = 0; w < words; w++) rest[w] = (rest[w] as number) | ((req[w] as number) & (scopes[w] as number));
      }
    });
    const key = `${held.join('')}|${rest.join(',')}`;
    if (seen.has(key)) return true;
    if (seen.size >= limits.maxUnions) {
      stopped = 'unions';
      return false;
    }
    seen.add(key);
    queue.push({ scopes, open, depth });
    if (addRouteSets(scopes, held, limits.maxRouteSets)) return true;
    stopped = 'route sets';
    return false;
  };

  let complete = 0;
  visit(new Uint32Array(words), 0);
  for (let head = 0; head < queue.length && stopped === undefined; head++) {
    const current = queue[head] as Union;
    complete = current.depth;
    for (let q = 0; q < reqs.length && stopped === undefined; q++) {
      if (current.open[q] === 1) visit(union(current.scopes, reqs[q] as Bits), current.depth + 1);
    }
  }
  if (stopped !== undefined) {
    // From the top as well: every scope, and every scope but one (an administrator's token and its near misses).
    const all = bitsOf(atoms);
    const tops = [all, ...atoms.map((_, i) => all.map((w, k) => (k === i >> 5 ? w & ~(1 << (i & 31)) : w)))];
    for (const scopes of tops) addRouteSets(scopes, routesHeld(scopes), limits.maxRouteSets + tops.length * ageList.length);
  }

  const agesText =
    ageList.length === 1
      ? ''
      : `, each at ${ageList.length} authentication ages (${ageList.map((a) => (a === undefined ? 'too old for any step-up route' : `${a} s`)).join(', ')})`;
  const from = `the unions of the ${plural(reqs.length, 'distinct requirement set')} over ${plural(atoms.length, 'scope')}${agesText}`;
  const exhaustive = stopped === undefined;
  if (exhaustive) {
    return {
      sets,
      exhaustive,
      coverage: `every route set a token can satisfy: ${plural(sets.length, 'distinct route set')}, from ${from}`,
      unions: seen.size,
    };
  }
  const limit = stopped === 'route sets' ? `${limits.maxRouteSets} route sets` : `${limits.maxUnions} unions explored`;
  const upTo =
    complete >= 1 ? `every route set of a token that combines up to ${plural(complete, 'requirement set')}` : 'the token with no scope';
  return {
    sets,
    exhaustive,
    coverage:
      `not every route set: ${plural(sets.length, 'distinct route set')} checked, from ${from}, combined one more at a time until the limit ` +
      `(${limit}), then every scope and every scope but one; covered: ${upTo}; route sets that only tokens combining more ` +
      'requirement sets satisfy may not have been checked',
    unions: seen.size,
  };
}

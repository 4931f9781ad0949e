import { DFA, getIntersectionWordSets, JS, NFA, type TransitionIterable } from 'refa';
import type { CompiledPolicy } from '../../../core/policy';
import { ANY_METHODS, type GatewayRoute, readResourcePath, takesPrecedence } from '../../../proof/gateway-model';

/**
 * A second implementation of the proof's decision, on refa's automata (JS regexes over
 * UTF-16, set operations by determinization and complement, precedence as language
 * difference), to check proof/'s automata and search against. It reads API Gateway through
 * the proof's model (gateway-model.ts), which routing.test.ts checks on its own. Slow (see
 * docs/proof.md), so for small tables only.
 */

const MAX_CHAR = 0xffff;

function nfa(source: string): NFA {
  const { expression } = JS.Parser.fromLiteral({ source, flags: '' }).parse();
  return NFA.fromRegex(expression, { maxCharacter: MAX_CHAR });
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

const SEGMENT = '[^/]+';

/** The requests of a route, canonical or with a trailing slash. */
function routeRegex(route: GatewayRoute, trailingSlash: boolean): string {
  let source = route.method === '*' ? `(?:${ANY_METHODS.join('|')})` : escapeRegex(route.method);
  const parts = readResourcePath(route.path).parts;
  if (parts.length === 0) return `${source}/`;
  for (const part of parts) {
    source += '/';
    source += part.kind === 'fixed' ? escapeRegex(part.text) : part.kind === 'variable' ? SEGMENT : `${SEGMENT}(?:/${SEGMENT})*`;
  }
  return trailingSlash ? `${source}/` : source;
}

function union(list: readonly NFA[]): NFA {
  const out = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const x of list) out.union(x);
  return out;
}

function globs(list: readonly string[]): DFA {
  return DFA.fromFA(union(list.map((g) => nfa([...g].map((ch) => (ch === '*' ? '[^]*' : ch === '?' ? '[^]' : escapeRegex(ch))).join('')))));
}

function minus<A>(a: TransitionIterable<A>, b: readonly NFA[]): DFA {
  const not = DFA.fromFA(union(b));
  not.complement();
  return DFA.fromIntersection(a, not);
}

function shortest<A, B>(a: TransitionIterable<A>, b: TransitionIterable<B>): number | undefined {
  for (const words of getIntersectionWordSets(a, b)) return words.length;
  return undefined;
}

function least(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * Per property and route (`-1` for none), the length of a shortest counterexample, as refa
 * finds them, with `unrouted: deny`. Requests with an undocumented route (an empty segment
 * other than one trailing `/`) count against the first route the token does not satisfy, else
 * as unrouted.
 */
export function refaCounterexamples(
  routes: readonly GatewayRoute[],
  satisfied: readonly boolean[],
  compiled: CompiledPolicy,
): Map<string, number> {
  const read = routes.map((r) => ({ method: r.method, resource: readResourcePath(r.path) }));
  const canonicalT = routes.map((r) => nfa(routeRegex(r, false)));
  const collapsedT = routes.map((r, i) => nfa(read[i]?.resource.parts.length === 0 ? routeRegex(r, false) : `${routeRegex(r, false)}/?`));
  const winners = read.map((r, i) => read.flatMap((q, k) => (k !== i && takesPrecedence(q, r) ? [k] : [])));
  const canonical = routes.map((_, i) =>
    minus(
      canonicalT[i] as NFA,
      (winners[i] as number[]).map((k) => canonicalT[k] as NFA),
    ),
  );
  const governed = routes.map((_, i) =>
    minus(
      collapsedT[i] as NFA,
      (winners[i] as number[]).map((k) => collapsedT[k] as NFA),
    ),
  );
  const documented = nfa(`${SEGMENT}/(?:${SEGMENT}(?:/${SEGMENT})*/?)?`);
  const unrouted = minus(documented, collapsedT);
  const undocumented = minus(nfa('[^/]+/[^]*'), [documented]);

  const deny = compiled.allow.length > 0 ? compiled.deny : ['*'];
  const notDeny = globs(deny);
  notDeny.complement();
  const permitted = DFA.fromIntersection(globs(compiled.allow), notDeny);
  const refused = permitted.copy();
  refused.complement();
  const out = new Map<string, number>();
  routes.forEach((_, i) => {
    const n = satisfied[i] ? shortest(canonical[i] as DFA, refused) : shortest(governed[i] as DFA, permitted);
    if (n !== undefined) out.set(`${satisfied[i] ? 'complete' : 'sound'} ${i}`, n);
  });
  const first = satisfied.indexOf(false);
  const key = first >= 0 ? `sound ${first}` : 'unrouted -1';
  let n = shortest(unrouted, permitted);
  if (n !== undefined) out.set('unrouted -1', n);
  n = least(out.get(key), shortest(undocumented, permitted));
  if (n !== undefined) out.set(key, n);
  return out;
}

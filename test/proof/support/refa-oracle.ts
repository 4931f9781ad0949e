import { DFA, getIntersectionWordSets, JS, NFA, type TransitionIterable } from 'refa';
import { HTTP_METHODS } from '../../../functions/authorizer/config';
import type { CompiledPolicy, PolicyRoute } from '../../../functions/authorizer/policy';
import { compareSpecificity, type RouteTemplate } from '../../../functions/authorizer/routes';

/**
 * A second implementation of the proof's decision, on refa's automata (JS regexes over
 * UTF-16, set operations by determinization and complement, precedence as language
 * difference), to check proof/ against. Slow (see docs/proof.md), so for small tables only.
 */

const MAX_CHAR = 0xffff;

function nfa(source: string): NFA {
  const { expression } = JS.Parser.fromLiteral({ source, flags: '' }).parse();
  return NFA.fromRegex(expression, { maxCharacter: MAX_CHAR });
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

const METHODS = `(?:${HTTP_METHODS.join('|')})`;

function template(method: string, t: RouteTemplate, form: 'canonical' | 'collapsed'): NFA {
  const sep = form === 'canonical' ? '/' : '/+';
  let source = method === '*' ? METHODS : escapeRegex(method);
  if (t.segments.length === 0) return nfa(`${source}${sep}`);
  for (const seg of t.segments) {
    source += sep;
    source += seg.kind === 'literal' ? escapeRegex(seg.value) : seg.kind === 'param' ? '[^/]+' : `[^/]+(?:${sep}[^/]+)*`;
  }
  return nfa(form === 'collapsed' ? `${source}/*` : source);
}

function globs(list: readonly string[]): DFA {
  const union = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const g of list) union.unionInto(nfa([...g].map((ch) => (ch === '*' ? '[^]*' : ch === '?' ? '[^]' : escapeRegex(ch))).join('')));
  return DFA.fromFA(union);
}

function minus<A>(a: TransitionIterable<A>, b: readonly NFA[]): DFA {
  const union = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const x of b) union.union(x);
  const not = DFA.fromFA(union);
  not.complement();
  return DFA.fromIntersection(a, not);
}

function shortest<A, B>(a: TransitionIterable<A>, b: TransitionIterable<B>): number | undefined {
  for (const words of getIntersectionWordSets(a, b)) return words.length;
  return undefined;
}

function beats(q: PolicyRoute, r: PolicyRoute): boolean {
  if (q.method !== r.method && q.method !== '*' && r.method !== '*') return false;
  const order = compareSpecificity(q.template, r.template);
  if (order !== 0) return order < 0;
  return q.template.key === r.template.key && q.method !== '*' && r.method === '*';
}

/** Per property, the length of a shortest counterexample per route (`-1` for unrouted), as refa finds them. */
export function refaCounterexamples(
  routes: readonly PolicyRoute[],
  satisfied: readonly boolean[],
  compiled: CompiledPolicy,
): Map<string, number> {
  const canonicalT = routes.map((r) => template(r.method, r.template, 'canonical'));
  const collapsedT = routes.map((r) => template(r.method, r.template, 'collapsed'));
  const winners = routes.map((r, i) => routes.flatMap((q, k) => (k !== i && beats(q, r) ? [k] : [])));
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
  const unrouted = minus(nfa(`[^/]+/[^]*`), collapsedT);

  const allow = compiled.allow;
  const deny = allow.length > 0 ? compiled.deny : ['*'];
  const notDeny = globs(deny);
  notDeny.complement();
  const permitted = DFA.fromIntersection(globs(allow), notDeny);
  const refused = permitted.copy();
  refused.complement();
  const out = new Map<string, number>();
  routes.forEach((_, i) => {
    const n = satisfied[i] ? shortest(canonical[i] as DFA, refused) : shortest(governed[i] as DFA, permitted);
    if (n !== undefined) out.set(`${satisfied[i] ? 'complete' : 'sound'} ${i}`, n);
  });
  const n = shortest(unrouted, permitted);
  if (n !== undefined) out.set('unrouted -1', n);
  return out;
}

import { DFA, getIntersectionWordSets, JS, NFA, type TransitionIterable, Words } from 'refa';
import { HTTP_METHODS } from '../functions/authorizer/config';
import type { RouteTemplate } from '../functions/authorizer/routes';

/**
 * Regular languages over request strings, built with refa (finite automata over UTF-16
 * code units, with character-set transitions: the alphabet is kept as ranges, so the
 * literal characters of the table, `/`, and "any other character" are the only classes
 * an automaton ever distinguishes).
 *
 * A request string is what follows `arn:…:execute-api:REGION:ACCOUNT:API/STAGE/` in a
 * method ARN: `METHOD/raw/path`, e.g. `GET/admin/users/` for `GET /admin/users/`.
 */

/** A regular language, as refa's finite automata. */
export type Language = TransitionIterable<unknown>;

const MAX_CHAR = 0xffff;

function fromSource(source: string): NFA {
  const { expression } = JS.Parser.fromLiteral({ source, flags: '' }).parse();
  return NFA.fromRegex(expression, { maxCharacter: MAX_CHAR });
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

const METHOD_SOURCE = `(?:${HTTP_METHODS.join('|')})`;

/** The NFA of an IAM resource glob (relative to the stage): `*` any run of characters, `/` included; `?` one character. */
export function globNfa(glob: string): NFA {
  let source = '';
  for (const ch of glob) source += ch === '*' ? '[^]*' : ch === '?' ? '[^]' : escape(ch);
  return fromSource(source);
}

/** The union of several globs as one DFA (empty when there are none). */
export function globsDfa(globs: readonly string[]): DFA {
  const nfa = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const glob of globs) nfa.unionInto(globNfa(glob));
  const dfa = DFA.fromFA(nfa);
  dfa.minimize();
  return dfa;
}

/**
 * The requests a route template matches. `canonical`: the paths API Gateway's templates
 * describe (no empty segment, no trailing slash; the root is `/`). `collapsed`: every
 * raw path that becomes one of those once runs of `/` are collapsed and a trailing `/`
 * dropped (`/x/` and `//x` reach `/x`).
 */
export function templateSource(method: string, template: RouteTemplate, form: 'canonical' | 'collapsed'): string {
  const sep = form === 'canonical' ? '/' : '/+';
  const methodSource = method === '*' ? METHOD_SOURCE : escape(method);
  if (template.segments.length === 0) return `${methodSource}${sep}`;
  let source = methodSource;
  for (const seg of template.segments) {
    source += sep;
    if (seg.kind === 'literal') source += escape(seg.value);
    else if (seg.kind === 'param') source += '[^/]+';
    else source += `[^/]+(?:${sep}[^/]+)*`;
  }
  return `${source}${form === 'collapsed' ? '/*' : ''}`;
}

/** The NFA of a template (see {@link templateSource}). */
export function templateNfa(method: string, template: RouteTemplate, form: 'canonical' | 'collapsed'): NFA {
  return fromSource(templateSource(method, template, form));
}

/** Every request string: a method API Gateway routes, then `/` and anything. */
export function universeNfa(): NFA {
  return fromSource(`${METHOD_SOURCE}/[^]*`);
}

/** `a` minus the union of `minus` (a fresh DFA). */
export function difference(a: NFA, minus: readonly NFA[]): DFA {
  if (minus.length === 0) return DFA.fromFA(a);
  const union = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const m of minus) union.union(m);
  const not = DFA.fromFA(union);
  not.complement();
  const out = DFA.fromIntersection(a, not);
  out.minimize();
  return out;
}

/** The complement of a DFA (a fresh copy). */
export function complement(dfa: DFA): DFA {
  const out = dfa.copy();
  out.complement();
  return out;
}

/** The intersection of two languages, as a DFA. */
export function intersect(a: Language, b: Language): DFA {
  const out = DFA.fromIntersection(a, b);
  out.minimize();
  return out;
}

/** The union of languages, as an NFA. */
export function union(parts: readonly Language[]): NFA {
  const out = NFA.empty({ maxCharacter: MAX_CHAR });
  for (const p of parts) out.union(p);
  return out;
}

/**
 * A shortest word in both languages, made readable (letters before other characters), or
 * `undefined` when they are disjoint. refa yields the words of an intersection by
 * ascending length (a breadth-first search of the product automaton).
 */
export function shortestCommon(a: Language, b: Language): string | undefined {
  for (const wordSet of getIntersectionWordSets(a, b)) {
    return Words.fromUTF16ToString(Words.pickMostReadableWord(wordSet));
  }
  return undefined;
}

/** Whether a language holds a string. */
export function accepts(fa: DFA | NFA, text: string): boolean {
  return fa.test(Words.fromStringToUTF16(text));
}

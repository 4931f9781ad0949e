/**
 * Patterns over the segments of a canonical request path (no empty segment), for the policy
 * compiler: a route template (`{name}` is one segment, `{name+}` one or more) and an IAM glob
 * whose `*` stands for whole segments (one or more) are both sequences of these tokens.
 */

/** A token: a literal segment, any one segment, or any run of segments (zero or more). */
export type Tok = { t: 'lit'; v: string } | { t: 'one' } | { t: 'star' };

export const ONE: Tok = { t: 'one' };
export const STAR: Tok = { t: 'star' };

/** Patterns have at most this many tokens: their positions are the bits of a number. */
export const MAX_TOKENS = 30;

/** The dead state of every {@link SegmentPattern}: no position left. */
export const DEAD = 0;

/**
 * One pattern as a lazy DFA over segments. A state is the set of positions the pattern can be
 * at (bit `i`: before token `i`; bit `length`: matched), closed under the empty moves of
 * `star`; states are numbered as they are found, 0 being the dead one.
 */
export class SegmentPattern {
  readonly start: number;
  private readonly masks: number[] = [0];
  private readonly ids = new Map<number, number>([[0, DEAD]]);
  private readonly transitions: Map<string | undefined, number>[] = [new Map()];
  /** Per position: every nonempty run of segments is matched from there (no literal left, one `one` at most, a `star`). */
  private readonly matchesAllFrom: boolean[];

  constructor(readonly toks: readonly Tok[]) {
    if (toks.length > MAX_TOKENS) throw new Error(`a segment pattern has at most ${MAX_TOKENS} tokens`);
    this.matchesAllFrom = toks.map((_, p) => {
      const rest = toks.slice(p);
      return rest.every((t) => t.t !== 'lit') && rest.filter((t) => t.t === 'one').length <= 1 && rest.some((t) => t.t === 'star');
    });
    this.start = this.intern(this.close(1));
  }

  /** The state after one more segment (`undefined`: a segment equal to none of the pattern's literals). */
  step(state: number, segment: string | undefined): number {
    const cache = this.transitions[state] as Map<string | undefined, number>;
    const known = cache.get(segment);
    if (known !== undefined) return known;
    const mask = this.masks[state] as number;
    let next = 0;
    for (let i = 0; i < this.toks.length; i++) {
      if (!((mask >>> i) & 1)) continue;
      const tok = this.toks[i] as Tok;
      if (tok.t === 'star') next |= 1 << i;
      else if (tok.t === 'one' || tok.v === segment) next |= 1 << (i + 1);
    }
    const id = this.intern(this.close(next));
    cache.set(segment, id);
    return id;
  }

  /** Whether the segments read so far are matched. */
  accepts(state: number): boolean {
    return (((this.masks[state] as number) >>> this.toks.length) & 1) === 1;
  }

  /** Whether some nonempty run of further segments would be matched. */
  extends(state: number): boolean {
    return ((this.masks[state] as number) & ((1 << this.toks.length) - 1)) !== 0;
  }

  /** Whether every nonempty run of further segments is matched (a sufficient test: one position that matches all). */
  extendsAll(state: number): boolean {
    const mask = this.masks[state] as number;
    for (let p = 0; p < this.toks.length; p++) if ((mask >>> p) & 1 && this.matchesAllFrom[p]) return true;
    return false;
  }

  /** The literals the next segment is compared with in this state. */
  literals(state: number): string[] {
    const mask = this.masks[state] as number;
    const out: string[] = [];
    for (let i = 0; i < this.toks.length; i++) {
      const tok = this.toks[i] as Tok;
      if ((mask >>> i) & 1 && tok.t === 'lit') out.push(tok.v);
    }
    return out;
  }

  private close(mask: number): number {
    let m = mask;
    for (let i = 0; i < this.toks.length; i++) if ((m >>> i) & 1 && (this.toks[i] as Tok).t === 'star') m |= 1 << (i + 1);
    return m;
  }

  private intern(mask: number): number {
    const known = this.ids.get(mask);
    if (known !== undefined) return known;
    const id = this.masks.length;
    this.masks.push(mask);
    this.ids.set(mask, id);
    this.transitions.push(new Map());
    return id;
  }
}

/**
 * Whether every nonempty run of segments that `inner` matches from state `innerState` is
 * matched by `outer` from `outerState`: a walk of the pair product over the literals of both
 * and one segment named by neither.
 */
export function includesSuffixes(outer: SegmentPattern, outerState: number, inner: SegmentPattern, innerState: number): boolean {
  const seen = new Set<string>([`${innerState},${outerState}`]);
  const queue: [number, number][] = [[innerState, outerState]];
  while (queue.length > 0) {
    const [i, o] = queue.pop() as [number, number];
    for (const segment of [...new Set([...inner.literals(i), ...outer.literals(o)]), undefined]) {
      const ni = inner.step(i, segment);
      if (ni === DEAD) continue;
      const no = outer.step(o, segment);
      if (inner.accepts(ni) && !outer.accepts(no)) return false;
      if (no === DEAD && inner.extends(ni)) return false;
      const key = `${ni},${no}`;
      if (seen.has(key)) continue;
      seen.add(key);
      queue.push([ni, no]);
    }
  }
  return true;
}

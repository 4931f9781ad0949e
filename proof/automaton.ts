/**
 * Small finite automata over request strings, enough for the proof: patterns (IAM globs,
 * route templates) are built as NFAs over an alphabet of character classes, and
 * determinized lazily, one reachable state at a time, with every transition memoized.
 *
 * The alphabet: each character that appears literally in the route table or in a policy
 * pattern is a class of its own, and every other character is one class ("other"). No
 * pattern tells two "other" characters apart, so a property holds for all strings exactly
 * when it holds over the classes.
 */

/** The character classes of one proof. */
export class Alphabet {
  /** Class 0 is "any other character"; then the literal characters, `/` among them. */
  readonly size: number;
  readonly slash: number;
  private readonly chars: string[];
  private readonly index = new Map<string, number>();
  private readonly other: string;

  constructor(literals: Iterable<string>) {
    const set = new Set<string>(['/']);
    for (const text of literals) for (const ch of text) set.add(ch);
    // `/` last, so that a breadth-first search tries path characters before separators.
    this.chars = [...set].filter((c) => c !== '/').sort();
    this.chars.push('/');
    this.chars.forEach((c, i) => {
      this.index.set(c, i + 1);
    });
    this.size = this.chars.length + 1;
    this.slash = this.index.get('/') as number;
    const candidates = 'xyzqwkjvbfgmnpuaehcdilorst0123456789_~';
    this.other = [...candidates].find((c) => !set.has(c)) ?? '\u00e9';
  }

  /** The class of a character. */
  classOf(ch: string): number {
    return this.index.get(ch) ?? 0;
  }

  /** A character of a class, for printing a witness. */
  sample(cls: number): string {
    return cls === 0 ? this.other : (this.chars[cls - 1] as string);
  }
}

/** An edge label: a class, or one of these. */
const ANY = -1;
const NOT_SLASH = -2;

/** A piece of NFA under construction: entered at `start`, left at `end`. */
export interface Fragment {
  start: number;
  end: number;
}

/**
 * Builds one NFA holding many patterns; each pattern's end state accepts with its tag.
 * The combined start state reaches each pattern's start by an empty move.
 */
export class PatternSet {
  readonly edges: { label: number; to: number }[][] = [];
  readonly eps: number[][] = [];
  /** Per state, the tag it accepts with (or -1). */
  readonly tags: number[] = [];
  readonly start: number;

  constructor(readonly alphabet: Alphabet) {
    this.start = this.state();
  }

  private state(): number {
    this.edges.push([]);
    this.eps.push([]);
    this.tags.push(-1);
    return this.edges.length - 1;
  }

  private edge(label: number): Fragment {
    const start = this.state();
    const end = this.state();
    this.edges[start]?.push({ label, to: end });
    return { start, end };
  }

  /** The literal text. */
  literal(text: string): Fragment {
    return this.seq(...[...text].map((ch) => this.edge(this.alphabet.classOf(ch))));
  }

  /** Any one character. */
  any(): Fragment {
    return this.edge(ANY);
  }

  /** Any one character but `/`. */
  notSlash(): Fragment {
    return this.edge(NOT_SLASH);
  }

  /** The fragments one after the other. */
  seq(...parts: Fragment[]): Fragment {
    if (parts.length === 0) {
      const s = this.state();
      return { start: s, end: s };
    }
    for (let i = 1; i < parts.length; i++) this.eps[(parts[i - 1] as Fragment).end]?.push((parts[i] as Fragment).start);
    return { start: (parts[0] as Fragment).start, end: (parts[parts.length - 1] as Fragment).end };
  }

  /** One of the fragments. */
  alt(...parts: Fragment[]): Fragment {
    const start = this.state();
    const end = this.state();
    for (const p of parts) {
      this.eps[start]?.push(p.start);
      this.eps[p.end]?.push(end);
    }
    return { start, end };
  }

  /** The fragment zero or more times. */
  star(part: Fragment): Fragment {
    const start = this.state();
    const end = this.state();
    this.eps[start]?.push(part.start, end);
    this.eps[part.end]?.push(part.start, end);
    return { start, end };
  }

  /** The fragment one or more times. */
  plus(part: Fragment): Fragment {
    const end = this.state();
    this.eps[part.end]?.push(part.start, end);
    return { start: part.start, end };
  }

  /** Add a finished pattern: its strings are accepted with `tag`. */
  add(pattern: Fragment, tag: number): void {
    this.eps[this.start]?.push(pattern.start);
    this.tags[pattern.end] = tag;
  }

  /** An IAM resource glob: `*` any run of characters (`/` included), `?` one character. */
  glob(glob: string): Fragment {
    const parts: Fragment[] = [];
    for (const ch of glob) parts.push(ch === '*' ? this.star(this.any()) : ch === '?' ? this.any() : this.literal(ch));
    return this.seq(...parts);
  }

  /** Whether an edge with `label` reads class `cls`. */
  matches(label: number, cls: number): boolean {
    return label === cls || label === ANY || (label === NOT_SLASH && cls !== this.alphabet.slash);
  }
}

/**
 * The subset construction of a {@link PatternSet}, built as it is walked. State 0 is the
 * dead state (no pattern can still match).
 */
export class LazyDfa {
  readonly start: number;
  /** Per DFA state, the tags of the patterns that accept there (sorted). */
  readonly accepting: number[][] = [];
  private readonly sets: number[][] = [];
  private readonly ids = new Map<string, number>();
  private readonly trans: Int32Array[] = [];
  /** Per DFA state, 1 for the classes its edges name (and `/`): every other class moves like class 0. */
  readonly named: Uint8Array[] = [];
  private readonly k: number;

  constructor(private readonly nfa: PatternSet) {
    this.k = nfa.alphabet.size;
    this.intern([]);
    this.start = this.intern(this.closure([nfa.start]));
  }

  /** The number of DFA states built so far. */
  get size(): number {
    return this.sets.length;
  }

  /** The state after reading a whole string from the start. */
  walk(text: string): number {
    let state = this.start;
    for (const ch of text) state = this.step(state, this.nfa.alphabet.classOf(ch));
    return state;
  }

  /** The state after reading class `cls` from `state`. */
  step(state: number, cls: number): number {
    const row = this.trans[state] as Int32Array;
    if ((this.named[state] as Uint8Array)[cls] === 0) cls = 0;
    const known = row[cls] as number;
    if (known >= 0) return known;
    const next: number[] = [];
    for (const s of this.sets[state] as number[]) {
      for (const e of this.nfa.edges[s] as { label: number; to: number }[]) if (this.nfa.matches(e.label, cls)) next.push(e.to);
    }
    const id = this.intern(this.closure(next));
    row[cls] = id;
    return id;
  }

  private closure(seed: number[]): number[] {
    const seen = new Set<number>(seed);
    const stack = [...seed];
    while (stack.length > 0) {
      const s = stack.pop() as number;
      for (const t of this.nfa.eps[s] as number[]) {
        if (!seen.has(t)) {
          seen.add(t);
          stack.push(t);
        }
      }
    }
    // Only states with outgoing edges or a tag tell subsets apart.
    return [...seen].filter((s) => (this.nfa.edges[s]?.length ?? 0) > 0 || this.nfa.tags[s] !== -1).sort((a, b) => a - b);
  }

  private intern(set: number[]): number {
    const key = set.join(',');
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.sets.length;
    this.sets.push(set);
    this.ids.set(key, id);
    this.trans.push(new Int32Array(this.k).fill(-1));
    const named = new Uint8Array(this.k);
    named[0] = 1;
    named[this.nfa.alphabet.slash] = 1;
    for (const s of set) for (const e of this.nfa.edges[s] as { label: number }[]) if (e.label >= 0) named[e.label] = 1;
    this.named.push(named);
    const tags = new Set<number>();
    for (const s of set) if ((this.nfa.tags[s] as number) >= 0) tags.add(this.nfa.tags[s] as number);
    this.accepting.push([...tags].sort((a, b) => a - b));
    return id;
  }
}

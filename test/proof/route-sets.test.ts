import fc from 'fast-check';
import { compilePolicy } from '../../core/policy';
import { type PolicyCompiler, proveRouteTable } from '../../proof/prove';
import { enumerateRouteSets, type ProofRoute, satisfies } from '../../proof/route-sets';
import { route } from './support/tables';

function masks(routes: readonly ProofRoute[], limits = { maxRouteSets: 100_000, maxUnions: 100_000 }): string[] {
  return enumerateRouteSets(routes, 0, limits)
    .sets.map((s) => s.satisfied.map((v) => (v ? '1' : '0')).join(''))
    .sort();
}

describe('satisfies (the authorizer rule)', () => {
  const stepUp = route('POST', '/reboot', ['system:reboot'], { maxAuthAgeSeconds: 900 });

  it('needs every scope of one requirement set', () => {
    const r = route('GET', '/t', [], { anyOf: [['a', 'b'], ['c']] });
    expect(satisfies(r, { scopes: ['a'], authAgeSeconds: undefined }, 0)).toBe(false);
    expect(satisfies(r, { scopes: ['a', 'b'], authAgeSeconds: undefined }, 0)).toBe(true);
    expect(satisfies(r, { scopes: ['c'], authAgeSeconds: undefined }, 0)).toBe(true);
  });

  it('needs an authentication that stays fresh for the whole policy cache TTL on a step-up route', () => {
    expect(satisfies(stepUp, { scopes: ['system:reboot'], authAgeSeconds: 600 }, 300)).toBe(true);
    expect(satisfies(stepUp, { scopes: ['system:reboot'], authAgeSeconds: 601 }, 300)).toBe(false);
    expect(satisfies(stepUp, { scopes: ['system:reboot'], authAgeSeconds: undefined }, 300)).toBe(false);
  });
});

describe('enumerateRouteSets', () => {
  it('tries each distinct maxAuthAgeSeconds, and never satisfies a step-up route at or under the cache TTL', () => {
    const routes = [
      route('POST', '/a', ['s'], { maxAuthAgeSeconds: 900 }),
      route('POST', '/b', ['s'], { maxAuthAgeSeconds: 3600 }),
      route('POST', '/c', ['s'], { maxAuthAgeSeconds: 300 }),
    ];
    const { sets, exhaustive } = enumerateRouteSets(routes, 300);
    expect(exhaustive).toBe(true);
    expect(sets.map((s) => s.satisfied)).toEqual([
      [false, false, false],
      [false, true, false],
      [true, true, false],
    ]);
    expect(sets.map((s) => s.token.authAgeSeconds)).toEqual([undefined, 3300, 600]);
  });

  it('keeps one token per distinct route set, the first found (the fewest requirement sets combined)', () => {
    const routes = [route('GET', '/a', ['a']), route('GET', '/b', ['a', 'b']), route('GET', '/c', [])];
    const { sets } = enumerateRouteSets(routes, 0);
    expect(sets.map((s) => [s.token.scopes, s.satisfied])).toEqual([
      [[], [false, false, true]],
      [['a'], [true, false, true]],
      [
        ['a', 'b'],
        [true, true, true],
      ],
    ]);
  });

  it('finds a route set that only one of two unions satisfying the same routes leads to', () => {
    // [c,d] and [a,b] both satisfy only the first route; only [a,b] then with [a,c] gives the first and third alone.
    const routes = [
      route('GET', '/r0', [], {
        anyOf: [
          ['c', 'd'],
          ['a', 'b'],
        ],
      }),
      route('GET', '/r1', [], {
        anyOf: [
          ['b', 'c', 'd'],
          ['a', 'b', 'd'],
        ],
      }),
      route('GET', '/r2', [], {
        anyOf: [
          ['b', 'd'],
          ['a', 'c'],
        ],
      }),
      route('GET', '/r3', ['a', 'c', 'd']),
    ];
    const found = enumerateRouteSets(routes, 0).sets.find((s) => s.satisfied.join() === 'true,false,true,false');
    expect(found?.token.scopes).toEqual(['a', 'b', 'c']);
  });

  it('reaches exactly the route sets of all scope sets, however requirement sets overlap (property)', () => {
    const atoms = ['a', 'b', 'c', 'd', 'e'];
    const reqArb = fc.subarray(atoms, { minLength: 1, maxLength: 3 });
    const tableArb = fc.array(fc.array(reqArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(tableArb, (alternatives) => {
        const routes = alternatives.map((anyOf, i) => route('GET', `/r${i}`, [], { anyOf }));
        const truth = new Set<string>();
        for (let m = 0; m < 1 << atoms.length; m++) {
          const token = { scopes: atoms.filter((_, i) => (m >> i) & 1), authAgeSeconds: undefined };
          truth.add(routes.map((r) => (satisfies(r, token, 0) ? '1' : '0')).join(''));
        }
        const enumeration = enumerateRouteSets(routes, 0);
        expect(enumeration.exhaustive).toBe(true);
        expect(masks(routes)).toEqual([...truth].sort());
        for (const set of enumeration.sets) expect(routes.map((r) => satisfies(r, set.token, 0))).toEqual(set.satisfied);
      }),
      { numRuns: 300 },
    );
  });

  it('covers ten independent scopes (1 024 route sets) exhaustively within the default limits', () => {
    const routes = Array.from({ length: 10 }, (_, i) => route('GET', `/r${i}`, [`s${i}`]));
    const enumeration = enumerateRouteSets(routes, 0);
    expect(enumeration.exhaustive).toBe(true);
    expect(enumeration.sets).toHaveLength(1024);
    expect(enumeration.coverage).toBe(
      'every route set a token can satisfy: 1024 distinct route sets, from the unions of the 10 distinct requirement sets over 10 scopes',
    );
  });

  it('stops at its limit breadth first, adds every scope and every scope but one, and says what it covered', () => {
    const routes = Array.from({ length: 12 }, (_, i) => route('GET', `/r${i}`, [`s${i}`]));
    const enumeration = enumerateRouteSets(routes, 0, { maxRouteSets: 100, maxUnions: 10_000 });
    expect(enumeration.exhaustive).toBe(false);
    // 1 + 12 + 66 pairs fit under 100; the triples do not all fit.
    expect(enumeration.coverage).toContain('covered: every route set of a token that combines up to 2 requirement sets');
    expect(enumeration.coverage).toContain('(100 route sets)');
    const sizes = enumeration.sets.map((s) => s.satisfied.filter(Boolean).length);
    expect(sizes.filter((n) => n === 2)).toHaveLength(66);
    expect(sizes.filter((n) => n >= 11)).toHaveLength(13);
  });

  it('stops at its limit of unions explored when many unions lead to few route sets', () => {
    // Eight routes of two alternatives each, and one that needs the first alternative of all eight:
    // some 3^8 unions that differ in what they lead to, 2^9 route sets.
    const routes = Array.from({ length: 8 }, (_, i) => route('GET', `/x${i}`, [], { anyOf: [[`a${i}`], [`b${i}`]] }));
    routes.push(
      route(
        'GET',
        '/y',
        Array.from({ length: 8 }, (_, i) => `a${i}`),
      ),
    );
    expect(enumerateRouteSets(routes, 0).exhaustive).toBe(true);
    const enumeration = enumerateRouteSets(routes, 0, { maxRouteSets: 10_000, maxUnions: 1000 });
    expect(enumeration.exhaustive).toBe(false);
    expect(enumeration.unions).toBe(1000);
    expect(enumeration.coverage).toContain('(1000 unions explored)');
  });
});

describe('proveRouteTable over the route sets', () => {
  it('finds a fault that grants one route only to tokens holding exactly two of ten scopes', () => {
    const routes = Array.from({ length: 10 }, (_, i) => route('GET', `/r${i}`, [`s${i}`]));
    // Tokens with s3 and s7 (and nothing else) are also given GET /r9.
    const faulty: PolicyCompiler = (table, isAllowed, options) =>
      compilePolicy(table, (i) => isAllowed(i) || (i === 9 && table.every((_, k) => isAllowed(k) === (k === 3 || k === 7))), options);
    const report = proveRouteTable(routes, { compile: faulty });
    expect(report.exhaustive).toBe(true);
    expect(report.failed).toBe(true);
    const failed = report.cases.filter((c) => !c.proven);
    expect(failed.map((c) => c.token.scopes)).toEqual([['s3', 's7']]);
    expect(failed[0]?.counterexamples).toContainEqual(expect.objectContaining({ request: 'GET /r9', property: 'sound', route: 'GET /r9' }));
  });
});

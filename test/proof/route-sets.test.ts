import type { HttpMethod } from '../../functions/authorizer/config';
import { parseRouteTemplate } from '../../functions/authorizer/routes';
import { enumerateRouteSets, type ProofRoute, satisfies } from '../../proof/route-sets';

function route(method: HttpMethod | '*', path: string, scopes: string[], extra: Partial<ProofRoute> = {}): ProofRoute {
  return { method, path, template: parseRouteTemplate(path), scopes, ...extra };
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
    const { sets, exhaustive } = enumerateRouteSets(routes, 300, 512);
    expect(exhaustive).toBe(true);
    expect(sets.map((s) => s.satisfied)).toEqual([
      [false, false, false],
      [false, true, false],
      [true, true, false],
    ]);
    expect(sets.map((s) => s.token.authAgeSeconds)).toEqual([undefined, 3300, 600]);
  });

  it('keeps one token per distinct route set, the one with the fewest scopes', () => {
    const routes = [route('GET', '/a', ['a']), route('GET', '/b', ['a', 'b']), route('GET', '/c', [])];
    const { sets } = enumerateRouteSets(routes, 0, 512);
    expect(sets.map((s) => [s.token.scopes, s.satisfied])).toEqual([
      [[], [false, false, true]],
      [['a'], [true, false, true]],
      [
        ['a', 'b'],
        [true, true, true],
      ],
    ]);
  });
});

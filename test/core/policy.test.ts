import fc from 'fast-check';
import { type HttpMethod, Unrouted } from '../../core/config';
import { compilePolicy, patternsAllow, renderPolicy } from '../../core/policy';
import { parseRouteTemplate } from '../../core/routes';
import { evaluate, gatewayRoute } from '../support/iam';
import { routeMethodArb, routePathArb, routeTableArb } from '../support/route-shapes';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';

interface R {
  method: HttpMethod | '*';
  path: string;
}

function table(routes: R[]) {
  return routes.map((r) => ({ method: r.method, template: parseRouteTemplate(r.path) }));
}

function decide(routes: R[], allowedPaths: Set<string>, method: HttpMethod, path: string, unrouted = Unrouted.DENY) {
  const t = table(routes);
  const compiled = compilePolicy(t, (i) => allowedPaths.has(`${routes[i]?.method} ${routes[i]?.path}`), { unrouted });
  const policy = renderPolicy(compiled, PREFIX);
  return { answer: evaluate(policy, `${PREFIX}${method}${path}`), compiled };
}

describe('compilePolicy', () => {
  const routes: R[] = [
    { method: 'GET', path: '/telemetry' },
    { method: 'GET', path: '/telemetry/{sensorId}' },
    { method: 'POST', path: '/telemetry' },
    { method: 'POST', path: '/system/reboot' },
    { method: 'PUT', path: '/config/{name}' },
    { method: 'PUT', path: '/config/{name}/secrets' },
    { method: 'GET', path: '/health' },
  ];

  it('allows GET /telemetry/{sensorId} but denies the deeper GET /telemetry/a/b', () => {
    const allowed = new Set(['GET /telemetry', 'GET /telemetry/{sensorId}']);
    expect(decide(routes, allowed, 'GET', '/telemetry/s1').answer).toBe('Allow');
    expect(decide(routes, allowed, 'GET', '/telemetry/s1/extra').answer).toBe('Deny');
    expect(decide(routes, allowed, 'POST', '/telemetry').answer).toBe('Deny');
  });

  it('denies PUT /config/x/secrets when only PUT /config/{name} is allowed', () => {
    const allowed = new Set(['PUT /config/{name}']);
    expect(decide(routes, allowed, 'PUT', '/config/x').answer).toBe('Allow');
    expect(decide(routes, allowed, 'PUT', '/config/x/secrets').answer).toBe('Deny');
    expect(decide(routes, allowed, 'PUT', '/config/x/secrets').compiled.exact).toBe(true);
  });

  it('allows PUT /config/x/secrets without PUT /config/x when only the deeper route is allowed', () => {
    const allowed = new Set(['PUT /config/{name}/secrets']);
    expect(decide(routes, allowed, 'PUT', '/config/x/secrets').answer).toBe('Allow');
    expect(decide(routes, allowed, 'PUT', '/config/x').answer).toBe('Deny');
  });

  it('denies a literal route that a broader allowed {name} route overlaps', () => {
    const r: R[] = [
      { method: 'GET', path: '/users/{id}' },
      { method: 'GET', path: '/users/admin' },
    ];
    const allowed = new Set(['GET /users/{id}']);
    expect(decide(r, allowed, 'GET', '/users/u1').answer).toBe('Allow');
    expect(decide(r, allowed, 'GET', '/users/admin').answer).toBe('Deny');
    expect(decide(r, allowed, 'GET', '/users/admin').compiled.exact).toBe(true);
  });

  it('denies other stages and other APIs', () => {
    const allowed = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const policy = renderPolicy(
      compilePolicy(table(routes), () => true, { unrouted: Unrouted.DENY }),
      PREFIX,
    );
    expect(evaluate(policy, `${PREFIX}GET/health`)).toBe('Allow');
    expect(evaluate(policy, 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/health')).toBe('Deny');
    expect(evaluate(policy, 'arn:aws:execute-api:eu-west-1:123456789012:zzz999/prod/GET/health')).toBe('Deny');
    expect(allowed.size).toBe(routes.length);
  });

  it('denies the whole API when nothing is allowed', () => {
    const policy = renderPolicy(
      compilePolicy(table(routes), () => false, { unrouted: Unrouted.DENY }),
      PREFIX,
    );
    expect(evaluate(policy, `${PREFIX}GET/health`)).toBe('Deny');
    expect(policy.Statement).toHaveLength(1);
  });

  it('drops an Allow pattern that a broader allowed pattern already covers', () => {
    const r: R[] = [
      { method: 'GET', path: '/r/{id}' },
      { method: 'GET', path: '/r/{id}/items' },
      { method: 'GET', path: '/r/{id}/items/{itemId}' },
    ];
    const compiled = compilePolicy(table(r), () => true, { unrouted: Unrouted.UNREACHABLE });
    expect(compiled.allow).toEqual(['GET/r/*']);
    expect(decide(r, new Set(r.map((x) => `${x.method} ${x.path}`)), 'GET', '/r/1/items/2', Unrouted.UNREACHABLE).answer).toBe('Allow');
  });

  describe('empty path segments (API Gateway routes /x/ to /x)', () => {
    it('denies GET /users/admin/ when GET /users/admin is denied beside an allowed GET /users/{id}', () => {
      const r: R[] = [
        { method: 'GET', path: '/users/{id}' },
        { method: 'GET', path: '/users/admin' },
      ];
      const allowed = new Set(['GET /users/{id}']);
      expect(decide(r, allowed, 'GET', '/users/u1').answer).toBe('Allow');
      expect(decide(r, allowed, 'GET', '/users/admin/').answer).toBe('Deny');
      expect(decide(r, allowed, 'GET', '/users//admin').answer).toBe('Deny');
    });

    it('denies GET /admin/users/ and GET /admin//users when GET /admin/users is denied beside an allowed ANY /{proxy+}', () => {
      const r: R[] = [
        { method: '*', path: '/{proxy+}' },
        { method: 'GET', path: '/admin/users' },
      ];
      const allowed = new Set(['* /{proxy+}']);
      expect(decide(r, allowed, 'GET', '/anything/else').answer).toBe('Allow');
      for (const path of ['/admin/users/', '/admin//users', '//admin/users', '/admin/users//']) {
        expect(decide(r, allowed, 'GET', path).answer).toBe('Deny');
      }
    });

    it('denies GET /a/ when GET /a is denied and only the deeper GET /a/{p} is allowed', () => {
      const r: R[] = [
        { method: 'GET', path: '/a' },
        { method: 'GET', path: '/a/{p}' },
      ];
      const allowed = new Set(['GET /a/{p}']);
      expect(decide(r, allowed, 'GET', '/a/x').answer).toBe('Allow');
      expect(decide(r, allowed, 'GET', '/a/').answer).toBe('Deny');
    });

    it('keeps the root request GET / allowed for an allowed root route', () => {
      const r: R[] = [
        { method: 'GET', path: '/' },
        { method: 'GET', path: '/{p}' },
      ];
      const allowed = new Set(['GET /', 'GET /{p}']);
      expect(decide(r, allowed, 'GET', '/').answer).toBe('Allow');
      expect(decide(r, allowed, 'GET', '/x').answer).toBe('Allow');
      expect(decide(r, allowed, 'GET', '//').answer).toBe('Deny');
    });
  });

  it('expands * routes into the methods no exact route claims', () => {
    const r: R[] = [
      { method: '*', path: '/items/{id}' },
      { method: 'DELETE', path: '/items/{id}' },
    ];
    const allowed = new Set(['* /items/{id}']);
    expect(decide(r, allowed, 'GET', '/items/1').answer).toBe('Allow');
    expect(decide(r, allowed, 'PATCH', '/items/1').answer).toBe('Allow');
    expect(decide(r, allowed, 'DELETE', '/items/1').answer).toBe('Deny');
  });
});

describe('compilePolicy on shapes real APIs have (synthesis, not heuristics)', () => {
  const exactly = (routes: R[], allowed: string[], unrouted = Unrouted.DENY) => {
    const compiled = compilePolicy(table(routes), (i) => allowed.includes(`${routes[i]?.method} ${routes[i]?.path}`), { unrouted });
    return {
      compiled,
      allows: (method: HttpMethod, path: string) => evaluate(renderPolicy(compiled, PREFIX), `${PREFIX}${method}${path}`),
    };
  };

  it('allows GET /users/me to a profile:read token beside a denied GET /users/{id}, with no Deny of GET/users/*', () => {
    const routes: R[] = [
      { method: 'GET', path: '/users/{id}' },
      { method: 'GET', path: '/users/me' },
    ];
    const { compiled, allows } = exactly(routes, ['GET /users/me']);
    expect(compiled).toMatchObject({ exact: true, allow: ['GET/users/me'], deny: [] });
    expect(allows('GET', '/users/me')).toBe('Allow');
    expect(allows('GET', '/users/u1')).toBe('Deny');
  });

  it('allows GET /items and GET /items/{id} beside a denied ANY /{proxy+} catch-all', () => {
    const routes: R[] = [
      { method: '*', path: '/{proxy+}' },
      { method: 'GET', path: '/items' },
      { method: 'GET', path: '/items/{id}' },
    ];
    const { compiled, allows } = exactly(routes, ['GET /items', 'GET /items/{id}']);
    expect(compiled.exact).toBe(true);
    expect(allows('GET', '/items')).toBe('Allow');
    expect(allows('GET', '/items/i1')).toBe('Allow');
    for (const [method, path] of [
      ['GET', '/items/i1/x'],
      ['GET', '/other'],
      ['POST', '/items'],
      ['HEAD', '/items'],
    ] as const)
      expect(allows(method, path)).toBe('Deny');
  });

  it('allows each of GET /files/{key} and GET /files/{key+} its own requests', () => {
    const routes: R[] = [
      { method: 'GET', path: '/files/{key}' },
      { method: 'GET', path: '/files/{key+}' },
    ];
    const one = exactly(routes, ['GET /files/{key}']);
    expect(one.compiled).toMatchObject({ exact: true, allow: ['GET/files/*'] });
    expect(one.allows('GET', '/files/a')).toBe('Allow');
    expect(one.allows('GET', '/files/a/b')).toBe('Deny');
    const greedy = exactly(routes, ['GET /files/{key+}']);
    expect(greedy.compiled).toMatchObject({ exact: true, allow: ['GET/files/*/*'] });
    expect(greedy.allows('GET', '/files/a')).toBe('Deny');
    expect(greedy.allows('GET', '/files/a/b')).toBe('Allow');
    expect(greedy.allows('GET', '/files/a/b/c')).toBe('Allow');
  });

  it('says it is not exact where no glob policy can be: GET /telemetry/{id} and its history allowed, other deeper requests unrouted', () => {
    const routes: R[] = [
      { method: 'GET', path: '/telemetry/{id}' },
      { method: 'GET', path: '/telemetry/{id}/history' },
    ];
    const both = ['GET /telemetry/{id}', 'GET /telemetry/{id}/history'];
    const denied = exactly(routes, both);
    expect(denied.compiled.exact).toBe(false);
    expect(denied.compiled.overDenied).toEqual([0]);
    // Safe all the same: the unrouted request is denied.
    expect(denied.allows('GET', '/telemetry/s1/export')).toBe('Deny');
    // Where unrouted requests never reach the authorizer, a policy exists.
    expect(exactly(routes, both, Unrouted.UNREACHABLE).compiled.exact).toBe(true);
  });

  it('lets a route that accepts its over-deny give way first', () => {
    const routes: R[] = [
      { method: 'GET', path: '/telemetry/{id}' },
      { method: 'GET', path: '/telemetry/{id}/history' },
    ];
    const compiled = compilePolicy(table(routes), () => true, { unrouted: Unrouted.DENY, mayOverDeny: (i) => i === 1 });
    expect(compiled.overDenied).toEqual([1]);
    expect(patternsAllow(compiled, 'GET/telemetry/s1')).toBe(true);
    expect(patternsAllow(compiled, 'GET/telemetry/s1/history')).toBe(false);
    expect(patternsAllow(compiled, 'GET/telemetry/s1/export')).toBe(false);
  });
});

describe('compilePolicy where a route accepts its over-deny', () => {
  it('gives up only what it must of an accepted ANY /{proxy+} beside denied GET /items and GET /items/{id}', () => {
    const routes: R[] = [
      { method: '*', path: '/{proxy+}' },
      { method: 'GET', path: '/items' },
      { method: 'GET', path: '/items/{id}' },
    ];
    const compiled = compilePolicy(table(routes), (i) => i === 0, { unrouted: Unrouted.DENY, mayOverDeny: (i) => i === 0 });
    expect(compiled.overDenied).toEqual([0]);
    for (const [request, expected] of [
      ['GET/x', true],
      ['GET/x/y', true],
      ['POST/items', true],
      ['GET/items', false],
      ['GET/items/i1', false],
      // No glob denies GET /items/{id} alone: what lies under it is given up.
      ['GET/items/i1/x', false],
    ] as const)
      expect([request, patternsAllow(compiled, request)]).toEqual([request, expected]);
  });
});

describe('patternsAllow', () => {
  it('reads globs as IAM does: explicit Deny wins, * spans slashes, ? is one character', () => {
    const compiled = { allow: ['GET/a/*', 'GET/?*/x'], deny: ['GET/a/*/*', '*//*'] };
    for (const [request, expected] of [
      ['GET/a/b', true],
      ['GET/a/b/c', false],
      ['GET/q/x', true],
      ['GET/x', false],
      ['GET/a//b', false],
      ['POST/a/b', false],
    ] as const)
      expect([request, patternsAllow(compiled, request)]).toEqual([request, expected]);
  });
});

// --- property: the policy, evaluated as IAM does, is exact on real shapes, or says it is not and stays safe ---

const LITERALS = ['users', 'me', 'items', 'files'];
const routeArb = fc.record({
  method: routeMethodArb,
  path: routePathArb(LITERALS),
  allowed: fc.boolean(),
});
const tableArb = routeTableArb(routeArb, { minLength: 1, maxLength: 8 });
// Requests include empty segments: a trailing slash (`/a/`), a double slash (`/a//b`), a leading one (`//a`).
const requestArb = fc.record({
  method: fc.constantFrom<HttpMethod>('GET', 'POST', 'HEAD'),
  segments: fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...LITERALS, 'x', 'zz'), { minLength: 0, maxLength: 5 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...LITERALS, 'x', ''), { minLength: 1, maxLength: 5 }) },
  ),
});

describe('compilePolicy against an IAM evaluator and an independent model of API Gateway routing (property)', () => {
  for (const unrouted of [Unrouted.DENY, Unrouted.UNREACHABLE]) {
    it(`is exact when it says so, and else never allows what it must deny (unrouted: ${unrouted})`, () => {
      let exact = 0;
      let runs = 0;
      fc.assert(
        fc.property(tableArb, fc.array(requestArb, { minLength: 20, maxLength: 40 }), (rows, requests) => {
          runs++;
          const t = table(rows);
          const compiled = compilePolicy(t, (i) => rows[i]?.allowed === true, { unrouted });
          if (compiled.exact) exact++;
          const policy = renderPolicy(compiled, PREFIX);
          const probes = [
            ...requests,
            ...rows.flatMap((r) =>
              (r.method === '*' ? ['GET', 'POST', 'HEAD'] : [r.method]).flatMap((m) => {
                const base = r.path
                  .split('/')
                  .slice(1)
                  .filter((s) => s.length > 0)
                  .map((s) => (s.startsWith('{') ? 'x' : s));
                return [base, [...base, 'y'], [...base, 'y', 'z']].map((segments) => ({ method: m as HttpMethod, segments }));
              }),
            ),
          ];
          for (const probe of [...probes])
            if (probe.segments.length > 0) probes.push({ method: probe.method, segments: [...probe.segments, ''] });
          for (const probe of probes) {
            const path = `/${probe.segments.join('/')}`;
            const request = `${probe.method} ${path}`;
            const actual = evaluate(policy, `${PREFIX}${probe.method}${path}`);
            const routed = gatewayRoute(rows, probe.method, path === '/' ? [] : probe.segments);
            if (routed === 'any' || (path !== '/' && path.endsWith('/'))) {
              if (actual === 'Allow') throw new Error(`allowed ${request}, which has an empty segment`);
              continue;
            }
            if (routed < 0) {
              if (unrouted === Unrouted.DENY && actual === 'Allow') throw new Error(`allowed unrouted ${request}`);
              continue;
            }
            const row = rows[routed] as R & { allowed: boolean };
            if (!row.allowed && actual === 'Allow') throw new Error(`allowed ${request}, which denied ${row.method} ${row.path} governs`);
            if (row.allowed && actual === 'Deny') {
              if (compiled.exact) throw new Error(`denied ${request} of allowed ${row.method} ${row.path} in a policy said to be exact`);
              if (!compiled.overDenied.includes(routed))
                throw new Error(`denied ${request} of ${row.method} ${row.path}, not among overDenied`);
            }
          }
        }),
        { numRuns: 400 },
      );
      // Most random tables of these shapes have an exact policy for their route set (measured: about 3 in 4).
      expect(exact / runs).toBeGreaterThan(0.6);
    });
  }
});

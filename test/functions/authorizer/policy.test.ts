import fc from 'fast-check';
import { HTTP_METHODS, type HttpMethod } from '../../../functions/authorizer/config';
import { compilePolicy, renderPolicy } from '../../../functions/authorizer/policy';
import { parseRouteTemplate } from '../../../functions/authorizer/routes';
import { evaluate, gatewayRoute } from '../../support/iam';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';

interface R {
  method: HttpMethod | '*';
  path: string;
}

function table(routes: R[]) {
  return routes.map((r) => ({ method: r.method, template: parseRouteTemplate(r.path) }));
}

function decide(routes: R[], allowedPaths: Set<string>, method: HttpMethod, path: string) {
  const t = table(routes);
  const compiled = compilePolicy(t, (i) => allowedPaths.has(`${routes[i]?.method} ${routes[i]?.path}`));
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
    expect(decide(routes, allowed, 'PUT', '/config/x/secrets').compiled.inexact).toEqual([]);
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
    expect(decide(r, allowed, 'GET', '/users/admin').compiled.inexact).toEqual([]);
  });

  it('denies other stages and other APIs', () => {
    const allowed = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const policy = renderPolicy(
      compilePolicy(table(routes), () => true),
      PREFIX,
    );
    expect(evaluate(policy, `${PREFIX}GET/health`)).toBe('Allow');
    expect(evaluate(policy, 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/health')).toBe('Deny');
    expect(evaluate(policy, 'arn:aws:execute-api:eu-west-1:123456789012:zzz999/prod/GET/health')).toBe('Deny');
    expect(allowed.size).toBe(routes.length);
  });

  it('denies the whole API when nothing is allowed', () => {
    const policy = renderPolicy(
      compilePolicy(table(routes), () => false),
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
    const compiled = compilePolicy(table(r), () => true);
    expect(compiled.allow).toEqual(['GET/r/*']);
    expect(decide(r, new Set(r.map((x) => `${x.method} ${x.path}`)), 'GET', '/r/1/items/2').answer).toBe('Allow');
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

// --- property: the policy, evaluated as IAM does, gives the route table's answer ---

const LITERALS = ['a', 'b', 'c', 'me'];
const segmentArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...LITERALS) }, { weight: 2, arbitrary: fc.constant('{p}') });
const pathArb = fc
  .tuple(fc.array(segmentArb, { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([segs, greedy]) => `/${[...segs, ...(greedy ? ['{rest+}'] : [])].join('/')}`);
const routeArb = fc.record({
  method: fc.constantFrom<HttpMethod | '*'>('GET', 'POST', '*'),
  path: pathArb,
  allowed: fc.boolean(),
});
const tableArb = fc.uniqueArray(routeArb, {
  minLength: 1,
  maxLength: 8,
  selector: (r) => `${r.method} ${parseRouteTemplate(r.path).key}`,
});
// Requests include empty segments: a trailing slash (`/a/`), a double slash (`/a//b`), a leading one (`//a`).
const requestArb = fc.record({
  method: fc.constantFrom<HttpMethod>('GET', 'POST', 'PUT'),
  segments: fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...LITERALS, 'x', 'zz'), { minLength: 0, maxLength: 5 }) },
    { weight: 2, arbitrary: fc.array(fc.constantFrom(...LITERALS, 'x', ''), { minLength: 1, maxLength: 5 }) },
  ),
});

describe('compilePolicy against an IAM evaluator (property)', () => {
  it('never allows what the route table denies, and is exact where it reports no inexactness', () => {
    let exactTables = 0;
    fc.assert(
      fc.property(tableArb, fc.array(requestArb, { minLength: 20, maxLength: 40 }), (rows, requests) => {
        const t = table(rows);
        const compiled = compilePolicy(t, (i) => rows[i]?.allowed === true);
        const policy = renderPolicy(compiled, PREFIX);
        const overDeny = compiled.inexact.some((x) => x.kind === 'over_deny');
        const unroutedAllowed = compiled.inexact.some((x) => x.kind === 'unrouted_allowed');
        if (compiled.inexact.length === 0) exactTables++;
        // Every configured route, instantiated, plus random paths.
        const probes = [
          ...requests,
          ...rows.flatMap((r) =>
            (r.method === '*' ? ['GET', 'POST', 'PUT'] : [r.method]).map((m) => ({
              method: m as HttpMethod,
              segments: r.path
                .split('/')
                .slice(1)
                .filter((s) => s.length > 0)
                .map((s) => (s.startsWith('{') ? 'x' : s)),
            })),
          ),
        ];
        // ... and each of them with a trailing slash, which API Gateway routes like the path without it.
        for (const probe of [...probes])
          if (probe.segments.length > 0) probes.push({ method: probe.method, segments: [...probe.segments, ''] });
        for (const probe of probes) {
          const path = `/${probe.segments.join('/')}`;
          const request = `${probe.method} ${path}`;
          const actual = evaluate(policy, `${PREFIX}${probe.method}${path}`);
          const routed = gatewayRoute(t, probe.method, path === '/' ? [] : probe.segments);
          if (path !== '/' && (path.includes('//') || path.endsWith('/'))) {
            // Never allowed, whatever route API Gateway may invoke for it.
            if (actual === 'Allow') throw new Error(`allowed ${request}, which has an empty segment (routed to ${routed})`);
            continue;
          }
          const index = routed as number;
          const expected = index >= 0 && rows[index]?.allowed ? 'Allow' : 'Deny';
          if (index >= 0 && expected === 'Deny' && actual === 'Allow') {
            throw new Error(`allowed ${request} which a denied route governs`);
          }
          if (expected === 'Allow' && actual === 'Deny' && !overDeny) {
            throw new Error(`denied allowed ${request}`);
          }
          if (index < 0 && actual === 'Allow' && !unroutedAllowed) {
            throw new Error(`allowed unrouted ${request}`);
          }
        }
      }),
      { numRuns: 400 },
    );
    // The generator must produce mostly tables the compiler can express exactly.
    expect(exactTables).toBeGreaterThan(100);
  });

  it('uses only the concrete methods API Gateway routes', () => {
    expect(HTTP_METHODS).toContain('GET');
  });
});

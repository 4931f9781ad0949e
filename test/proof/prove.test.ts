import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRouteConfig } from '../../cli/verify';
import { Unrouted } from '../../core/config';
import { compilePolicy, type PolicyRoute, renderPolicy } from '../../core/policy';
import { type PolicyCompiler, proveRouteTable, routeTableProofErrors, type TableRoute } from '../../proof/prove';
import { evaluate } from '../support/iam';
import { hundredRoutes, route } from './support/tables';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';

/** What IAM answers for `METHOD /path` under the policy compiled for `satisfied` (the test evaluator, not the proof's automata). */
function iam(
  routes: readonly PolicyRoute[],
  compile: PolicyCompiler,
  satisfied: (i: number) => boolean,
  request: string,
): 'Allow' | 'Deny' {
  const [method, path] = request.split(' ') as [string, string];
  return evaluate(renderPolicy(compile(routes, satisfied, { unrouted: Unrouted.DENY }), PREFIX), `${PREFIX}${method}${path}`);
}

/** Fault injection: the compiler with its Deny patterns dropped. */
const withoutDenies: PolicyCompiler = (routes, isAllowed, options) => ({ ...compilePolicy(routes, isAllowed, options), deny: [] });

/** Fault injection: the compiler without its empty-segment handling (no Deny for `//` or a trailing `/`). */
const withoutEmptySegmentDenies: PolicyCompiler = (routes, isAllowed, options) => {
  const compiled = compilePolicy(routes, isAllowed, options);
  return { ...compiled, deny: compiled.deny.filter((p) => !p.includes('//') && !p.endsWith('/')) };
};

const USERS = [
  route('GET', '/users/{id}', ['users:read']),
  route('GET', '/users/admin', ['admin:read']),
  route('DELETE', '/users/{id}', ['users:write']),
  route('GET', '/files/{path+}', ['files:read']),
  route('*', '/files/{path+}', ['files:write']),
  route('GET', '/', []),
];

describe('proveRouteTable', () => {
  it('proves examples/routes.json over every route set a token can satisfy, where API Gateway has no resource beyond it', () => {
    const config = readRouteConfig(JSON.parse(readFileSync(join(__dirname, '../../examples/routes.json'), 'utf8')));
    const report = proveRouteTable(config.routes, { policyCacheTtlSeconds: config.policyCacheTtlSeconds, unrouted: Unrouted.UNREACHABLE });
    expect(report.cases.flatMap((c) => c.counterexamples)).toEqual([]);
    expect(report.proven).toBe(true);
    expect(report.exhaustive).toBe(true);
    // 4 scopes (16 sets), each with a fresh and a stale authentication for POST /system/reboot.
    expect(report.cases).toHaveLength(16);
    expect(report.coverage).toContain('every route set a token can satisfy');
  });

  it('proves a table with literal-over-parameter precedence, greedy paths, ANY and the root', () => {
    const report = proveRouteTable(USERS);
    expect(report.cases.flatMap((c) => c.counterexamples)).toEqual([]);
    expect(report.cases.length).toBeGreaterThan(8);
  });

  it('treats a step-up route as unsatisfied when the authentication is too old for the cached policy', () => {
    const routes = [route('POST', '/system/reboot', ['system:reboot'], { maxAuthAgeSeconds: 900 }), route('GET', '/health', [])];
    const report = proveRouteTable(routes, { policyCacheTtlSeconds: 300 });
    const withScope = report.cases.filter((c) => c.token.scopes.includes('system:reboot'));
    expect(withScope.map((c) => c.token.authAgeSeconds)).toEqual([600]);
    expect(report.cases.find((c) => c.token.authAgeSeconds === undefined)?.satisfied).toEqual(['GET /health']);
    expect(report.coverage).toContain('2 authentication ages');
    expect(report.proven).toBe(true);
  });

  it('enumerates each anyOf alternative as its own way to satisfy a route', () => {
    const routes = [
      route('GET', '/telemetry', [], { anyOf: [['telemetry:read'], ['Telemetry.Read.All']] }),
      route('GET', '/telemetry/export', ['Telemetry.Read.All']),
      route('POST', '/telemetry', ['telemetry:write']),
    ];
    const report = proveRouteTable(routes);
    const bySet = Object.fromEntries(report.cases.map((c) => [c.token.scopes.join(' '), c.satisfied]));
    expect(bySet['telemetry:read']).toEqual(['GET /telemetry']);
    expect(bySet['Telemetry.Read.All']).toEqual(['GET /telemetry', 'GET /telemetry/export']);
    expect(report.exhaustive).toBe(true);
    expect(report.proven).toBe(true);
  });

  it('says what it did not cover when the route sets exceed its limit, and is then not proven', () => {
    const routes = Array.from({ length: 12 }, (_, i) => route('GET', `/r${i}`, [`r${i}:read`]));
    const report = proveRouteTable(routes, { limits: { maxRouteSets: 64, maxUnions: 1000 } });
    expect(report).toMatchObject({ exhaustive: false, failed: false, proven: false });
    expect(report.coverage).toMatch(/^not every route set: 77 distinct route sets checked/);
    expect(report.coverage).toContain('covered: every route set of a token that combines up to 1 requirement set');
    // 64 from below, then every scope and each of the 12 all-but-one.
    expect(report.cases).toHaveLength(64 + 13);
  });

  it('leaves HTTP API $default routes out, as the policy compiler does', () => {
    const routes = [route('GET', '/health', []), { ...route('*', '/health', []), path: '$default' }];
    expect(proveRouteTable(routes).cases[0]?.satisfied).toEqual(['GET /health']);
  });
});

describe('proveRouteTable finds counterexamples (fault injection)', () => {
  it('finds GET /users/admin allowed for a token without admin:read when the Deny statements are dropped', () => {
    const report = proveRouteTable(USERS, { compile: withoutDenies });
    const c = report.cases.find((x) => x.token.scopes.join(' ') === 'users:read');
    expect(c?.proven).toBe(false);
    expect(c?.counterexamples).toContainEqual({
      request: 'GET /users/admin',
      property: 'sound',
      route: 'GET /users/admin',
      detail: 'GET /users/admin is allowed for a token without admin:read (the request reaches GET /users/admin)',
    });
    expect(iam(USERS, withoutDenies, (i) => i === 0 || i === 5, 'GET /users/admin')).toBe('Allow');
  });

  it('finds an unrouted request allowed when the Deny statements are dropped', () => {
    const routes = [route('GET', '/telemetry/{sensorId}', ['telemetry:read'])];
    const report = proveRouteTable(routes, { compile: withoutDenies });
    const c = report.cases.find((x) => x.satisfied.length === 1);
    // The shortest: `*` also matches the empty segment. Deeper ones (GET /telemetry/x/x) follow from the same hole.
    expect(c?.counterexamples).toEqual([
      { request: 'GET /telemetry/', property: 'unrouted', detail: 'GET /telemetry/ is allowed, and no route governs it' },
      {
        request: 'GET /telemetry//',
        property: 'unrouted',
        detail:
          'GET /telemetry// is allowed, but API Gateway documents no routing for a path with an empty segment: it might reach no route',
      },
    ]);
    expect(iam(routes, withoutDenies, () => true, 'GET /telemetry/')).toBe('Allow');
    expect(iam(routes, withoutDenies, () => true, 'GET /telemetry/x/x')).toBe('Allow');
    expect(iam(routes, compilePolicy, () => true, 'GET /telemetry/x/x')).toBe('Deny');
  });

  it('finds the trailing-slash bypass of issue 10 (GET /admin/users/) when the empty-segment denies are dropped', () => {
    const routes = [route('GET', '/admin/{path+}', ['docs:read']), route('GET', '/admin/users', ['admin:read'])];
    const report = proveRouteTable(routes, { compile: withoutEmptySegmentDenies });
    const c = report.cases.find((x) => x.token.scopes.join(' ') === 'docs:read');
    expect(c?.counterexamples).toContainEqual({
      request: 'GET /admin/users/',
      property: 'sound',
      route: 'GET /admin/users',
      detail: 'GET /admin/users/ is allowed for a token without admin:read (the request reaches GET /admin/users)',
    });
    expect(iam(routes, withoutEmptySegmentDenies, (i) => i === 0, 'GET /admin/users/')).toBe('Allow');
  });

  it('finds a route allowed to a token that does not satisfy it, naming the route', () => {
    const wrong: PolicyCompiler = (routes, isAllowed, options) => compilePolicy(routes, (i) => isAllowed(i) || i === 2, options);
    const report = proveRouteTable(USERS, { compile: wrong });
    const c = report.cases.find((x) => x.satisfied.length === 1);
    expect(c?.satisfied).toEqual(['GET /']);
    expect(c?.counterexamples).toContainEqual(
      expect.objectContaining({ request: 'DELETE /users/x', property: 'sound', route: 'DELETE /users/{id}' }),
    );
  });

  it('finds a satisfied route cut off when an Allow is dropped', () => {
    const dropFirst: PolicyCompiler = (routes, isAllowed, options) => {
      const compiled = compilePolicy(routes, isAllowed, options);
      return { ...compiled, allow: compiled.allow.filter((p) => p !== 'GET/') };
    };
    const report = proveRouteTable(USERS, { compile: dropFirst });
    expect(report.proven).toBe(false);
    expect(report.cases[0]?.counterexamples).toEqual([
      {
        request: 'GET /',
        property: 'complete',
        route: 'GET /',
        detail: 'GET / is denied, yet the token satisfies GET /, which governs it',
      },
    ]);
  });

  it('reports a shortest counterexample for each route', () => {
    const routes = [route('GET', '/a/{id}', ['a:read']), route('GET', '/a/b/c/d', ['d:read']), route('GET', '/a/b/c', ['c:read'])];
    const report = proveRouteTable(routes, { compile: withoutDenies });
    const c = report.cases.find((x) => x.token.scopes.join(' ') === 'a:read');
    expect(c?.counterexamples.map((x) => `${x.property} ${x.request}`)).toEqual([
      'unrouted GET /a/',
      'sound GET /a//', // undocumented routing, while GET /a/b/c/d is not satisfied
      'sound GET /a/b/c',
      'sound GET /a/b/c/d',
    ]);
  });
});

describe('proveRouteTable: nothing the compiler says excuses a failure', () => {
  const TELEMETRY = [route('GET', '/telemetry/{id}', ['telemetry:read']), route('GET', '/telemetry/{id}/history', ['telemetry:history'])];

  it('proves GET /users/me and GET /users/{id} exactly for every token (no over-deny of either)', () => {
    const routes = [route('GET', '/users/{id}', ['users:read']), route('GET', '/users/me', ['profile:read'])];
    const report = proveRouteTable(routes, { policyCacheTtlSeconds: 300 });
    expect(report.cases.flatMap((c) => c.counterexamples)).toEqual([]);
    expect(report.cases.every((c) => c.answer === 'cached' && c.overDenied.length === 0)).toBe(true);
    expect(iam(routes, compilePolicy, (i) => i === 1, 'GET /users/me')).toBe('Allow');
  });

  it('fails a cached table where no exact policy exists, with the denied request as its witness', () => {
    const report = proveRouteTable(TELEMETRY, { policyCacheTtlSeconds: 300 });
    expect(report.proven).toBe(false);
    const c = report.cases.find((x) => x.satisfied.length === 2);
    expect(c?.compilerExact).toBe(false);
    expect(c?.counterexamples).toEqual([expect.objectContaining({ property: 'complete', route: 'GET /telemetry/{id}' })]);
  });

  it('passes the same table when the authorizer is uncached (a policy per request) or unrouted requests cannot reach it', () => {
    const uncached = proveRouteTable(TELEMETRY, { uncached: true });
    expect(uncached.proven).toBe(true);
    expect(uncached.cases.find((x) => x.satisfied.length === 2)).toMatchObject({ answer: 'single-request', counterexamples: [] });
    expect(proveRouteTable(TELEMETRY, { unrouted: Unrouted.UNREACHABLE, policyCacheTtlSeconds: 300 }).proven).toBe(true);
  });

  it('passes it when the over-denied route accepts its over-deny, and lists what is denied', () => {
    const routes = [TELEMETRY[0] as TableRoute, { ...(TELEMETRY[1] as TableRoute), acceptOverDeny: true }];
    const c = proveRouteTable(routes, { policyCacheTtlSeconds: 300 }).cases.find((x) => x.satisfied.length === 2);
    expect(c).toMatchObject({ proven: true, answer: 'accepted-over-deny' });
    expect(c?.overDenied).toEqual([expect.objectContaining({ property: 'complete', route: 'GET /telemetry/{id}/history' })]);
  });

  it('fails an over-deny the compiler hides behind a claim of exactness', () => {
    const lie: PolicyCompiler = (routes, isAllowed, options) => ({
      ...compilePolicy(routes, isAllowed, options),
      exact: true,
      overDenied: [],
    });
    const c = proveRouteTable(TELEMETRY, { compile: lie, uncached: true }).cases.find((x) => x.satisfied.length === 2);
    expect(c?.answer).toBe('cached');
    expect(c?.counterexamples).toEqual([expect.objectContaining({ property: 'complete' })]);
  });
});

describe('proveRouteTable on a 100-route table', () => {
  it('checks every route set of tokens combining up to two requirement sets within a synth budget, and says it is not all', () => {
    const routes = hundredRoutes();
    expect(routes).toHaveLength(100);
    // Its API's resources are the table (the construct created them): unrouted requests never reach the authorizer.
    const report = proveRouteTable(routes, { policyCacheTtlSeconds: 300, unrouted: Unrouted.UNREACHABLE });
    expect(report.cases.flatMap((c) => c.counterexamples)).toEqual([]);
    // 20 resources of 6 route sets each (items:read shared) have some 10^15 route sets: no enumeration covers them.
    expect(report.exhaustive).toBe(false);
    expect(report.coverage).toContain('covered: every route set of a token that combines up to 2 requirement sets');
    expect(report.cases.length).toBeGreaterThan(4096);
    // Measured about 1.5-2 s on one core in a fresh process; the bound leaves room for a loaded CI machine.
    expect(report.elapsedMs).toBeLessThan(20_000);
  });
});

describe('routeTableProofErrors (what the construct fails synth with)', () => {
  it('is empty for a proven table', () => {
    expect(routeTableProofErrors({ routes: USERS, policyCacheTtlSeconds: 0 })).toEqual([]);
  });

  it('names the property, the request, the route and the token of each counterexample', () => {
    const errors = routeTableProofErrors({ routes: USERS, policyCacheTtlSeconds: 0 }, { compile: withoutDenies, max: 3 });
    expect(errors).toHaveLength(3);
    expect(errors).toContain(
      'policy proof (sound): GET /users/admin is allowed for a token without admin:read (the request reaches GET /users/admin); token with users:read (docs/proof.md)',
    );
  });
});

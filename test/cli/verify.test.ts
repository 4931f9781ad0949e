import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { verifyCommand } from '../../cli/verify';
import { compilePolicy } from '../../core/policy';
import type { PolicyCompiler } from '../../proof/prove';

const dir = mkdtempSync(join(tmpdir(), 'scopegate-verify-'));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(['verify', ...argv], (t) => lines.push(t));
  return { code, text: lines.join('\n') };
}

const ISSUER = { issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks.json', audience: 'https://api.test' };

describe('scopegate verify', () => {
  it('proves a configuration and prints the contract JSON', async () => {
    const config = file('config.json', {
      issuers: [ISSUER],
      routes: [
        { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
        { method: 'POST', path: '/system/reboot', scopes: ['system:reboot'], maxAuthAgeSeconds: 900 },
        { method: 'GET', path: '/health', scopes: [] },
      ],
      policyCacheTtlSeconds: 300,
    });
    const { code, text } = await run('--config', config, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(text);
    expect(json.proven).toBe(true);
    expect(json.coverage).toContain('every route set a token can satisfy');
    expect(json.cases).toContainEqual(
      expect.objectContaining({ satisfied: ['GET /telemetry/{sensorId}', 'GET /health'], proven: true, counterexamples: [] }),
    );
    // The stale authentication: system:reboot held, the route not satisfied.
    expect(json.cases.find((c: { token: { scopes: string[] } }) => c.token.scopes.join(' ') === 'system:reboot').satisfied).toEqual([
      'POST /system/reboot',
      'GET /health',
    ]);
  });

  it('reads a file that holds only the route list', async () => {
    const routes = file('routes.json', [{ method: 'GET', path: '/health', scopes: [] }]);
    const { code, text } = await run('--config', routes);
    expect(code).toBe(0);
    expect(text).toMatch(/^1 routes; unrouted requests reach the authorizer and must be denied; policies cached\./);
    expect(text).toContain('Coverage: every route set a token can satisfy: 1 distinct route set,');
    expect(text).toMatch(/Proven: 1 route sets, every one a token can satisfy/);
  });

  it('exits 1 and prints the counterexample when a property fails (a compiler that drops its Deny statements)', async () => {
    const config = file('users.json', {
      routes: [
        { method: 'GET', path: '/users/{id}', scopes: ['users:read'] },
        { method: 'GET', path: '/users/admin', scopes: ['admin:read'] },
      ],
    });
    const withoutDenies: PolicyCompiler = (routes, isAllowed, options) => ({ ...compilePolicy(routes, isAllowed, options), deny: [] });
    const lines: string[] = [];
    const code = await verifyCommand(['--config', config], (t) => lines.push(t), withoutDenies);
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(text).toContain('FAILED  token: users:read');
    expect(text).toContain('sound: GET /users/admin is allowed for a token without admin:read (the request reaches GET /users/admin).');
    // Failures first.
    expect(text.indexOf('FAILED')).toBeLessThan(text.indexOf('proven  token'));
    expect(text).toMatch(/NOT proven: \d+ of 4 route sets have counterexamples/);

    const json: string[] = [];
    expect(await verifyCommand(['--config', config, '--json'], (t) => json.push(t), withoutDenies)).toBe(1);
    const report = JSON.parse(json.join(''));
    expect(report.proven).toBe(false);
    expect(report.cases.find((c: { satisfied: string[] }) => c.satisfied.join() === 'GET /users/{id}').counterexamples).toContainEqual(
      expect.objectContaining({ request: 'GET /users/admin', property: 'sound' }),
    );
  });

  it('exits 3 and says what it did not cover when a table has more route sets than it checks', async () => {
    // 13 independent scopes: 8 192 route sets, twice the limit.
    const routes = file(
      'wide.json',
      Array.from({ length: 13 }, (_, i) => ({ method: 'GET', path: `/r${i}`, scopes: [`s${i}`] })),
    );
    const { code, text } = await run('--config', routes);
    expect(code).toBe(3);
    expect(text).toContain('Coverage: not every route set: ');
    expect(text).toContain('covered: every route set of a token that combines up to');
    expect(text).toMatch(
      /No counterexample in the \d+ route sets checked, but NOT every route set a token can satisfy was checked \(exit 3\)/,
    );
    const json = await run('--config', routes, '--json');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.text)).toMatchObject({
      proven: false,
      exhaustive: false,
      coverage: expect.stringContaining('not every route set'),
    });
  });

  it('proves the OpenAPI document of a SpecRestApi with unrouted requests unreachable, and says so', async () => {
    const openapi = join(__dirname, '../fixtures/openapi/xero-projects.yaml');
    const { code, text } = await run('--openapi', openapi);
    expect(code).toBe(0);
    expect(text).toContain('unrouted requests never reach the authorizer (an OpenAPI document is the resource set of its SpecRestApi)');
    const json = JSON.parse((await run('--openapi', openapi, '--json')).text);
    expect(json).toMatchObject({ proven: true, exhaustive: true, unrouted: 'unreachable' });
  });
});

describe('scopegate verify on the shapes of issue 18', () => {
  const USERS = [
    { method: 'GET', path: '/users/{id}', scopes: ['users:read'] },
    { method: 'GET', path: '/users/me', scopes: ['profile:read'] },
  ];
  const PROXY = [
    { method: '*', path: '/{proxy+}', scopes: ['admin:all'] },
    { method: 'GET', path: '/items', scopes: ['items:read'] },
    { method: 'GET', path: '/items/{id}', scopes: ['items:read'] },
  ];
  const FILES = [
    { method: 'GET', path: '/files/{key}', scopes: ['files:read'] },
    { method: 'GET', path: '/files/{key+}', scopes: ['files:deep'] },
  ];

  it('proves /users/me beside /users/{id} and /files/{key} beside /files/{key+} exactly, every route set cached', async () => {
    for (const [name, routes] of [
      ['users', USERS],
      ['files', FILES],
    ] as const) {
      const { code, text } = await run('--config', file(`${name}.json`, routes), '--json');
      expect([name, code]).toEqual([name, 0]);
      const report = JSON.parse(text);
      expect(report).toMatchObject({ proven: true, exhaustive: true });
      for (const c of report.cases) expect(c).toMatchObject({ proven: true, answer: 'cached', counterexamples: [], overDenied: [] });
    }
  });

  it('proves items:read beside * /{proxy+} exactly, and fails the admin:all token alone with what to do', async () => {
    const { code, text } = await run('--config', file('proxy.json', PROXY));
    expect(code).toBe(1);
    expect(text).toMatch(
      /^FAILED {2}token: admin:all\n {8}satisfies: \* \/\{proxy\+\}\n {8}complete: GET \/\S+ is denied, yet the token satisfies \* \/\{proxy\+\}, which governs it\.$/m,
    );
    expect(text).toContain('No exact cached policy exists for this token (IAM globs cannot express it). Any one of these fixes it:');
    expect(text).toContain(`"unrouted": "unreachable", if API Gateway's resources are exactly the route table`);
    expect(text).toContain('"acceptOverDeny": true on * /{proxy+}');
    expect(text).toContain('"policyCacheTtlSeconds": 0');
    const report = JSON.parse((await run('--config', file('proxy.json', PROXY), '--json')).text);
    const items = report.cases.find((c: { satisfied: string[] }) => c.satisfied.join() === 'GET /items,GET /items/{id}');
    expect(items).toMatchObject({ proven: true, answer: 'cached', counterexamples: [] });
  });

  it('passes the admin:all token when its route accepts the over-deny, or when the authorizer is uncached, and says how it answers', async () => {
    const accepted = PROXY.map((r, i) => (i === 0 ? { ...r, acceptOverDeny: true } : r));
    const a = await run('--config', file('proxy-accepted.json', accepted));
    expect(a.code).toBe(0);
    expect(a.text).toMatch(
      /Over-deny accepted \(acceptOverDeny\): the cached policy denies GET \/\S+ \(\* \/\{proxy\+\}\), and so does the authorizer \(reason over_deny\)\./,
    );
    const u = await run('--config', file('proxy-uncached.json', { routes: PROXY, policyCacheTtlSeconds: 0 }));
    expect(u.code).toBe(0);
    expect(u.text).toContain('uncached (policyCacheTtlSeconds 0)');
    expect(u.text).toContain('No exact cached policy: the uncached authorizer answers each request with a policy for it alone');
    const json = JSON.parse(
      (await run('--config', file('proxy-uncached.json', { routes: PROXY, policyCacheTtlSeconds: 0 }), '--json')).text,
    );
    const admin = json.cases.find((c: { satisfied: string[] }) => c.satisfied.join() === '* /{proxy+}');
    expect(admin).toMatchObject({ proven: true, answer: 'single-request', counterexamples: [] });
    expect(admin.overDenied[0]).toMatchObject({ property: 'complete', route: '* /{proxy+}' });
  });
});

describe('scopegate verify usage', () => {
  it('names the bad field of an invalid configuration', async () => {
    const config = file('invalid.json', { routes: [{ method: 'GET', path: 'health', scopes: [] }] });
    const { code, text } = await run('--config', config);
    expect(code).toBe(2);
    expect(text).toContain('routes[0].path');
  });

  it('does not print the text of a file that is not JSON', async () => {
    const config = file('secret.json', '{"routes": [], "clientSecret": s3cr3t-value}');
    const { code, text } = await run('--config', config);
    expect(code).toBe(2);
    expect(text).toContain('not valid JSON');
    expect(text).not.toContain('s3cr3t');
  });

  it('asks for exactly one of --config and --openapi', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('--config', 'a.json', '--openapi', 'b.yaml')).code).toBe(2);
  });

  it('prints its help', async () => {
    const { code, text } = await run('--help');
    expect(code).toBe(0);
    expect(text).toContain('scopegate verify (--config FILE | --openapi FILE) [--json]');
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { buildBattery, classifyAnswer, type ProbeKind, type ProbeModel, predict, type TokenFacts } from '../../cli/probe';
import { parseConfig, type RouteDocument } from '../../core/config';
import { TLS } from '../support/tls';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'scopegate-probe-'));
const EXAMPLE_ROUTES = JSON.parse(readFileSync(join(ROOT, 'examples', 'routes.json'), 'utf8')) as RouteDocument[];
const ISSUER = { issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks.json', audience: 'https://api.test' };

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function model(routes: RouteDocument[], extra: Record<string, unknown> = {}): ProbeModel {
  const { config } = parseConfig({ issuers: [ISSUER], routes, ...extra });
  return {
    routes: config.routes,
    unrouted: config.unrouted,
    enforcement: config.enforcement,
    policyCacheTtlSeconds: config.policyCacheTtlSeconds,
  };
}

const NOW = 1_800_000_000;

function facts(scopes: string, authAgeSeconds?: number): TokenFacts {
  return { scopes: new Set(scopes.split(' ').filter(Boolean)), authTime: authAgeSeconds === undefined ? undefined : NOW - authAgeSeconds };
}

/** An unsigned-looking JWT with a fake signature: probe reads claims and never verifies. */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${part(claims)}.${Buffer.from('not-a-signature-of-64-bytes').toString('base64url')}`;
}

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(['probe', ...argv], (t) => lines.push(t));
  return { code, text: lines.join('\n') };
}

describe('probe battery and prediction (the proof model of API Gateway)', () => {
  it('probes each route first, then one of each assumption before a second of any', () => {
    const m = model(EXAMPLE_ROUTES);
    const { probes } = buildBattery(m, 200);
    expect(probes.slice(0, 6).map((p) => `${p.method} ${p.path}`)).toEqual([
      'GET /telemetry',
      'GET /telemetry/scopegate-probe',
      'POST /telemetry',
      'POST /system/reboot',
      'PUT /config/scopegate-probe',
      'GET /health',
    ]);
    const kinds = new Set(probes.map((p) => p.kind));
    for (const k of [
      'route',
      'unrouted',
      'deeper',
      'trailing-slash',
      'double-slash',
      'encoded-slash',
      'case',
      'head',
      'options',
    ] as ProbeKind[]) {
      expect(kinds).toContain(k);
    }
    const requests = probes.map((p) => `${p.method} ${p.path}`);
    expect(new Set(requests).size).toBe(requests.length);
    expect(requests).toEqual(
      expect.arrayContaining([
        'GET /scopegate-probe-no-such-path',
        'GET /telemetry/scopegate-probe/scopegate-probe',
        'GET /telemetry/',
        'GET //telemetry',
        'GET /telemetry/scopegate-probe%2Fscopegate-probe',
        'GET /Telemetry',
        'HEAD /telemetry',
        'OPTIONS /telemetry',
      ]),
    );
    // Bounded: with --max 14, the six routes and the eight kinds once each.
    const small = buildBattery(m, 14);
    expect(small.probes).toHaveLength(14);
    expect(new Set(small.probes.map((p) => p.kind)).size).toBe(9);
    expect(small.dropped.length).toBe(probes.length - 14);
  });

  it('fills a parameter with a value the model routes to that route, not to a literal sibling', () => {
    const m = model([
      { method: 'GET', path: '/users/scopegate-probe', scopes: [] },
      { method: 'GET', path: '/users/{id}', scopes: ['users:read'] },
    ]);
    expect(
      buildBattery(m, 200)
        .probes.filter((p) => p.kind === 'route')
        .map((p) => p.path),
    ).toEqual(['/users/scopegate-probe', '/users/scopegate-probe-2']);
  });

  it('predicts by the route table, the scopes and the unrouted setting', () => {
    const deny = model(EXAMPLE_ROUTES);
    const unreachable = model(EXAMPLE_ROUTES, { unrouted: 'unreachable' });
    const t = facts('telemetry:read');
    const p = (m: ProbeModel, method: string, path: string, token = t) => predict(m, token, { method, path }, NOW);
    expect(p(deny, 'GET', '/telemetry/s1')).toMatchObject({ outcome: 'backend', also: [], route: 'GET /telemetry/{sensorId}' });
    expect(p(deny, 'POST', '/telemetry')).toMatchObject({ outcome: 'denied', why: expect.stringContaining('lacks telemetry:write') });
    // Unrouted: the policy under "deny", API Gateway itself under "unreachable".
    expect(p(deny, 'GET', '/nowhere').outcome).toBe('denied');
    expect(p(unreachable, 'GET', '/nowhere').outcome).toBe('no-route');
    expect(p(unreachable, 'GET', '/telemetry/s1/deeper').outcome).toBe('no-route');
    expect(p(unreachable, 'GET', '/Telemetry').outcome).toBe('no-route');
    // HEAD on a GET-only resource is unrouted in REST.
    expect(p(unreachable, 'HEAD', '/telemetry').outcome).toBe('no-route');
    // A trailing slash is routed, and denied by the policy; "//" is undocumented: either refusal.
    expect(p(unreachable, 'GET', '/telemetry/')).toMatchObject({ outcome: 'denied', route: 'GET /telemetry' });
    expect(p(unreachable, 'GET', '//telemetry')).toMatchObject({ outcome: 'denied', also: ['no-route'] });
    // %2F stays in one segment: the {sensorId} route.
    expect(p(unreachable, 'GET', '/telemetry/a%2Fb').outcome).toBe('backend');
  });

  it('expands ANY as API Gateway does: HEAD and OPTIONS reach an ANY route, a named method beats it', () => {
    const m = model([
      { method: '*', path: '/files/{proxy+}', scopes: ['files:read'] },
      { method: 'DELETE', path: '/files/{proxy+}', scopes: ['files:admin'] },
    ]);
    const t = facts('files:read');
    expect(predict(m, t, { method: 'HEAD', path: '/files/a/b' }, NOW)).toMatchObject({ outcome: 'backend', route: '* /files/{proxy+}' });
    expect(predict(m, t, { method: 'OPTIONS', path: '/files/a' }, NOW).outcome).toBe('backend');
    expect(predict(m, t, { method: 'DELETE', path: '/files/a' }, NOW)).toMatchObject({
      outcome: 'denied',
      route: 'DELETE /files/{proxy+}',
    });
  });

  it('predicts step-up from auth_time, the route age and the policy cache, and accepts either answer where over-deny is accepted', () => {
    const m = model(EXAMPLE_ROUTES, { policyCacheTtlSeconds: 60 });
    const reboot = { method: 'POST', path: '/system/reboot' };
    expect(predict(m, facts('system:reboot', 100), reboot, NOW).outcome).toBe('backend');
    expect(predict(m, facts('system:reboot', 250), reboot, NOW)).toMatchObject({
      outcome: 'denied',
      why: expect.stringContaining('authenticated 250 s ago, the route allows 300 s minus the 60 s policy cache'),
    });
    expect(predict(m, facts('system:reboot'), reboot, NOW).why).toContain('no user authentication');
    const accepting = model([{ method: 'GET', path: '/items', scopes: ['a'], acceptOverDeny: true }]);
    expect(predict(accepting, facts('a'), { method: 'GET', path: '/items' }, NOW)).toMatchObject({ outcome: 'backend', also: ['denied'] });
  });

  it("tells API Gateway's own answers by x-amzn-ErrorType, an HTTP API's by its body, and anything else as the backend's", () => {
    expect(classifyAnswer(403, { 'x-amzn-errortype': 'AccessDeniedException' }, '{}')).toEqual({
      outcome: 'denied',
      errorType: 'AccessDeniedException',
    });
    expect(classifyAnswer(403, { 'x-amzn-errortype': 'MissingAuthenticationTokenException:http://internal' }, '').outcome).toBe('no-route');
    expect(classifyAnswer(401, { 'x-amzn-errortype': 'UnauthorizedException' }, '').outcome).toBe('unauthorized');
    expect(classifyAnswer(503, { 'x-amzn-errortype': 'AuthorizerConfigurationException' }, '').outcome).toBe('gateway-error');
    expect(classifyAnswer(429, { 'x-amzn-errortype': 'SomethingThrottled' }, '').outcome).toBe('gateway-error');
    // An integration error comes after the authorizer let the request through.
    expect(classifyAnswer(502, { 'x-amzn-errortype': 'InternalServerErrorException' }, '').outcome).toBe('backend');
    // A backend's own 403 or 404 is the backend's answer.
    expect(classifyAnswer(403, {}, '{"message":"Forbidden"}').outcome).toBe('backend');
    expect(classifyAnswer(404, { 'x-amzn-requestid': 'r' }, '{"message":"Not Found"}').outcome).toBe('backend');
    // An HTTP API's own answers.
    expect(classifyAnswer(403, { 'apigw-requestid': 'r' }, '{"message":"Forbidden"}').outcome).toBe('denied');
    expect(classifyAnswer(404, { 'apigw-requestid': 'r' }, '{"message":"Not Found"}').outcome).toBe('no-route');
    expect(classifyAnswer(404, { 'apigw-requestid': 'r' }, '{"message":"Not Found","id":1}').outcome).toBe('backend');
  });
});

describe('scopegate probe: usage', () => {
  const config = file('config.json', { issuers: [ISSUER], routes: EXAMPLE_ROUTES });
  const token = jwt({ iss: ISSUER.issuer, aud: ISSUER.audience, exp: Math.floor(Date.now() / 1000) + 300, scope: 'telemetry:read' });

  it.each([
    [
      'an http:// URL to another host',
      ['--url', 'http://example.com/prod', '--token', token, '--config', config],
      'refusing to send the token to http://example.com',
    ],
    [
      'an http:// URL to a private address',
      ['--url', 'http://10.0.0.1/prod', '--token', token, '--config', config],
      'only https://, or http:// to a loopback address',
    ],
    ['a URL with a query', ['--url', 'https://example.com/prod?x=1', '--token', token, '--config', config], 'without a query'],
    ['no --config or --openapi', ['--url', 'https://example.com/prod', '--token', token], 'give one of --config FILE and --openapi FILE'],
    [
      '--max over 1000',
      ['--url', 'https://example.com/prod', '--token', token, '--config', config, '--max', '5000'],
      '--max is a whole number',
    ],
    ['an opaque token', ['--url', 'https://example.com/prod', '--token', 'opaque-value', '--config', config], 'the token is not a JWT'],
    ['the token as a stray argument', ['--url', 'https://example.com/prod', token, '--config', config], 'Unexpected argument'],
  ])('exits 2 on %s, without printing the token', async (_label, argv, message) => {
    const { code, text } = await run(...(argv as string[]));
    expect(code).toBe(2);
    expect(text).toContain(message);
    expect(text).not.toContain(token);
    expect(text).not.toContain('opaque-value');
  });

  it('exits 2, sending nothing, for a token API Gateway would refuse outright (expired, another issuer, another audience)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const cases = [
      [jwt({ iss: ISSUER.issuer, aud: ISSUER.audience, exp: exp - 3600, scope: 'a' }), 'expired'],
      [jwt({ iss: 'https://other.test', aud: ISSUER.audience, exp, scope: 'a' }), 'names no configured issuer'],
      [jwt({ iss: ISSUER.issuer, aud: 'https://elsewhere.test', exp, scope: 'a' }), 'not for this audience'],
    ];
    for (const [t, message] of cases) {
      const { code, text } = await run('--url', 'https://127.0.0.1:9/prod', '--token', t as string, '--config', config);
      expect([code, text]).toEqual([2, expect.stringContaining(message as string)]);
      expect(text).toContain('API Gateway would answer 401 to every request');
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function clientToken(endpoint: string, client: string, scope: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.example.internal', scope }).toString();
    const req = httpsRequest(
      endpoint,
      {
        method: 'POST',
        ca: TLS.cert,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).access_token) : reject(new Error(text))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('scopegate probe against npm start (the real authorizer bundle behind the sandbox gateway)', () => {
  let child: ChildProcess;
  let output = '';
  let gateway: string;
  let issuer: string;
  let tokenEndpoint: string;

  /** The authorizer's configuration as the sandbox deploys it, with the route table and unrouted setting given. */
  function sandboxConfig(name: string, routes: unknown[], unrouted: 'deny' | 'unreachable'): string {
    return file(name, {
      issuers: [
        { issuer, jwksUri: `${issuer}/jwks`, audience: 'https://api.example.internal', algorithms: ['ES256'], tokenType: 'at+jwt' },
      ],
      routes,
      policyCacheTtlSeconds: 60,
      unrouted,
    });
  }

  beforeAll(async () => {
    const port = await freePort();
    const asPort = await freePort();
    child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PORT: String(port), AS_PORT: String(asPort), CACHE_TTL: '60' },
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes('Ctrl-C stops')) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      child.once('exit', () => reject(new Error(`npm start exited:\n${output}`)));
    });
    gateway = /sandbox ready on (http:\/\/\S+)/.exec(output)?.[1] as string;
    issuer = /OAuth server \(oidc-provider\): (https:\/\/\S+)/.exec(output)?.[1] as string;
    tokenEndpoint = /(https:\/\/127\.0\.0\.1:\d+\/token)/.exec(output)?.[1] as string;
  }, 120000);

  afterAll(async () => {
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    process.kill(-(child.pid as number), 'SIGTERM');
    await exited;
  });

  it('agrees with the sandbox for a token with some scopes (exit 0), without printing the token', async () => {
    const token = await clientToken(tokenEndpoint, 'dashboard', 'telemetry:read');
    const config = sandboxConfig('sandbox.json', EXAMPLE_ROUTES, 'unreachable');
    const { code, text } = await run('--url', gateway, '--token', token, '--config', config);
    expect(text).not.toContain(token);
    expect(text).toContain('satisfies: GET /telemetry, GET /telemetry/{sensorId}, GET /health');
    expect(text).toContain('lacks:     POST /telemetry, POST /system/reboot, PUT /config/{name}');
    expect(text).toMatch(/All \d+ answers agree with the model\./);
    expect(code).toBe(0);
    const { code: jsonCode, text: json } = await run('--url', gateway, '--token', token, '--config', config, '--json');
    expect(jsonCode).toBe(0);
    const report = JSON.parse(json);
    expect(report.agree).toBe(true);
    const outcome = (request: string) => report.probes.find((p: { request: string }) => p.request === request)?.observed?.outcome;
    expect(outcome('GET /telemetry/scopegate-probe')).toBe('backend');
    expect(outcome('POST /telemetry')).toBe('denied');
    expect(outcome('GET /scopegate-probe-no-such-path')).toBe('no-route');
    expect(outcome('GET /telemetry/')).toBe('denied');
    expect(outcome('GET //telemetry')).toBe('denied');
    expect(outcome('GET /telemetry/scopegate-probe%2Fscopegate-probe')).toBe('backend');
    expect(outcome('HEAD /telemetry')).toBe('no-route');
    expect(new Set(report.probes.map((p: { kind: string }) => p.kind)).size).toBe(9);
  });

  it('sends a write predicted to reach the backend only with --allow-writes, and agrees on step-up for a client-credentials token', async () => {
    const token = await clientToken(tokenEndpoint, 'ops-console', 'telemetry:read system:reboot config:update');
    const config = sandboxConfig('sandbox.json', EXAMPLE_ROUTES, 'unreachable');
    const held = await run('--url', gateway, '--token', token, '--config', config);
    expect(held.code).toBe(0);
    expect(held.text).toContain('PUT /config/scopegate-probe: PUT predicted to reach the backend: --allow-writes sends it');
    // system:reboot is held, but no user authenticated: the step-up route is denied.
    expect(held.text).toMatch(
      /POST \/system\/reboot\s+denied\s+403\s+route: POST \/system\/reboot denies it \(step-up: the token shows no user/,
    );
    const sent = await run('--url', gateway, '--token', token, '--config', config, '--allow-writes');
    expect(sent.code).toBe(0);
    expect(sent.text).toMatch(/PUT \/config\/scopegate-probe\s+backend\s+200/);
  });

  it('exits 1 naming each differing request when the route table differs from the deployed one', async () => {
    const token = await clientToken(tokenEndpoint, 'dashboard', 'telemetry:read');
    // The model lacks GET /health, and has GET /status, which the sandbox does not deploy.
    const routes = [...EXAMPLE_ROUTES.filter((r) => r.path !== '/health'), { method: 'GET', path: '/status', scopes: [] }];
    const { code, text } = await run(
      '--url',
      gateway,
      '--token',
      token,
      '--config',
      sandboxConfig('wrong-table.json', routes, 'unreachable'),
    );
    expect(code).toBe(1);
    expect(text).toContain(
      [
        'DIFFERS  GET /status',
        '  predicted: backend — passed to the backend: GET /status allows it (it needs no scope)',
        '  observed:  no-route — 403 MissingAuthenticationTokenException',
      ].join('\n'),
    );
    expect(text).toContain('DIFFERS  GET /status/');
    expect(text).toContain('means:     API Gateway has no resource and method for a request the model routes');
    expect(text).toMatch(/\n2 of \d+ answers differ from the model \(exit 1\)\.$/);
  });

  it('exits 1 naming each unrouted request when the unrouted setting does not match the deployed API', async () => {
    const token = await clientToken(tokenEndpoint, 'dashboard', 'telemetry:read');
    const { code, text } = await run(
      '--url',
      gateway,
      '--token',
      token,
      '--config',
      sandboxConfig('deny.json', EXAMPLE_ROUTES, 'deny'),
      '--json',
    );
    expect(code).toBe(1);
    const report = JSON.parse(text);
    const differing = report.probes.filter((p: { agree: boolean }) => p.agree === false);
    expect(differing.map((p: { request: string }) => p.request)).toEqual(
      expect.arrayContaining([
        'GET /scopegate-probe-no-such-path',
        'GET /telemetry/scopegate-probe/scopegate-probe',
        'GET /Telemetry',
        'HEAD /telemetry',
        'OPTIONS /telemetry',
      ]),
    );
    for (const p of differing) {
      expect(p.predicted.outcome).toBe('denied');
      expect(p.observed).toMatchObject({ outcome: 'no-route', status: 403, errorType: 'MissingAuthenticationTokenException' });
      expect(p.means).toContain('"unrouted": "unreachable" describes');
    }
    expect(report.differences).toBe(differing.length);
  });
});

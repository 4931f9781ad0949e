import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { parseOpenApiText, readOpenApiRoutes } from '../../core/openapi';
import type { AccessChange } from '../../proof/diff';
import { AuthorizerOracle, confirmChange, type OracleTable } from '../proof/support/diff-oracle';

const dir = mkdtempSync(join(tmpdir(), 'scopegate-diff-'));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(['diff', ...argv], (t) => lines.push(t));
  return { code, text: lines.join('\n') };
}

async function json(...argv: string[]) {
  const { code, text } = await run(...argv, '--json');
  return { code, report: JSON.parse(text) as { newAccess: AccessChange[]; lostAccess: AccessChange[]; [k: string]: unknown } };
}

/** Confirm every change of a JSON report with the real authorizers of the two tables. */
async function confirmAll(report: { newAccess: AccessChange[]; lostAccess: AccessChange[] }, base: OracleTable, head: OracleTable) {
  const b = new AuthorizerOracle(base);
  const h = new AuthorizerOracle(head);
  for (const change of report.newAccess) await confirmChange(change, true, b, h);
  for (const change of report.lostAccess) await confirmChange(change, false, b, h);
}

const ISSUER = { issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks.json', audience: 'https://api.test' };
const USERS = [
  { method: 'GET', path: '/users/{id}', scopes: ['users:read'] },
  { method: 'DELETE', path: '/users/{id}', scopes: ['users:write', 'users:admin'] },
  { method: 'GET', path: '/health', scopes: [] },
];

describe('scopegate diff', () => {
  it('prints the contract JSON for a literal route beside a parameter, and exits 1 on new access', async () => {
    const base = file('literal/base.json', USERS);
    const head = file('literal/head.json', [...USERS, { method: 'GET', path: '/users/me', scopes: ['profile:read'] }]);
    const { code, report } = await json('--base', base, '--head', head);
    expect(code).toBe(1);
    expect(report.newAccess).toEqual([
      expect.objectContaining({ scopes: ['profile:read'], request: 'GET /users/me', route: 'GET /users/me', baseRoute: 'GET /users/{id}' }),
    ]);
    expect(report.lostAccess).toEqual([
      expect.objectContaining({ scopes: ['users:read'], request: 'GET /users/me', route: 'GET /users/{id}', headRoute: 'GET /users/me' }),
    ]);
    expect(report.summary).toBe('1 change grants new access, 1 change takes access away.');
    await confirmAll(report, { routes: USERS }, { routes: JSON.parse(readFileSync(head, 'utf8')) });
    expect((await run('--base', base, '--head', head, '--allow-new-access')).code).toBe(0);
  });

  it('prints a Markdown table of the changes a reviewer reads, with a one-line summary first', async () => {
    const base = file('text/base.json', { issuers: [ISSUER], routes: USERS });
    const head = file('text/head.json', {
      issuers: [ISSUER],
      routes: USERS.map((r) => (r.method === 'DELETE' ? { ...r, scopes: ['users:admin'] } : r)),
    });
    const { code, text } = await run('--base', base, '--head', head);
    expect(code).toBe(1);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`**scopegate diff** \`${base}\` → \`${head}\`: 1 change grants new access.`);
    expect(text).toContain(
      [
        '#### New access (1)',
        '',
        '| token with    | request           | now allowed by (head)             | was (base)                                    |',
        '| ------------- | ----------------- | --------------------------------- | --------------------------------------------- |',
        '| `users:admin` | `DELETE /users/x` | `DELETE /users/{id}`: users:admin | `DELETE /users/{id}`: users:write users:admin |',
      ].join('\n'),
    );
    expect(text).not.toContain('Lost access');
    expect(lines.at(-1)).toMatch(/^Compared every valid token \(every set of the 3 scopes of both tables\) on every request path: /);
  });

  it('exits 0 when scopes are only tightened, and lists what is lost', async () => {
    const base = file('tighten/base.json', USERS);
    const head = file(
      'tighten/head.json',
      USERS.map((r) => (r.path === '/health' ? { ...r, scopes: ['health:read'] } : r)),
    );
    const { code, report } = await json('--base', base, '--head', head);
    expect(code).toBe(0);
    expect(report.newAccess).toEqual([]);
    expect(report.lostAccess).toEqual([expect.objectContaining({ scopes: [], request: 'GET /health', route: 'GET /health' })]);
    await confirmAll(report, { routes: USERS }, { routes: JSON.parse(readFileSync(head, 'utf8')) });
    const { text } = await run('--base', base, '--head', head);
    expect(text).toContain('1 change takes access away.');
    expect(text).toContain('| any valid token | `GET /health` | `GET /health`: any valid token | `GET /health`: health:read |');
  });

  it('exits 0 and says so when the table is only reordered', async () => {
    const base = file('reorder/base.json', USERS);
    const head = file('reorder/head.json', [...USERS].reverse());
    const { code, text } = await run('--base', base, '--head', head);
    expect(code).toBe(0);
    expect(text.split('\n')[0]).toContain('No change in access: every token is allowed exactly the requests it was.');
    expect(await json('--base', base, '--head', head)).toMatchObject({ code: 0, report: { newAccess: [], lostAccess: [] } });
  });

  it('exits 2 on a usage error', async () => {
    const head = file('usage/head.json', USERS);
    for (const argv of [[], ['--head', head], ['--base', head], ['--base', head, '--base-ref', 'HEAD', '--head', head], ['--bogus']]) {
      const { code, text } = await run(...argv);
      expect(code).toBe(2);
      expect(text).toContain('Usage: scopegate diff');
    }
    expect(await run('--help')).toMatchObject({ code: 0, text: expect.stringContaining('docs/diff.md') });
  });

  it('exits 2 naming the file and the bad field on a configuration error, without quoting the text', async () => {
    const head = file('bad/head.json', USERS);
    const badField = file('bad/field.json', [{ method: 'GET', path: '/x', scopes: ['a b'] }]);
    expect(await run('--base', badField, '--head', head)).toEqual({
      code: 2,
      text: expect.stringMatching(/^scopegate diff: .*field\.json: routes\[0\]\.scopes\[0\]: /),
    });
    const secret = file('bad/secret.json', '{"issuers": [{"clientSecret": "hunter2"');
    const { code, text } = await run('--base', secret, '--head', head);
    expect(code).toBe(2);
    expect(text).toContain('secret.json: not valid JSON');
    expect(text).not.toContain('hunter2');
    expect((await run('--base', join(dir, 'missing.json'), '--head', head)).code).toBe(2);
  });

  it('compares two OpenAPI documents: an added security alternative, a public operation, a report-only one', async () => {
    const doc = (ops: { petsGet: unknown; petsPost: unknown; pet: unknown }) => `openapi: 3.0.3
info: { title: pets, version: "1" }
components:
  securitySchemes:
    oauth: { type: oauth2, flows: { clientCredentials: { tokenUrl: https://idp.test/token, scopes: {} } } }
    entra: { type: openIdConnect, openIdConnectUrl: https://idp.test/.well-known/openid-configuration }
security:
  - oauth: [pets:read]
paths:
  /pets:
    get: ${JSON.stringify(ops.petsGet)}
    post: ${JSON.stringify(ops.petsPost)}
  /pets/{petId}:
    get: ${JSON.stringify(ops.pet)}
`;
    const ok = { responses: { '200': { description: 'ok' } } };
    const base = file(
      'openapi/base.yaml',
      doc({
        petsGet: ok,
        petsPost: { ...ok, security: [{ oauth: ['pets:write'] }] },
        pet: { ...ok, security: [{ oauth: ['pets:read'] }] },
      }),
    );
    const head = file(
      'openapi/head.yaml',
      doc({
        petsGet: { ...ok, security: [] },
        petsPost: { ...ok, security: [{ oauth: ['pets:write'] }], 'x-scopegate-enforcement': 'report-only' },
        pet: { ...ok, security: [{ oauth: ['pets:read'] }, { entra: ['Pets.Read.All'] }] },
      }),
    );
    const { code, report } = await json('--base', base, '--head', head);
    expect(code).toBe(1);
    expect(report.newAccess.map(({ scopes, request, route }) => ({ scopes, request, route }))).toEqual([
      { scopes: [], request: 'GET /pets', route: 'GET /pets' },
      { scopes: [], request: 'POST /pets', route: 'POST /pets' },
      { scopes: ['Pets.Read.All'], request: 'GET /pets/x', route: 'GET /pets/{petId}' },
    ]);
    expect(report.lostAccess).toEqual([]);
    // The authorizer as the construct configures it for an imported document: its routes, unrouted unreachable.
    const table = (path: string): OracleTable => ({
      unrouted: 'unreachable',
      routes: readOpenApiRoutes(parseOpenApiText(readFileSync(path, 'utf8'))).map(({ public: _public, ...r }) => r),
    });
    await confirmAll(report, table(base), table(head));
  });

  it('reads an OpenAPI document given as JSON', async () => {
    const docJson = (scopes: string[]) => ({
      openapi: '3.1.0',
      info: { title: 'x', version: '1' },
      components: { securitySchemes: { oauth: { type: 'oauth2', flows: {} } } },
      paths: { '/things/{id}': { delete: { security: [{ oauth: scopes }], responses: {} } } },
    });
    const base = file('openapi-json/base.json', docJson(['things:delete']));
    const head = file('openapi-json/head.json', docJson(['things:delete', 'things:admin']));
    const { code, report } = await json('--base', base, '--head', head);
    expect(code).toBe(0);
    expect(report.lostAccess).toEqual([
      expect.objectContaining({ scopes: ['things:delete'], request: 'DELETE /things/x', route: 'DELETE /things/{id}' }),
    ]);
  });

  describe('--base-ref, against a git repository', () => {
    const repo = join(dir, 'repo');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], {
        cwd: repo,
        encoding: 'utf8',
      });
    const routes = join(repo, 'api', 'routes.json');

    beforeAll(() => {
      mkdirSync(join(repo, 'api'), { recursive: true });
      git('init', '-q', '-b', 'main');
      writeFileSync(join(repo, 'README'), 'x');
      git('add', '.');
      git('commit', '-q', '-m', 'before the routes');
      writeFileSync(routes, JSON.stringify(USERS));
      git('add', '.');
      git('commit', '-q', '-m', 'routes');
      git('checkout', '-q', '-b', 'feature');
      writeFileSync(routes, JSON.stringify([...USERS, { method: 'POST', path: '/users', scopes: ['users:write'] }]));
      git('commit', '-q', '-am', 'POST /users');
      // The working tree changes further, uncommitted: the head is the file as it is.
      writeFileSync(
        routes,
        JSON.stringify([
          ...USERS,
          { method: 'POST', path: '/users', scopes: ['users:write'] },
          { method: 'GET', path: '/metrics', scopes: [] },
        ]),
      );
    });

    it('takes the base from the head file’s path at the ref, whatever the working directory', async () => {
      const { code, report } = await json('--base-ref', 'main', '--head', routes);
      expect(code).toBe(1);
      expect(report.base).toBe('main:api/routes.json');
      expect(report.newAccess.map((c) => c.request)).toEqual(['POST /users', 'GET /metrics']);
      const sinceFeature = await json('--base-ref', 'feature', '--head', routes);
      expect(sinceFeature.report.newAccess.map((c) => c.request)).toEqual(['GET /metrics']);
      await confirmAll(report, { routes: USERS }, { routes: JSON.parse(readFileSync(routes, 'utf8')) });
    });

    it('compares a file new since the ref with an empty table, and says so', async () => {
      const { code, report } = await json('--base-ref', 'HEAD~2', '--head', routes);
      expect(code).toBe(1);
      expect(report.note).toBe('api/routes.json does not exist at HEAD~2: compared with an empty route table.');
      expect(report.newAccess.map((c) => c.route)).toEqual([
        'POST /users',
        'GET /health',
        'GET /metrics',
        'GET /users/{id}',
        'DELETE /users/{id}',
      ]);
    });

    it('exits 2 on a revision that does not exist, or a head file outside any repository', async () => {
      const bad = await run('--base-ref', 'origin/nope', '--head', routes);
      expect(bad).toEqual({ code: 2, text: expect.stringContaining('origin/nope is not a git revision here') });
      expect(await run('--base-ref=--output=/tmp/x', '--head', routes)).toEqual({
        code: 2,
        text: expect.stringContaining('is not a git revision'),
      });
      const outside = file('outside/routes.json', USERS);
      const notRepo = await run('--base-ref', 'main', '--head', outside);
      expect(notRepo.code).toBe(2);
    });

    it('runs from the bin entry as a CI job would, with the exit status', () => {
      const bin = join(__dirname, '..', '..', 'bin', 'scopegate.js');
      let status = 0;
      let stdout = '';
      try {
        execFileSync(process.execPath, [bin, 'diff', '--base-ref', 'main', '--head', 'api/routes.json'], { cwd: repo, encoding: 'utf8' });
      } catch (error) {
        ({ status, stdout } = error as { status: number; stdout: string });
      }
      expect(status).toBe(1);
      expect(stdout).toContain('`main:api/routes.json` → `api/routes.json`: 2 changes grant new access.');
    }, 60_000);
  });

  it('prints the example of docs/diff.md for examples/routes.json changed four ways', async () => {
    const root = join(__dirname, '..', '..');
    const example = JSON.parse(readFileSync(join(root, 'examples', 'routes.json'), 'utf8')) as Record<string, unknown>[];
    const changed = example.flatMap((r) => {
      if (r.path === '/telemetry/{sensorId}') return [r, { method: 'GET', path: '/telemetry/export', scopes: ['telemetry:export'] }];
      if (r.method === 'POST' && r.path === '/telemetry')
        return [{ method: 'POST', path: '/telemetry', anyOf: [['telemetry:write'], ['telemetry:admin']] }];
      if (r.path === '/config/{name}') return [{ ...r, scopes: ['config:update', 'config:admin'] }];
      return [r];
    });
    const head = file('docs/api/routes.json', changed);
    const { code, text } = await run('--base', join(root, 'examples', 'routes.json'), '--head', head);
    expect(code).toBe(1);
    const doc = readFileSync(join(root, 'docs', 'diff.md'), 'utf8');
    const rows = (t: string) => t.split('\n').filter((l) => l.startsWith('| ') || l.startsWith('#### '));
    expect(rows(doc.slice(0, doc.indexOf('## Usage')))).toEqual(rows(text));
    expect(doc).toContain(`: ${text.split('\n')[0]?.split(': ').at(-1)}`);
    await confirmAll(
      await json('--base', join(root, 'examples', 'routes.json'), '--head', head).then((r) => r.report),
      { routes: example },
      { routes: changed },
    );
  });

  it('is listed in the CLI help', async () => {
    const lines: string[] = [];
    expect(await main(['--help'], (t) => lines.push(t))).toBe(0);
    expect(lines.join('\n')).toMatch(/ {2}diff {6}who gains and who loses access .*docs\/diff\.md/);
  });
});

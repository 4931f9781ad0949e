import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { verifyCommand } from '../../cli/verify';
import { compilePolicy } from '../../functions/authorizer/policy';
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
    expect(text).toMatch(/^1 routes; 1 distinct route sets/);
    expect(text).toMatch(/Proven: 1 route sets/);
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
    expect(text).toContain('sound: GET /users/admin is allowed for a token without admin:read (the request reaches GET /users/admin)');
    expect(text).toMatch(/NOT proven: \d+ of 4 route sets have counterexamples/);

    const json: string[] = [];
    expect(await verifyCommand(['--config', config, '--json'], (t) => json.push(t), withoutDenies)).toBe(1);
    const report = JSON.parse(json.join(''));
    expect(report.proven).toBe(false);
    expect(report.cases.find((c: { satisfied: string[] }) => c.satisfied.join() === 'GET /users/{id}').counterexamples).toContainEqual(
      expect.objectContaining({ request: 'GET /users/admin', property: 'sound' }),
    );
  });

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

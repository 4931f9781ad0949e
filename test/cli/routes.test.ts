import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { main } from '../../cli/main';
import { SIZING_ARN_PREFIX } from '../../cli/routes';
import { Unrouted } from '../../core/config';
import { compilePolicy, renderPolicy } from '../../core/policy';
import { parseRouteTemplate } from '../../core/routes';

const XERO = path.join(__dirname, '../fixtures/openapi/xero-projects.yaml');

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(['routes', ...args], (t) => lines.push(t));
  return { code, text: lines.join('\n') };
}

function writeDoc(doc: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'routes-')), 'api.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const petstore = {
  openapi: '3.1.0',
  info: { title: 'pets', version: '1' },
  components: {
    securitySchemes: { oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://idp.test/token', scopes: {} } } } },
  },
  security: [{ oauth: ['pets:read'] }],
  paths: {
    '/pets': { get: {}, post: { security: [{ oauth: ['pets:write'] }, { oauth: ['pets:admin'] }] } },
    '/pets/{petId}': { get: {}, delete: { security: [{ oauth: ['pets:admin'] }] } },
    '/health': { get: { security: [] } },
  },
};

describe('scopegate routes', () => {
  it("prints the route table of Xero's Projects API (a real third-party OpenAPI 3 document) as JSON", async () => {
    const { code, text } = await run(['--openapi', XERO, '--json']);
    expect(code).toBe(0);
    const out = JSON.parse(text);
    expect(out.routes).toHaveLength(16);
    expect(out.routes[0]).toEqual({ method: 'GET', path: '/Projects', scopes: ['projects', 'projects.read'], public: false });
    expect(out.policyBytes).toBeUndefined();
  });

  it('decides every route for a token with --scopes and sizes the policy with the real compiler', async () => {
    const { code, text } = await run(['--openapi', writeDoc(petstore), '--json', '--scopes', 'pets:read pets:admin']);
    expect(code).toBe(0);
    const out = JSON.parse(text);
    expect(out.routes).toEqual([
      { method: 'GET', path: '/pets', scopes: ['pets:read'], public: false, decision: 'allow' },
      { method: 'POST', path: '/pets', anyOf: [['pets:write'], ['pets:admin']], public: false, decision: 'allow' },
      { method: 'GET', path: '/pets/{petId}', scopes: ['pets:read'], public: false, decision: 'allow' },
      { method: 'DELETE', path: '/pets/{petId}', scopes: ['pets:admin'], public: false, decision: 'allow' },
      { method: 'GET', path: '/health', scopes: [], public: true, decision: 'allow' },
    ]);
    const readOnly = JSON.parse((await run(['--openapi', writeDoc(petstore), '--json', '--scopes', 'pets:read'])).text);
    expect(readOnly.routes.map((r: { decision: string }) => r.decision)).toEqual(['allow', 'deny', 'allow', 'deny', 'allow']);
    const verdicts = [true, false, true, false, true];
    const expected = renderPolicy(
      compilePolicy(
        readOnly.routes.map((r: { method: 'GET'; path: string }) => ({ method: r.method, template: parseRouteTemplate(r.path) })),
        (i) => verdicts[i] === true,
        { unrouted: Unrouted.UNREACHABLE },
      ),
      SIZING_ARN_PREFIX,
    );
    expect(readOnly.policyBytes).toBe(Buffer.byteLength(JSON.stringify(expected)));
  });

  it("shows, in text, that Xero's read-only scope alone opens nothing: the document lists both scopes in one requirement (all required)", async () => {
    const { code, text } = await run(['--openapi', XERO, '--scopes', 'projects.read']);
    expect(code).toBe(0);
    expect(text).toMatch(/GET\s+\/Projects\s+deny\s+projects projects\.read/);
    expect(text).toContain('is allowed 0 of 16 routes');
    expect((await run(['--openapi', XERO, '--scopes', 'projects projects.read'])).text).toContain('is allowed 16 of 16 routes');
  });

  it('fails with status 1 and names the operation when the document cannot be enforced', async () => {
    const bad = structuredClone(petstore) as typeof petstore & { components: { securitySchemes: Record<string, unknown> } };
    bad.components.securitySchemes.key = { type: 'apiKey', in: 'header', name: 'X-Api-Key' };
    (bad.paths['/pets/{petId}'] as Record<string, unknown>).get = { security: [{ key: [] }] };
    const { code, text } = await run(['--openapi', writeDoc(bad)]);
    expect(code).toBe(1);
    expect(text).toContain('GET /pets/{petId}: security scheme "key" is an API key');
  });

  it('answers a usage error with status 2 and the help', async () => {
    const { code, text } = await run([]);
    expect(code).toBe(2);
    expect(text).toContain('--openapi FILE is required');
    expect((await run(['--help'])).code).toBe(0);
  });
});

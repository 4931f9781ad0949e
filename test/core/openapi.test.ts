import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { main } from '../../cli/main';
import { OpenApiError, parseOpenApiText, readOpenApiRoutes, SCOPEGATE_SCHEME, withScopegateAuthorizer } from '../../core/openapi';
import { BUNDLE_EXTERNALS, BUNDLE_TARGET } from '../../lib/bundle-options';
import { ScopeAuthorizer } from '../../lib/scope-authorizer';

const schemes = {
  oauth: {
    type: 'oauth2',
    flows: {
      clientCredentials: { tokenUrl: 'https://idp.test/token', scopes: { 'pets:read': '', 'pets:write': '', 'Pets.Read.All': '' } },
    },
  },
  oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://idp.test/.well-known/openid-configuration' },
  key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
  session: { type: 'apiKey', in: 'cookie', name: 'sid' },
  basic: { type: 'http', scheme: 'basic' },
};

function doc(paths: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { openapi: '3.0.3', info: { title: 't', version: '1' }, paths, components: { securitySchemes: schemes }, ...extra };
}

describe('readOpenApiRoutes', () => {
  it('reads each operation, its scopes, operation-level security over the global one, and security: [] as public', () => {
    const routes = readOpenApiRoutes(
      doc(
        {
          '/pets': { get: {}, post: { security: [{ oauth: ['pets:write'] }] } },
          '/health': { get: { security: [] } },
        },
        { security: [{ oauth: ['pets:read'] }] },
      ),
    );
    expect(routes).toEqual([
      { method: 'GET', path: '/pets', scopes: ['pets:read'], public: false },
      { method: 'POST', path: '/pets', scopes: ['pets:write'], public: false },
      { method: 'GET', path: '/health', scopes: [], public: true },
    ]);
  });

  it('reads several requirements as alternatives (anyOf), an OIDC scheme too, and keeps one requirement as scopes', () => {
    const routes = readOpenApiRoutes(
      doc({ '/pets/{petId}': { get: { security: [{ oauth: ['pets:read'] }, { oidc: ['Pets.Read.All'] }, { oauth: ['pets:read'] }] } } }),
    );
    expect(routes).toEqual([{ method: 'GET', path: '/pets/{petId}', anyOf: [['pets:read'], ['Pets.Read.All']], public: false }]);
  });

  it('reads x-amazon-apigateway-any-method as * and keeps path parameters and a greedy {proxy+}', () => {
    const routes = readOpenApiRoutes(
      doc({ '/files/{proxy+}': { 'x-amazon-apigateway-any-method': { security: [{ oauth: ['pets:write'] }] }, parameters: [] } }),
    );
    expect(routes).toEqual([{ method: '*', path: '/files/{proxy+}', scopes: ['pets:write'], public: false }]);
  });

  it("reads x-scopegate-enforcement on an operation as that route's mode, and refuses other values", () => {
    const routes = readOpenApiRoutes(
      doc({ '/pets': { post: { security: [{ oauth: ['pets:write'] }], 'x-scopegate-enforcement': 'report-only' } } }),
    );
    expect(routes).toEqual([{ method: 'POST', path: '/pets', scopes: ['pets:write'], public: false, enforcement: 'report-only' }]);
    expect(() => readOpenApiRoutes(doc({ '/pets': { get: { security: [], 'x-scopegate-enforcement': 'audit' } } }))).toThrow(
      /GET \/pets: x-scopegate-enforcement must be "enforce" or "report-only"/,
    );
  });

  it.each([
    ['an API key', [{ key: [] }], /GET \/pets: security scheme "key" is an API key/],
    ['cookie authentication', [{ session: [] }], /GET \/pets: security scheme "session" is cookie authentication/],
    ['HTTP basic authentication', [{ basic: [] }], /GET \/pets: security scheme "basic" is HTTP basic authentication/],
    [
      'schemes required together',
      [{ oauth: ['pets:read'], oidc: [] }],
      /GET \/pets: security\[0\] requires the schemes oauth and oidc together/,
    ],
    ['optional authentication', [{}, { oauth: ['pets:read'] }], /GET \/pets: security makes authentication optional/],
    ['an undefined scheme', [{ nope: [] }], /GET \/pets: security scheme "nope" is not defined/],
  ])('refuses %s, naming the method and path', (_name, security, message) => {
    expect(() => readOpenApiRoutes(doc({ '/pets': { get: { security } } }))).toThrow(message);
  });

  it('refuses an operation without any security requirement rather than making it public', () => {
    expect(() => readOpenApiRoutes(doc({ '/pets': { get: {} } }))).toThrow(/GET \/pets: no security requirement.*security: \[\]/);
  });

  it('refuses TRACE, paths API Gateway cannot route, and Swagger 2.0', () => {
    expect(() => readOpenApiRoutes(doc({ '/pets': { trace: {} } }))).toThrow(OpenApiError);
    expect(() => readOpenApiRoutes(doc({ '/pets/{id}.json': { get: { security: [] } } }))).toThrow(/GET \/pets\/\{id\}\.json: the path/);
    expect(() => readOpenApiRoutes({ swagger: '2.0', paths: {} })).toThrow(
      /OpenAPI 3\.0 or 3\.1 document is required \(this one is swagger 2\.0\)/,
    );
  });

  it("reads Xero's Projects API (a real third-party document): every operation with its OAuth 2.0 scopes", () => {
    const text = readFileSync(path.join(__dirname, '../fixtures/openapi/xero-projects.yaml'), 'utf8');
    const routes = readOpenApiRoutes(parseOpenApiText(text));
    expect(routes).toHaveLength(16);
    expect(routes).toContainEqual({
      method: 'GET',
      path: '/Projects/{projectId}/Tasks/{taskId}',
      scopes: ['projects', 'projects.read'],
      public: false,
    });
    expect(routes).toContainEqual({
      method: 'DELETE',
      path: '/Projects/{projectId}/Time/{timeEntryId}',
      scopes: ['projects'],
      public: false,
    });
  });
});

describe('x-amazon-apigateway-auth beside an OAuth security requirement', () => {
  // API Gateway does not document which of the two wins when it imports such an operation:
  // {type: NONE} could leave it open while every scopegate tool lists it as protected.
  const guardedButOpen = doc(
    {
      '/pets': { get: { 'x-amazon-apigateway-auth': { type: 'NONE' } }, post: { security: [{ oauth: ['pets:write'] }] } },
      '/health': { get: { security: [], 'x-amazon-apigateway-auth': { type: 'NONE' } } },
    },
    { security: [{ oauth: ['pets:read'] }] },
  );
  const xero = () =>
    parseOpenApiText(readFileSync(path.join(__dirname, '../fixtures/openapi/xero-projects.yaml'), 'utf8')) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };

  it('refuses the document, naming the operation, whether the requirement is the global one or its own', () => {
    expect(() => readOpenApiRoutes(guardedButOpen)).toThrow(OpenApiError);
    expect(() => readOpenApiRoutes(guardedButOpen)).toThrow(
      /^GET \/pets: has x-amazon-apigateway-auth \(type "NONE"\) and an OAuth security requirement/,
    );
    const own = doc({ '/pets': { get: { security: [{ oidc: [] }], 'x-amazon-apigateway-auth': { type: 'AWS_IAM' } } } });
    expect(() => readOpenApiRoutes(own)).toThrow(/^GET \/pets: has x-amazon-apigateway-auth \(type "AWS_IAM"\)/);
  });

  it('keeps a public operation (security: []) that says the same with {type: NONE}', () => {
    const routes = readOpenApiRoutes(doc({ '/health': { get: { security: [], 'x-amazon-apigateway-auth': { type: 'NONE' } } } }));
    expect(routes).toEqual([{ method: 'GET', path: '/health', scopes: [], public: true }]);
  });

  it("refuses Xero's Projects API once one of its operations carries it (the fixture itself has none)", () => {
    expect(JSON.stringify(xero())).not.toContain('x-amazon-apigateway-auth');
    const changed = xero();
    const operation = changed.paths['/Projects/{projectId}/Time/{timeEntryId}']?.delete as Record<string, unknown>;
    operation['x-amazon-apigateway-auth'] = { type: 'NONE' };
    expect(() => readOpenApiRoutes(changed)).toThrow(
      /^DELETE \/Projects\/\{projectId\}\/Time\/\{timeEntryId\}: has x-amazon-apigateway-auth/,
    );
  });

  it('is refused alike by scopegate routes, scopegate verify --openapi and the construct', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'openapi-auth-')), 'api.json');
    writeFileSync(file, JSON.stringify(guardedButOpen));
    const lines: string[] = [];
    expect(await main(['routes', '--openapi', file, '--json'], (t) => lines.push(t))).toBe(1);
    expect(await main(['verify', '--openapi', file, '--json'], (t) => lines.push(t))).toBe(2);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toContain('GET /pets: has x-amazon-apigateway-auth');
    const stack = new Stack(new App(), 'Spec', { env: { account: '111111111111', region: 'eu-west-1' } });
    const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [{ issuer: 'https://idp.test', audience: 'https://api.test' }] });
    expect(() => authorizer.specRestApi(stack, 'Api', { document: file })).toThrow(/GET \/pets: has x-amazon-apigateway-auth/);
  });
});

describe('withScopegateAuthorizer', () => {
  const authorizer = {
    type: 'token' as const,
    authorizerUri: 'arn:aws:apigateway:eu-west-1:lambda:path/fn',
    authorizerResultTtlInSeconds: 300,
  };
  const original = doc(
    { '/pets': { get: {}, post: { security: [{ oauth: ['pets:write'] }] } }, '/health': { get: { security: [] } } },
    { security: [{ oauth: ['pets:read'] }] },
  );

  it('writes the authorizer under components.securitySchemes and points every secured operation at it', () => {
    // biome-ignore lint/suspicious/noExplicitAny: assertions walk the produced document by its known shape
    const out = withScopegateAuthorizer(original, authorizer) as any;
    expect(out.components.securitySchemes[SCOPEGATE_SCHEME]).toEqual({
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      'x-amazon-apigateway-authtype': 'custom',
      'x-amazon-apigateway-authorizer': authorizer,
    });
    expect(out.paths['/pets'].get.security).toEqual([{ scopegate: [] }]);
    expect(out.paths['/pets'].post.security).toEqual([{ scopegate: [] }]);
    expect(out.paths['/health'].get.security).toEqual([]);
    expect(out.security).toBeUndefined();
    // The OAuth schemes API Gateway would not enforce are replaced; the others stay.
    expect(Object.keys(out.components.securitySchemes).sort()).toEqual(['basic', 'key', 'scopegate', 'session']);
  });

  it('leaves the original document as it was', () => {
    const before = JSON.stringify(original);
    withScopegateAuthorizer(original, authorizer);
    expect(JSON.stringify(original)).toBe(before);
  });
});

describe('the OpenAPI reader and the Lambda bundle', () => {
  it('stays out of the authorizer bundle (with its YAML parser)', async () => {
    const result = await build({
      entryPoints: [path.join(__dirname, '../../functions/authorizer/handler.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      target: BUNDLE_TARGET,
      external: BUNDLE_EXTERNALS,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('functions/authorizer/handler.ts');
    expect(inputs.filter((i) => i.includes('openapi') || i.includes('node_modules/yaml/'))).toEqual([]);
  });
});

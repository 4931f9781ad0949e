import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import {
  OpenApiError,
  parseOpenApiText,
  readOpenApiRoutes,
  SCOPEGATE_SCHEME,
  withScopegateAuthorizer,
} from '../../../functions/shared/openapi';
import { BUNDLE_EXTERNALS, BUNDLE_TARGET } from '../../../lib/bundle-options';

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
    const text = readFileSync(path.join(__dirname, '../../fixtures/openapi/xero-projects.yaml'), 'utf8');
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
      entryPoints: [path.join(__dirname, '../../../functions/authorizer/handler.ts')],
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

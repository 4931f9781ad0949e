import type { Server } from 'node:http';
import { request } from 'node:http';
import { SANDBOX_ARN_PREFIX, startGateway, type TokenAuthorizerHandler } from '../../sandbox/gateway';

/**
 * The sandbox gateway answers as API Gateway REST does on its own answers: the status, the
 * body of its default gateway response, `x-amzn-ErrorType` (AWS Knowledge Center, "How do I
 * troubleshoot HTTP 403 errors from API Gateway?"), `x-amzn-RequestId` on every answer, and
 * the `WWW-Authenticate` / `Retry-After` headers the construct's gateway responses add.
 */

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

function call(base: string, method: string, path: string, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method, headers: authorization ? { authorization } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ROUTES = [
  { method: 'GET', path: '/items' },
  { method: 'GET', path: '/items/{id}' },
  { method: 'DELETE', path: '/items/{id}' },
  { method: 'GET', path: '/broken' },
  { method: 'GET', path: '/other' },
];

describe('sandbox gateway', () => {
  let server: Server;
  let url: string;
  const arns: string[] = [];

  beforeAll(async () => {
    // Stands in for the Lambda: allows GET on /items and below, denies DELETE explicitly, and
    // leaves everything else to the implicit deny; fails on /broken.
    const authorizer: TokenAuthorizerHandler = async (event) => {
      arns.push(event.methodArn.slice(SANDBOX_ARN_PREFIX.length));
      if (event.authorizationToken === 'Bearer refused') throw new Error('Unauthorized');
      if (event.methodArn.endsWith('/broken')) throw new Error('keys unavailable');
      return {
        principalId: 'p',
        policyDocument: {
          Statement: [
            { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [`${SANDBOX_ARN_PREFIX}GET/items*`] },
            { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${SANDBOX_ARN_PREFIX}DELETE/*`, `${SANDBOX_ARN_PREFIX}*//*`] },
          ],
        },
      };
    };
    ({ server, url } = await startGateway({ authorizer, routes: ROUTES, cacheTtlSeconds: 0, port: 0 }));
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers a request no resource and method match with MissingAuthenticationTokenException, before any authorizer', async () => {
    const before = arns.length;
    const a = await call(url, 'HEAD', '/items', 'Bearer t');
    expect(a.status).toBe(403);
    expect(a.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(a.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    const b = await call(url, 'GET', '/nowhere');
    expect([b.status, b.headers['x-amzn-errortype'], JSON.parse(b.body)]).toEqual([
      403,
      'MissingAuthenticationTokenException',
      { message: 'Missing Authentication Token' },
    ]);
    expect(arns.length).toBe(before);
  });

  it('answers a missing token and a refused one with UnauthorizedException and the construct WWW-Authenticate', async () => {
    for (const authorization of [undefined, 'Basic x', 'Bearer refused']) {
      const a = await call(url, 'GET', '/items', authorization);
      expect([a.status, a.headers['x-amzn-errortype'], a.headers['www-authenticate'], JSON.parse(a.body)]).toEqual([
        401,
        'UnauthorizedException',
        'Bearer error="invalid_token"',
        { message: 'Unauthorized' },
      ]);
    }
  });

  it('tells an explicit deny from an implicit one in the message, both AccessDeniedException with insufficient_scope', async () => {
    const explicit = await call(url, 'DELETE', '/items/1', 'Bearer t');
    expect([explicit.status, explicit.headers['x-amzn-errortype'], explicit.headers['www-authenticate']]).toEqual([
      403,
      'AccessDeniedException',
      'Bearer error="insufficient_scope"',
    ]);
    expect(JSON.parse(explicit.body).message).toBe('User is not authorized to access this resource with an explicit deny');
    const implicit = await call(url, 'GET', '/other', 'Bearer t');
    expect([implicit.status, implicit.headers['x-amzn-errortype'], implicit.headers['www-authenticate']]).toEqual([
      403,
      'AccessDeniedException',
      'Bearer error="insufficient_scope"',
    ]);
    expect(JSON.parse(implicit.body).message).toBe('User is not authorized to access this resource');
  });

  it('answers a failing authorizer with AuthorizerConfigurationException, 503 and Retry-After (the construct mapping), message null', async () => {
    const a = await call(url, 'GET', '/broken', 'Bearer t');
    expect([a.status, a.headers['x-amzn-errortype'], a.headers['retry-after'], JSON.parse(a.body)]).toEqual([
      503,
      'AuthorizerConfigurationException',
      '5',
      { message: null },
    ]);
  });

  it('passes an allowed request to the backend with a request id and no error type', async () => {
    const a = await call(url, 'GET', '/items', 'Bearer t');
    expect(a.status).toBe(200);
    expect(a.headers['x-amzn-requestid']).toBeDefined();
    expect(a.headers['x-amzn-errortype']).toBeUndefined();
  });

  it('routes /x/ as /x and an empty segment without it, and gives the authorizer the path as sent', async () => {
    arns.length = 0;
    expect((await call(url, 'GET', '/items/', 'Bearer t')).status).toBe(200);
    const doubled = await call(url, 'GET', '/items//1', 'Bearer t');
    expect([doubled.status, doubled.headers['x-amzn-errortype']]).toEqual([403, 'AccessDeniedException']);
    expect(JSON.parse(doubled.body).message).toContain('explicit deny');
    // A path starting with "//" is a path, not a host.
    expect((await call(url, 'GET', '//items', 'Bearer t')).headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect((await call(url, 'GET', '/items/a%2Fb', 'Bearer t')).status).toBe(200);
    expect(arns).toEqual(['GET/items/', 'GET/items//1', 'GET//items', 'GET/items/a%2Fb']);
  });
});

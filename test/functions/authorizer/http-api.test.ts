import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { createHandler } from '../../../functions/authorizer/handler';
import { rawConfig } from '../../support/fixtures';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';

/**
 * HTTP API (payload 2.0) events as API Gateway sends them: `routeKey` names the route it
 * matched; `rawPath` is the path the client called, which starts with the stage on a named
 * stage (`/dev/admin`) and with the base path under a custom domain's API mapping.
 */

const key = makeKey('ES256', 'http-1');
const API = 'arn:aws:execute-api:eu-west-1:123456789012:h7tp4p1';

const ROUTES = [
  { method: '*', path: '/{proxy+}', scopes: [] },
  { method: 'GET', path: '/admin', scopes: ['admin:read'] },
  { method: 'GET', path: '/users/{id}', scopes: ['users:read'] },
];

function handler(routes: unknown[] = ROUTES) {
  const telemetry = captureTelemetry();
  const h = createHandler({
    env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({ routes })) },
    fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
    telemetry,
  });
  return { h, telemetry };
}

/** A payload 2.0 event: `stage` `$default` or named, `domain` the execute-api or a custom one. */
function event(
  token: string,
  routeKey: string,
  rawPath: string,
  options: { stage?: string; domain?: string; method?: string } = {},
): APIGatewayRequestAuthorizerEventV2 {
  const stage = options.stage ?? 'dev';
  const method = options.method ?? (routeKey.startsWith('$') ? 'GET' : (routeKey.split(' ')[0] as string));
  const httpMethod = method === 'ANY' ? 'GET' : method;
  return {
    version: '2.0',
    type: 'REQUEST',
    // API Gateway's routeArn: the API, the stage, the method and the path asked.
    routeArn: `${API}/${stage}/${httpMethod}${rawPath}`,
    identitySource: [`Bearer ${token}`],
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}`, host: options.domain ?? 'h7tp4p1.execute-api.eu-west-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'h7tp4p1',
      domainName: options.domain ?? 'h7tp4p1.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'h7tp4p1',
      http: { method: httpMethod, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8' },
      requestId: 'r1',
      routeKey,
      stage,
      time: '28/Nov/2026:09:00:00 +0000',
      timeEpoch: 1_795_856_400_000,
    },
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

type Simple = APIGatewaySimpleAuthorizerWithContextResult<Record<string, unknown>>;

describe('HTTP API events are decided for their routeKey, never re-routed from rawPath', () => {
  const withoutAdmin = signJwt(key, claims({ scope: 'users:read' }));
  const withAdmin = signJwt(key, claims({ scope: 'admin:read' }));

  it('denies GET /admin on the named stage dev (rawPath /dev/admin) to a token without admin:read', async () => {
    const { h, telemetry } = handler();
    const answer = (await h(event(withoutAdmin, 'GET /admin', '/dev/admin'))) as Simple;
    expect(answer.isAuthorized).toBe(false);
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'insufficient_scope', route: 'GET /admin', missingScopes: ['admin:read'] });
  });

  it('allows GET /admin on a named stage to a token with admin:read', async () => {
    const { h } = handler();
    await expect(h(event(withAdmin, 'GET /admin', '/dev/admin'))).resolves.toMatchObject({ isAuthorized: true });
  });

  it('gives the same answer under a custom domain with a base path mapping (rawPath /v1/admin)', async () => {
    const { h } = handler();
    const answer = (await h(event(withoutAdmin, 'GET /admin', '/v1/admin', { domain: 'api.example.com', stage: 'prod' }))) as Simple;
    expect(answer.isAuthorized).toBe(false);
  });

  it('decides ANY /{proxy+} for what it matched, whatever the path', async () => {
    const { h, telemetry } = handler();
    const answer = (await h(event(withoutAdmin, 'ANY /{proxy+}', '/dev/anything/else'))) as Simple;
    expect(answer.isAuthorized).toBe(true);
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'allow', route: '* /{proxy+}', method: 'ANY', path: '/{proxy+}' });
  });

  it('matches a routeKey to the configured route whatever its parameter names', async () => {
    const { h } = handler();
    await expect(h(event(withoutAdmin, 'GET /users/{userId}', '/dev/users/u1'))).resolves.toMatchObject({ isAuthorized: true });
    await expect(h(event(withAdmin, 'GET /users/{userId}', '/dev/users/u1'))).resolves.toMatchObject({ isAuthorized: false });
  });

  it('denies a routeKey that is not in the route table (no_route)', async () => {
    const { h, telemetry } = handler();
    const answer = (await h(event(withAdmin, 'DELETE /admin', '/dev/admin'))) as Simple;
    expect(answer).toMatchObject({ isAuthorized: false, context: { reason: 'no_route' } });
    expect(telemetry.decisions[0]?.detail).toContain('DELETE /admin');
  });

  it('decides the $default route as the catch-all the table configures, and denies it when the table has none', async () => {
    const withDefault = [{ method: '*', path: '$default', scopes: ['admin:read'] }, ...ROUTES.slice(1)];
    const configured = handler(withDefault);
    await expect(configured.h(event(withAdmin, '$default', '/dev/whatever'))).resolves.toMatchObject({ isAuthorized: true });
    await expect(configured.h(event(withoutAdmin, '$default', '/dev/whatever'))).resolves.toMatchObject({
      isAuthorized: false,
      context: { reason: 'insufficient_scope' },
    });
    const unconfigured = handler();
    await expect(unconfigured.h(event(withAdmin, '$default', '/dev/admin'))).resolves.toMatchObject({
      isAuthorized: false,
      context: { reason: 'no_route' },
    });
  });

  it('still throws Unauthorized for an invalid token', async () => {
    const { h } = handler();
    await expect(h(event('x.y.z', 'GET /admin', '/dev/admin'))).rejects.toThrow(/^Unauthorized$/);
  });
});

import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { createHandler } from '../../functions/authorizer/handler';
import { EXAMPLE_ROUTES } from '../support/fixtures';
import { evaluate } from '../support/iam';
import { b64u, makeKey, signRaw } from '../support/jwt';
import { type OidcServer, startOidcServer } from '../support/oidc';
import { captureTelemetry } from '../support/telemetry';
import { TLS } from '../support/tls';

/**
 * The authorizer against a real authorization server: oidc-provider on loopback over
 * HTTPS issues RFC 9068 access tokens by client credentials; the handler fetches its JWKS
 * over real TLS.
 */

const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:api0001/prod/';
let as: OidcServer;
let env: Record<string, string>;

function eventFor(token: string, route: string) {
  return { type: 'TOKEN' as const, authorizationToken: `Bearer ${token}`, methodArn: `${ARN}${route}` };
}

async function jwksFetches(): Promise<number> {
  return Number((await as.send({ cmd: 'stats' })).jwksFetches);
}

beforeAll(async () => {
  as = await startOidcServer();
  env = {
    AUTHZ_CONFIG: JSON.stringify({
      issuers: [{ issuer: as.issuer, jwksUri: as.jwksUri, audience: as.audience, algorithms: ['ES256'], tokenType: 'at+jwt' }],
      routes: EXAMPLE_ROUTES,
      jwks: { minRefetchIntervalSeconds: 1 },
    }),
  };
}, 30000);

afterAll(() => as.stop());

afterEach(async () => {
  await as.send({ cmd: 'jwks', mode: 'ok' });
});

describe('the authorizer with tokens from oidc-provider', () => {
  it('allows, denies with 403 and refuses with 401 across routes, and the cached policy answers for every route', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    const sensor = await as.token('sensor-node-01', 'telemetry:read telemetry:write');
    const policy = (await handler(eventFor(sensor, 'GET/telemetry'))) as APIGatewayAuthorizerResult;
    expect(policy.principalId).toBe('sensor-node-01');
    // The same policy, as API Gateway would reuse it from its cache, on other routes:
    const answers = Object.fromEntries(
      [
        'GET/telemetry',
        'GET/telemetry/s-17',
        'POST/telemetry',
        'POST/system/reboot',
        'PUT/config/x',
        'GET/health',
        'GET/telemetry/s-17/x',
      ].map((r) => [r, evaluate(policy.policyDocument, `${ARN}${r}`)]),
    );
    expect(answers).toEqual({
      'GET/telemetry': 'Allow',
      'GET/telemetry/s-17': 'Allow',
      'POST/telemetry': 'Allow',
      'POST/system/reboot': 'Deny',
      'PUT/config/x': 'Deny',
      'GET/health': 'Allow',
      'GET/telemetry/s-17/x': 'Deny',
    });
    const telemetry = captureTelemetry();
    const h2 = createHandler({ env, ca: TLS.cert, telemetry });
    await h2(eventFor(sensor, 'POST/system/reboot'));
    expect(telemetry.decisions[0]).toMatchObject({
      reason: 'insufficient_scope',
      missingScopes: ['system:reboot'],
      clientId: 'sensor-node-01',
    });
    const tampered = sensor.replace(/\.[^.]+\./, `.${b64u(JSON.stringify({ scope: 'system:reboot' }))}.`);
    await expect(h2(eventFor(tampered, 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
  });

  it('picks up a rotated signing key while running, and keeps accepting tokens of the previous key', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    const before = await as.token('dashboard');
    await expect(handler(eventFor(before, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    const { kid } = await as.send({ cmd: 'rotate' });
    const after = await as.token('dashboard');
    expect(JSON.parse(Buffer.from(after.split('.')[0] as string, 'base64url').toString()).kid).toBe(kid);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(handler(eventFor(after, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    await expect(handler(eventFor(before, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
  });

  it('keeps a warm instance going when the JWKS endpoint fails, and fails a cold one closed', async () => {
    const token = await as.token('dashboard');
    const warm = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    await warm(eventFor(token, 'GET/telemetry'));
    await as.send({ cmd: 'jwks', mode: 'fail' });
    await expect(warm(eventFor(token, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    const telemetry = captureTelemetry();
    const cold = createHandler({ env, ca: TLS.cert, telemetry });
    const error = await cold(eventFor(token, 'GET/telemetry')).catch((e: Error) => e);
    expect((error as Error).message).not.toBe('Unauthorized');
    expect(telemetry.decisions.at(-1)?.reason).toBe('keys_unavailable');
  });

  it('fails a cold instance closed within 3 s when the JWKS endpoint hangs', async () => {
    const token = await as.token('dashboard');
    await as.send({ cmd: 'jwks', mode: 'hang' });
    const cold = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    const started = Date.now();
    const error = await cold(eventFor(token, 'GET/telemetry')).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toBe('Unauthorized');
  });

  it('turns a flood of invented kids into a handful of JWKS fetches', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    await handler(eventFor(await as.token('dashboard'), 'GET/telemetry'));
    const start = await jwksFetches();
    const attacker = makeKey('ES256', 'x');
    const now = Math.floor(Date.now() / 1000);
    const forged = (i: number) => {
      const input = `${b64u(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: `invented-${i}` }))}.${b64u(
        JSON.stringify({ iss: as.issuer, aud: as.audience, exp: now + 60, scope: 'system:reboot' }),
      )}`;
      return `${input}.${signRaw(input, attacker.privateKey, 'ES256')}`;
    };
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => handler(eventFor(forged(i), 'GET/telemetry'))));
    for (let i = 300; i < 400; i++) await handler(eventFor(forged(i), 'GET/telemetry')).catch(() => undefined);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'Unauthorized')).toBe(true);
    expect((await jwksFetches()) - start).toBeLessThanOrEqual(3);
  });
});

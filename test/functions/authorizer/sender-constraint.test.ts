import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createHandler } from '../../../functions/authorizer/handler';
import { certificateThumbprint, jwkThumbprint } from '../../../functions/authorizer/sender-constraint';
import { rawConfig } from '../../support/fixtures';
import { evaluate } from '../../support/iam';
import { b64u, claims, makeKey, signJwt, signRaw, type TestKey } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';
import { TLS } from '../../support/tls';

const issuerKey = makeKey('ES256', 'iss-1');
const clientKey = makeKey('ES256', 'client-dpop');
const otherKey = makeKey('ES256', 'other-dpop');
const clientCert = readFileSync(join(__dirname, '..', '..', 'fixtures', 'mtls', 'client-cert.pem'), 'utf8');
const HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';
const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';

function handler(issuer: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const telemetry = captureTelemetry();
  const h = createHandler({
    env: { AUTHZ_CONFIG: JSON.stringify(rawConfig(overrides, issuer)) },
    fetcher: { fetch: async () => ({ keys: [issuerKey.publicJwk] }) },
    telemetry,
  });
  return { h, telemetry };
}

function restEvent(authorization: string, extra: { dpop?: string; cert?: string; method?: string; path?: string } = {}) {
  const method = extra.method ?? 'GET';
  const path = extra.path ?? '/telemetry';
  return {
    type: 'REQUEST',
    methodArn: `${ARN}${method}${path}`,
    httpMethod: method,
    path,
    headers: { Authorization: authorization, ...(extra.dpop ? { DPoP: extra.dpop } : {}) },
    requestContext: {
      domainName: HOST,
      path: `/prod${path}`,
      identity: { clientCert: extra.cert ? { clientCertPem: extra.cert } : null },
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

function proof(key: TestKey, token: string, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const pub = { ...key.publicJwk };
  delete pub.kid;
  delete pub.alg;
  delete pub.use;
  const h = { typ: 'dpop+jwt', alg: 'ES256', jwk: pub, ...header };
  const p = {
    jti: randomUUID(),
    htm: 'GET',
    htu: `https://${HOST}/prod/telemetry`,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(token).digest('base64url'),
    ...overrides,
  };
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(p))}`;
  return `${input}.${signRaw(input, key.privateKey, 'ES256')}`;
}

const jkt = (key: TestKey) => jwkThumbprint(key.publicJwk);

async function reason(h: ReturnType<typeof handler>, event: Parameters<ReturnType<typeof createHandler>>[0]) {
  await h.h(event).catch(() => undefined);
  return h.telemetry.decisions.at(-1)?.reason;
}

describe('certificate-bound tokens (RFC 8705)', () => {
  const bound = () => signJwt(issuerKey, claims({ cnf: { 'x5t#S256': certificateThumbprint(clientCert) } }));

  it('accepts a bound token with the client certificate it is bound to', async () => {
    expect(await reason(handler(), restEvent(`Bearer ${bound()}`, { cert: clientCert }))).toBe('allow');
  });

  it('refuses it without a certificate, with another one, and in a TOKEN event', async () => {
    expect(await reason(handler(), restEvent(`Bearer ${bound()}`))).toBe('invalid_token.sender_constraint');
    expect(await reason(handler(), restEvent(`Bearer ${bound()}`, { cert: TLS.cert }))).toBe('invalid_token.sender_constraint');
    const token = { type: 'TOKEN' as const, authorizationToken: `Bearer ${bound()}`, methodArn: `${ARN}GET/telemetry` };
    expect(await reason(handler(), token)).toBe('invalid_token.sender_constraint');
  });
});

describe('DPoP-bound tokens (RFC 9449)', () => {
  const bound = (key = clientKey) => signJwt(issuerKey, claims({ cnf: { jkt: jkt(key) } }));

  it('accepts a DPoP-bound token with a fresh proof of its key for this method, URL and token', async () => {
    const token = bound();
    expect(await reason(handler(), restEvent(`DPoP ${token}`, { dpop: proof(clientKey, token) }))).toBe('allow');
  });

  it.each([
    ['no proof', (t: string) => ({ auth: `DPoP ${t}`, dpop: undefined })],
    ['the Bearer scheme (a downgrade)', (t: string) => ({ auth: `Bearer ${t}`, dpop: proof(clientKey, t) })],
    ['a proof by another key', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(otherKey, t) })],
    ['another method', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, { htm: 'POST' }) })],
    ['another URL', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, { htu: `https://${HOST}/prod/other` }) })],
    ['an old iat', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, { iat: Math.floor(Date.now() / 1000) - 600 }) })],
    ['another token (ath)', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, `${t}x`) })],
    ['no ath', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, { ath: undefined }) })],
    ['typ JWT', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, {}, { typ: 'JWT' }) })],
    ['an HS256 proof', (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, {}, { alg: 'HS256' }) })],
    [
      'a private key in the proof',
      (t: string) => ({ auth: `DPoP ${t}`, dpop: proof(clientKey, t, {}, { jwk: { ...clientKey.privateKey.export({ format: 'jwk' }) } }) }),
    ],
  ])('refuses %s with invalid_token.dpop', async (_name, make) => {
    const token = bound();
    const { auth, dpop } = make(token);
    expect(await reason(handler(), restEvent(auth, { dpop }))).toBe('invalid_token.dpop');
  });

  it('returns a policy that allows only the request the proof is bound to, so no cached answer serves another route', async () => {
    const token = signJwt(issuerKey, claims({ scope: 'telemetry:read config:update', cnf: { jkt: jkt(clientKey) } }));
    const result = (await handler().h(restEvent(`DPoP ${token}`, { dpop: proof(clientKey, token) }))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry`)).toBe('Allow');
    // Routes the token's scopes grant, but the proof is not for.
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry/s1`)).toBe('Deny');
    expect(evaluate(result.policyDocument, `${ARN}PUT/config/x`)).toBe('Deny');
    expect(evaluate(result.policyDocument, `${ARN}GET/health`)).toBe('Deny');
  });

  it('narrows the policy of a certificate-bound token to its request too', async () => {
    const token = signJwt(issuerKey, claims({ cnf: { 'x5t#S256': certificateThumbprint(clientCert) } }));
    const result = (await handler().h(restEvent(`Bearer ${token}`, { cert: clientCert }))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry`)).toBe('Allow');
    expect(evaluate(result.policyDocument, `${ARN}PUT/config/x`)).toBe('Deny');
  });

  it('refuses sender-constrained tokens when the authorizer answer is cached (policyCacheTtlSeconds > 0), and not others', async () => {
    const cached = () => handler({}, { policyCacheTtlSeconds: 300, routes: [{ method: 'GET', path: '/telemetry', scopes: [] }] });
    const token = signJwt(issuerKey, claims({ cnf: { jkt: jkt(clientKey) } }));
    expect(await reason(cached(), restEvent(`DPoP ${token}`, { dpop: proof(clientKey, token) }))).toBe('invalid_token.sender_constraint');
    const certBound = signJwt(issuerKey, claims({ cnf: { 'x5t#S256': certificateThumbprint(clientCert) } }));
    expect(await reason(cached(), restEvent(`Bearer ${certBound}`, { cert: clientCert }))).toBe('invalid_token.sender_constraint');
    expect(await reason(cached(), restEvent(`Bearer ${signJwt(issuerKey, claims())}`))).toBe('allow');
  });

  it('lets a plain Bearer token through a REQUEST event that has no DPoP header', async () => {
    const result = (await handler().h(restEvent(`Bearer ${signJwt(issuerKey, claims())}`))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry`)).toBe('Allow');
    expect(evaluate(result.policyDocument, `${ARN}PUT/config/x`)).toBe('Allow');
  });

  it('refuses a replayed proof (the same jti twice)', async () => {
    const h = handler();
    const token = bound();
    const p = proof(clientKey, token);
    expect(await reason(h, restEvent(`DPoP ${token}`, { dpop: p }))).toBe('allow');
    expect(await reason(h, restEvent(`DPoP ${token}`, { dpop: p }))).toBe('invalid_token.dpop');
  });

  it('refuses an unbound token sent with the DPoP scheme', async () => {
    const token = signJwt(issuerKey, claims());
    expect(await reason(handler(), restEvent(`DPoP ${token}`, { dpop: proof(clientKey, token) }))).toBe('invalid_token.dpop');
  });
});

describe('issuer sender-constraint policy', () => {
  it('passes unbound tokens by default, and refuses them when the issuer requires binding', async () => {
    const token = signJwt(issuerKey, claims());
    expect(await reason(handler(), restEvent(`Bearer ${token}`))).toBe('allow');
    expect(await reason(handler({ senderConstraint: 'required' }), restEvent(`Bearer ${token}`))).toBe('invalid_token.sender_constraint');
  });
});

describe('HTTP API (payload 2.0) events', () => {
  function v2(authorization: string | undefined, method: string, rawPath: string, route = rawPath) {
    return {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:eu-west-1:123456789012:http123/$default/${method}${rawPath}`,
      routeKey: `${method} ${route}`,
      rawPath,
      identitySource: [authorization ?? ''],
      headers: authorization ? { authorization } : {},
      requestContext: { domainName: 'http123.execute-api.eu-west-1.amazonaws.com', http: { method, path: rawPath } },
    } as unknown as APIGatewayRequestAuthorizerEventV2;
  }

  it('answers a simple response: authorized for a route the token has the scopes for, not for others', async () => {
    const { h } = handler();
    const token = signJwt(issuerKey, claims({ scope: 'telemetry:read' }));
    await expect(h(v2(`Bearer ${token}`, 'GET', '/telemetry/s1', '/telemetry/{sensorId}'))).resolves.toMatchObject({
      isAuthorized: true,
      context: { reason: 'allow', clientId: 'ops-console' },
    });
    await expect(h(v2(`Bearer ${token}`, 'POST', '/telemetry'))).resolves.toMatchObject({
      isAuthorized: false,
      context: { reason: 'insufficient_scope' },
    });
    await expect(h(v2(`Bearer ${token}`, 'GET', '/telemetry/s1/deeper', '/telemetry/{sensorId}/deeper'))).resolves.toMatchObject({
      isAuthorized: false,
      context: { reason: 'no_route' },
    });
  });

  it('throws Unauthorized for an invalid token, as for REST', async () => {
    const { h } = handler();
    await expect(h(v2('Bearer x.y.z', 'GET', '/telemetry'))).rejects.toThrow(/^Unauthorized$/);
  });
});

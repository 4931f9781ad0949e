import { createHash, randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createHandler } from '../../functions/authorizer/handler';
import { EXAMPLE_ROUTES } from '../support/fixtures';
import { evaluate } from '../support/iam';
import { b64u, makeKey, signRaw } from '../support/jwt';
import { type OidcServer, startOidcServer } from '../support/oidc';
import { captureTelemetry } from '../support/telemetry';
import { TLS } from '../support/tls';

/** A DPoP-bound access token from oidc-provider (RFC 9449), presented to the authorizer with proofs. */

const HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';
const client = makeKey('ES256', 'dpop-client');
let as: OidcServer;

beforeAll(async () => {
  as = await startOidcServer();
}, 30000);
afterAll(() => as.stop());

function dpopProof(htm: string, htu: string, accessToken?: string) {
  const jwk = { ...client.publicJwk };
  delete jwk.kid;
  delete jwk.alg;
  delete jwk.use;
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
  const payload: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) payload.ath = createHash('sha256').update(accessToken).digest('base64url');
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${signRaw(input, client.privateKey, 'ES256')}`;
}

function dpopToken(): Promise<{ token: string; type: string }> {
  const endpoint = `${as.issuer}/token`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: as.audience, scope: 'telemetry:read' }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: 'POST',
        ca: TLS.cert,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('dashboard:dashboard-secret').toString('base64')}`,
          dpop: dpopProof('POST', endpoint),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const json = JSON.parse(text);
          if (json.access_token) resolve({ token: json.access_token, type: json.token_type });
          else reject(new Error(text));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A REST REQUEST authorizer event with the fields API Gateway sends (its documented shape). */
function event(authorization: string, dpop?: string): APIGatewayRequestAuthorizerEvent {
  const headers = { Authorization: authorization, Host: HOST, 'User-Agent': 'curl/8', ...(dpop ? { DPoP: dpop } : {}) };
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/telemetry',
    resource: '/telemetry',
    path: '/telemetry',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: {},
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: HOST,
      domainPrefix: 'abc123',
      httpMethod: 'GET',
      identity: { sourceIp: '203.0.113.9', userAgent: 'curl/8', clientCert: null },
      path: '/prod/telemetry',
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'r3s0urc3',
      resourcePath: '/telemetry',
      stage: 'prod',
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

it('accepts an oidc-provider DPoP-bound token with a proof of the client key, and refuses it without one', async () => {
  const { token, type } = await dpopToken();
  expect(type).toBe('DPoP');
  const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
  expect(claims.cnf.jkt).toBeDefined();
  const telemetry = captureTelemetry();
  const handler = createHandler({
    env: {
      AUTHZ_CONFIG: JSON.stringify({
        issuers: [{ issuer: as.issuer, jwksUri: as.jwksUri, audience: as.audience, algorithms: ['ES256'], tokenType: 'at+jwt' }],
        routes: EXAMPLE_ROUTES,
      }),
    },
    ca: TLS.cert,
    telemetry,
  });
  const url = `https://${HOST}/prod/telemetry`;
  const result = (await handler(event(`DPoP ${token}`, dpopProof('GET', url, token)))) as APIGatewayAuthorizerResult;
  expect(result.principalId).toBe('dashboard');
  // Only the request the proof is bound to: not GET /telemetry/{sensorId}, which telemetry:read also grants.
  const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';
  expect(evaluate(result.policyDocument, `${arn}GET/telemetry`)).toBe('Allow');
  expect(evaluate(result.policyDocument, `${arn}GET/telemetry/s1`)).toBe('Deny');
  await expect(handler(event(`DPoP ${token}`))).rejects.toThrow(/^Unauthorized$/);
  await expect(handler(event(`Bearer ${token}`, dpopProof('GET', url, token)))).rejects.toThrow(/^Unauthorized$/);
  expect(telemetry.decisions.map((d) => d.reason)).toEqual(['allow', 'invalid_token.dpop', 'invalid_token.dpop']);
});

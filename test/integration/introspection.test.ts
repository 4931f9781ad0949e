import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { parseConfig } from '../../functions/authorizer/config';
import { createHandler } from '../../functions/authorizer/handler';
import { httpsIntrospection } from '../../functions/authorizer/introspection';
import { EXAMPLE_ROUTES } from '../support/fixtures';
import { evaluate } from '../support/iam';
import { type OidcServer, startOidcServer } from '../support/oidc';
import { captureTelemetry } from '../support/telemetry';
import { TLS } from '../support/tls';

/** Opaque access tokens from oidc-provider, checked at its own introspection endpoint. */

const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:api0001/prod/';
let as: OidcServer;

function configFor(overrides: Record<string, unknown> = {}, audience?: string) {
  return JSON.stringify({
    issuers: [
      {
        issuer: as.issuer,
        jwksUri: as.jwksUri,
        audience: [audience ?? as.opaqueAudience, as.audience],
        algorithms: ['ES256'],
        introspection: {
          endpoint: as.introspectionEndpoint,
          clientId: 'scopegate-authorizer',
          clientSecret: 'scopegate-authorizer-secret',
          timeoutMs: 1000,
          ...overrides,
        },
      },
    ],
    routes: EXAMPLE_ROUTES,
  });
}

function handlerFor(config = configFor(), telemetry = captureTelemetry()) {
  return { handler: createHandler({ env: { AUTHZ_CONFIG: config }, ca: TLS.cert, telemetry }), telemetry };
}

const event = (token: string, route: string) => ({
  type: 'TOKEN' as const,
  authorizationToken: `Bearer ${token}`,
  methodArn: `${ARN}${route}`,
});
const introspections = async () => Number((await as.send({ cmd: 'stats' })).introspections);

beforeAll(async () => {
  as = await startOidcServer();
}, 30000);
afterAll(() => as.stop());
afterEach(() => as.send({ cmd: 'introspection', mode: 'ok' }));

describe('opaque tokens by introspection (RFC 7662)', () => {
  it('issues opaque tokens for the opaque resource', async () => {
    const token = await as.token('dashboard', 'telemetry:read', as.opaqueAudience);
    expect(token.split('.')).toHaveLength(1);
  });

  it('allows and denies per route with the same exact policy as for JWTs, and caches the answer', async () => {
    const { handler, telemetry } = handlerFor();
    const token = await as.token('sensor-node-01', 'telemetry:read telemetry:write', as.opaqueAudience);
    const before = await introspections();
    const result = (await handler(event(token, 'GET/telemetry'))) as APIGatewayAuthorizerResult;
    expect(result.principalId).toBe('sensor-node-01');
    expect(evaluate(result.policyDocument, `${ARN}POST/telemetry`)).toBe('Allow');
    expect(evaluate(result.policyDocument, `${ARN}POST/system/reboot`)).toBe('Deny');
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry/s1/deeper`)).toBe('Deny');
    await handler(event(token, 'POST/system/reboot'));
    expect(telemetry.decisions.map((d) => d.reason)).toEqual(['allow', 'insufficient_scope']);
    expect(telemetry.decisions[0]).toMatchObject({ alg: 'introspection', clientId: 'sensor-node-01' });
    expect((await introspections()) - before).toBe(1);
  });

  it('refuses a revoked token with 401 invalid_token.inactive', async () => {
    const token = await as.token('dashboard', 'telemetry:read', as.opaqueAudience);
    const revoked = await as.post('/token/revocation', 'dashboard', { token, token_type_hint: 'access_token' });
    expect(revoked.status).toBe(200);
    const { handler, telemetry } = handlerFor();
    await expect(handler(event(token, 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(telemetry.decisions[0]?.reason).toBe('invalid_token.inactive');
  });

  it('refuses an unknown opaque value with 401', async () => {
    const { handler, telemetry } = handlerFor();
    await expect(handler(event('made-up-opaque-token-value-123456', 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(telemetry.decisions[0]?.reason).toBe('invalid_token.inactive');
  });

  it('refuses an active token for another audience with 401 invalid_token.audience', async () => {
    const token = await as.token('dashboard', 'telemetry:read', as.opaqueAudience);
    const { handler, telemetry } = handlerFor(configFor({}, 'https://not-this-api.example'));
    await expect(handler(event(token, 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(telemetry.decisions[0]?.reason).toBe('invalid_token.audience');
  });

  it('shares one introspection among identical concurrent requests', async () => {
    const token = await as.token('dashboard', 'telemetry:read', as.opaqueAudience);
    const { handler } = handlerFor();
    const before = await introspections();
    await Promise.all(Array.from({ length: 25 }, () => handler(event(token, 'GET/telemetry'))));
    expect((await introspections()) - before).toBe(1);
  });

  it('fails closed, with a 5xx and never an Allow, when the AS fails or hangs past the deadline', async () => {
    const token = await as.token('dashboard', 'telemetry:read', as.opaqueAudience);
    for (const mode of ['fail', 'hang']) {
      await as.send({ cmd: 'introspection', mode });
      const { handler, telemetry } = handlerFor(configFor({ timeoutMs: 300 }));
      const started = Date.now();
      const error = (await handler(event(token, 'GET/telemetry')).catch((e: Error) => e)) as Error;
      expect(Date.now() - started).toBeLessThan(1500);
      expect(error.message).not.toBe('Unauthorized');
      expect(telemetry.decisions[0]?.reason).toBe('introspection_unavailable');
    }
  });

  it('keeps verifying JWTs of the same issuer locally', async () => {
    const jwt = await as.token('dashboard', 'telemetry:read');
    const { handler } = handlerFor();
    const before = await introspections();
    await expect(handler(event(jwt, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    expect(await introspections()).toBe(before);
  });

  it('introspects JWTs too when forJwts is set, and refuses one the AS says is inactive', async () => {
    // oidc-provider refuses to introspect its JWT access tokens (unsupported_token_type), so
    // an HTTPS stand-in answers for the AS here, about a real JWT from oidc-provider.
    const jwt = await as.token('dashboard', 'telemetry:read');
    let active = false;
    const stub = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ active }));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `https://127.0.0.1:${(stub.address() as AddressInfo).port}/introspect`;
      const inactive = handlerFor(configFor({ endpoint, forJwts: true }));
      await expect(inactive.handler(event(jwt, 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
      expect(inactive.telemetry.decisions[0]?.reason).toBe('invalid_token.inactive');
      active = true;
      const live = handlerFor(configFor({ endpoint, forJwts: true }));
      await expect(live.handler(event(jwt, 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    } finally {
      await new Promise((resolve) => stub.close(resolve));
    }
  });
});

describe('introspection with a client certificate (RFC 8705 tls_client_auth)', () => {
  const clientCert = readFileSync(join(__dirname, '..', 'fixtures', 'mtls', 'client-cert.pem'), 'utf8');
  const clientKey = readFileSync(join(__dirname, '..', 'fixtures', 'mtls', 'client-key.pem'), 'utf8');
  let server: Server;
  let endpoint: string;
  const seen: { subject?: string; body?: string }[] = [];

  beforeAll(async () => {
    server = createServer({ cert: TLS.cert, key: TLS.key, requestCert: true, rejectUnauthorized: true, ca: clientCert }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        seen.push({ subject: String(peer.subject?.CN), body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ active: true, scope: 'telemetry:read', client_id: 'x' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('presents the client certificate and sends client_id in the form instead of a secret', async () => {
    const config = parseConfig({
      issuers: [
        {
          issuer: 'https://idp.test',
          jwksUri: 'https://keys.test/jwks',
          audience: 'a',
          introspection: { endpoint, clientId: 'scopegate-authorizer', clientCertificate: clientCert, clientKey },
        },
      ],
      routes: [],
    }).config;
    const call = httpsIntrospection(TLS.cert);
    const introspection = config.issuers[0]?.introspection as NonNullable<(typeof config.issuers)[0]['introspection']>;
    const answer = await call({ ...introspection, timeoutMs: 2000 }, 'opaque-1', { clientCertificate: clientCert, clientKey });
    expect(answer.active).toBe(true);
    expect(seen[0]?.subject).toBe('scopegate-authorizer');
    expect(new URLSearchParams(seen[0]?.body).get('client_id')).toBe('scopegate-authorizer');
    expect(new URLSearchParams(seen[0]?.body).get('token')).toBe('opaque-1');
  });

  it('retries once when a kept-alive connection turns out closed', async () => {
    let requests = 0;
    const flaky = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      requests++;
      if (requests === 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ active: true }));
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(flaky.address() as AddressInfo).port}/introspect`;
      const call = httpsIntrospection(TLS.cert);
      const answer = await call({ endpoint: url, clientId: 'c', cacheMaxSeconds: 0, timeoutMs: 2000, forJwts: false }, 't', {
        clientSecret: 's',
      });
      expect(answer.active).toBe(true);
      expect(requests).toBe(2);
    } finally {
      flaky.closeAllConnections();
      await new Promise((resolve) => flaky.close(resolve));
    }
  });

  it('cannot reach an endpoint that requires a certificate without one', async () => {
    const call = httpsIntrospection(TLS.cert);
    await expect(
      call({ endpoint, clientId: 'c', cacheMaxSeconds: 0, timeoutMs: 2000, forJwts: false }, 'opaque-1', { clientSecret: 's' }),
    ).rejects.toThrow();
  });
});

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { parseConfig } from '../../core/config';
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
/** An issuer's introspection settings as the configuration validates them (defaults filled in), with a 2 s deadline. */
function introspectionSettings(introspection: Record<string, unknown>) {
  const { config } = parseConfig({
    issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks', audience: 'a', introspection }],
    routes: [],
  });
  const settings = config.issuers[0]?.introspection as NonNullable<(typeof config.issuers)[0]['introspection']>;
  return { ...settings, timeoutMs: 2000 };
}

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

  it('refuses a refresh token (active, but no token_type and no aud) with 401, though the AS says it is active', async () => {
    const { refreshToken, error } = await as.send({ cmd: 'refreshToken', clientId: 'dashboard', scope: 'telemetry:read' });
    expect(error).toBeUndefined();
    // What the AS answers about it, asked as scopegate asks.
    const answer = await as.post('/token/introspection', 'scopegate-authorizer', { token: String(refreshToken) });
    expect(answer.json).toMatchObject({ active: true, client_id: 'dashboard' });
    expect(answer.json.token_type).toBeUndefined();
    const { handler, telemetry } = handlerFor();
    await expect(handler(event(String(refreshToken), 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'invalid_token.type', effect: 'unauthorized' });
  });

  it('refuses an access token whose answer has no aud unless introspection.omitsAudience says the AS omits it', async () => {
    // An HTTPS stand-in for an AS that answers without aud (RFC 7662 makes it optional).
    const stub = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ active: true, token_type: 'Bearer', scope: 'telemetry:read', client_id: 'dashboard', sub: 'dashboard' }));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `https://127.0.0.1:${(stub.address() as AddressInfo).port}/introspect`;
      const strict = handlerFor(configFor({ endpoint }));
      await expect(strict.handler(event('opaque-without-aud', 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
      expect(strict.telemetry.decisions[0]?.reason).toBe('invalid_token.audience');
      const lenient = handlerFor(configFor({ endpoint, omitsAudience: true }));
      await expect(lenient.handler(event('opaque-without-aud', 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'dashboard' });
    } finally {
      await new Promise((resolve) => stub.close(resolve));
    }
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
    const call = httpsIntrospection(TLS.cert);
    const settings = introspectionSettings({ endpoint, clientId: 'scopegate-authorizer', clientCertificate: clientCert, clientKey });
    const answer = await call(settings, 'opaque-1', { clientCertificate: clientCert, clientKey });
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
      const answer = await call(introspectionSettings({ endpoint: url, clientId: 'c', clientSecret: 's', cacheMaxSeconds: 0 }), 't', {
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
      call(introspectionSettings({ endpoint, clientId: 'c', clientSecret: 's', cacheMaxSeconds: 0 }), 'opaque-1', { clientSecret: 's' }),
    ).rejects.toThrow();
  });
});

describe('two introspecting issuers, opaque tokens routed by introspection.tokenPrefix', () => {
  const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
  const servers: Server[] = [];
  const endpoints: Record<'a' | 'b', string> = { a: '', b: '' };

  beforeAll(async () => {
    for (const name of ['a', 'b'] as const) {
      const server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          seen[name].push(String(new URLSearchParams(body).get('token')));
          // Issuer A's server is down; issuer B's answers.
          if (name === 'a') return void res.writeHead(503).end('unavailable');
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ active: true, token_type: 'Bearer', aud: 'https://api.b', scope: 'telemetry:read', client_id: 'b-client' }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      endpoints[name] = `https://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
    }
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));
  beforeEach(() => {
    seen.a.length = 0;
    seen.b.length = 0;
  });

  const issuer = (name: 'a' | 'b', prefix: string | undefined) => ({
    issuer: `https://as-${name}.test`,
    jwksUri: `https://as-${name}.test/jwks`,
    audience: `https://api.${name}`,
    introspection: {
      endpoint: endpoints[name],
      clientId: 'scopegate',
      clientSecret: 's',
      timeoutMs: 1000,
      ...(prefix ? { tokenPrefix: prefix } : {}),
    },
  });
  const handlerWith = (issuers: unknown[]) =>
    handlerFor(JSON.stringify({ issuers, routes: [{ method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] }] }));

  it("allows B's token while A is down, and never sends it to A", async () => {
    const { handler, telemetry } = handlerWith([issuer('a', 'ata_'), issuer('b', 'btb_')]);
    await expect(handler(event('btb_0123456789', 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'b-client' });
    expect(telemetry.decisions[0]?.reason).toBe('allow');
    expect(seen.a).toEqual([]);
    expect(seen.b).toEqual(['btb_0123456789']);
  });

  it("fails A's token closed (5xx) without asking B", async () => {
    const { handler, telemetry } = handlerWith([issuer('a', 'ata_'), issuer('b', 'btb_')]);
    const error = (await handler(event('ata_0123456789', 'GET/telemetry')).catch((e: Error) => e)) as Error;
    expect(error.message).not.toBe('Unauthorized');
    expect(telemetry.decisions[0]?.reason).toBe('introspection_unavailable');
    expect(seen.b).toEqual([]);
  });

  it('sends a token no prefix claims only to the issuer without a prefix, and refuses it when there is none', async () => {
    const fallback = handlerWith([issuer('a', 'ata_'), issuer('b', undefined)]);
    await expect(fallback.handler(event('plain-0123456789', 'GET/telemetry'))).resolves.toMatchObject({ principalId: 'b-client' });
    expect(seen.a).toEqual([]);
    const none = handlerWith([issuer('a', 'ata_'), issuer('b', 'btb_')]);
    await expect(none.handler(event('plain-0123456789', 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(none.telemetry.decisions[0]?.reason).toBe('invalid_token.malformed');
    expect(seen.a).toEqual([]);
  });

  it('refuses a configuration where two introspecting issuers have no tokenPrefix, naming the field', () => {
    expect(() => parseConfig({ issuers: [issuer('a', undefined), issuer('b', undefined)], routes: [] })).toThrow(
      /^issuers\[1\]\.introspection\.tokenPrefix: is needed/,
    );
    expect(() => parseConfig({ issuers: [issuer('a', 'at_'), issuer('b', 'at_x')], routes: [] })).toThrow(
      /^issuers\[1\]\.introspection\.tokenPrefix: overlaps issuers\[0\]/,
    );
  });
});

import { KeysUnavailableError } from '../../../core/errors';
import { discoveryUrl, jwksUriFromDiscovery } from '../../../core/oidc-discovery';
import { HttpsJsonFetcher, JwksUriResolver } from '../../../functions/authorizer/discovery';
import { IdpServer } from '../../support/idp-server';
import { JwksServer } from '../../support/jwks-server';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { gateway } from '../../support/providers';
import { TLS } from '../../support/tls';

const key = makeKey('ES256', 'disc-1');
const ROUTES = [{ method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] }];

describe('OIDC discovery of the key set URL', () => {
  it('builds the discovery URL without doubling a trailing slash (OIDC Discovery §4.1)', () => {
    expect(discoveryUrl('https://tenant.auth0.com/')).toBe('https://tenant.auth0.com/.well-known/openid-configuration');
    expect(discoveryUrl('https://idp.test/realms/ops')).toBe('https://idp.test/realms/ops/.well-known/openid-configuration');
  });

  it.each([
    [{ issuer: 'https://idp.test/realms/other', jwks_uri: 'https://idp.test/k' }, 'names issuer "https://idp.test/realms/other"'],
    [{ issuer: 'https://idp.test/realms/ops/', jwks_uri: 'https://idp.test/k' }, 'not https://idp.test/realms/ops'],
    [{ issuer: 'https://idp.test/realms/ops' }, 'has no jwks_uri'],
    [{ issuer: 'https://idp.test/realms/ops', jwks_uri: 'http://idp.test/k' }, 'must be an https URL'],
    [['not', 'an', 'object'], 'not a JSON object'],
  ])('refuses a discovery document %j: %s', (document, message) => {
    expect(() => jwksUriFromDiscovery(document, 'https://idp.test/realms/ops')).toThrow(message);
  });

  describe('through the handler', () => {
    const idp = new IdpServer();
    let origin: string;
    beforeAll(async () => {
      origin = await idp.start();
    });
    afterAll(() => idp.stop());

    it('discovers once for many concurrent requests, then verifies against the discovered keys', async () => {
      const issuer = `${origin}/realms/many`;
      idp.serveDiscovery(issuer, idp.serveKeys('/realms/many/protocol/openid-connect/certs', [key.publicJwk]));
      const send = gateway({ issuers: [{ issuer, audience: 'api' }], routes: ROUTES });
      const token = signJwt(key, claims({ iss: issuer, aud: 'api' }));
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => send(token, 'GET /telemetry')));
      expect(outcomes.every((o) => o.reason === 'allow')).toBe(true);
      expect(idp.hits.get('/realms/many/.well-known/openid-configuration')).toBe(1);
      expect(idp.hits.get('/realms/many/protocol/openid-connect/certs')).toBe(1);
    });

    it('fails closed (500 keys_unavailable, never a 401) when the document names another issuer', async () => {
      const issuer = `${origin}/realms/spoofed`;
      idp.serveDiscovery(issuer, idp.serveKeys('/attacker/keys', [key.publicJwk]), { issuer: `${origin}/realms/attacker` });
      const send = gateway({ issuers: [{ issuer, audience: 'api' }], routes: ROUTES });
      const outcome = await send(signJwt(key, claims({ iss: issuer, aud: 'api' })), 'GET /telemetry');
      expect(outcome).toMatchObject({ status: 500, reason: 'keys_unavailable' });
      expect(outcome.detail).toContain(`names issuer "${origin}/realms/attacker"`);
      expect(idp.hits.get('/attacker/keys')).toBeUndefined();
    });

    it('fails closed when the issuer has no discovery document', async () => {
      const issuer = `${origin}/realms/missing`;
      const send = gateway({ issuers: [{ issuer, audience: 'api' }], routes: ROUTES });
      expect(await send(signJwt(key, claims({ iss: issuer, aud: 'api' })), 'GET /telemetry')).toMatchObject({
        status: 500,
        reason: 'keys_unavailable',
      });
    });
  });

  describe('bounds', () => {
    const server = new JwksServer();
    let origin: string;
    beforeAll(async () => {
      origin = new URL(await server.start()).origin;
    });
    afterAll(() => server.stop());

    it('gives up on a discovery document that does not arrive within the deadline', async () => {
      server.mode = 'hang';
      const resolver = new JwksUriResolver({ fetcher: new HttpsJsonFetcher({ timeoutMs: 200, ca: TLS.cert }) });
      const started = Date.now();
      await expect(resolver.jwksUri(origin)).rejects.toThrow(KeysUnavailableError);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('gives up on a discovery document over the body cap', async () => {
      server.mode = 'huge';
      const resolver = new JwksUriResolver({ fetcher: new HttpsJsonFetcher({ maxBytes: 4096, ca: TLS.cert }) });
      await expect(resolver.jwksUri(origin)).rejects.toThrow(/exceeds 4096/);
    });
  });

  it('keeps a discovered URI when a refresh fails, and retries a failed first discovery only after retryMs', async () => {
    let now = 0;
    let calls = 0;
    let answer: unknown = { issuer: 'https://idp.test', jwks_uri: 'https://idp.test/keys' };
    const resolver = new JwksUriResolver({
      fetcher: {
        fetch: async () => {
          calls++;
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
      maxAgeMs: 1000,
      retryMs: 500,
      now: () => now,
    });
    expect(await resolver.jwksUri('https://idp.test')).toBe('https://idp.test/keys');
    answer = new Error('down');
    now = 5000;
    expect(await resolver.jwksUri('https://idp.test')).toBe('https://idp.test/keys');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await resolver.jwksUri('https://idp.test')).toBe('https://idp.test/keys');
    expect(calls).toBe(2);

    const cold = new JwksUriResolver({
      fetcher: {
        fetch: async () => {
          calls++;
          throw new Error('down');
        },
      },
      retryMs: 500,
      now: () => now,
    });
    calls = 0;
    await expect(cold.jwksUri('https://idp.test')).rejects.toThrow('OIDC discovery of https://idp.test failed: down');
    await expect(cold.jwksUri('https://idp.test')).rejects.toThrow(KeysUnavailableError);
    expect(calls).toBe(1);
    now += 500;
    await expect(cold.jwksUri('https://idp.test')).rejects.toThrow(KeysUnavailableError);
    expect(calls).toBe(2);
  });

  it('keeps answering a held URI at once while its background refresh hangs', async () => {
    let now = 0;
    let calls = 0;
    const resolver = new JwksUriResolver({
      fetcher: {
        fetch: async () => {
          calls++;
          if (calls > 1) await new Promise(() => undefined); // the issuer accepts and never answers
          return { issuer: 'https://idp.test', jwks_uri: 'https://idp.test/keys' };
        },
      },
      maxAgeMs: 1000,
      now: () => now,
    });
    await resolver.jwksUri('https://idp.test');
    now = 5000;
    expect(resolver.held('https://idp.test')).toBe('https://idp.test/keys');
    expect(resolver.held('https://idp.test')).toBe('https://idp.test/keys');
    const answer = await Promise.race([
      resolver.jwksUri('https://idp.test'),
      new Promise((resolve) => setTimeout(resolve, 100, 'timed out')),
    ]);
    expect(answer).toBe('https://idp.test/keys');
    expect(calls).toBe(2);
  });

  it('answers a held URI without waiting (the hot path), and refreshes a stale one in the background', async () => {
    let now = 0;
    let calls = 0;
    const resolver = new JwksUriResolver({
      fetcher: {
        fetch: async () => {
          calls++;
          return { issuer: 'https://idp.test', jwks_uri: `https://idp.test/keys/${calls}` };
        },
      },
      maxAgeMs: 1000,
      now: () => now,
    });
    expect(resolver.held('https://idp.test')).toBeUndefined();
    await resolver.jwksUri('https://idp.test');
    expect(resolver.held('https://idp.test')).toBe('https://idp.test/keys/1');
    now = 5000;
    expect(resolver.held('https://idp.test')).toBe('https://idp.test/keys/1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolver.held('https://idp.test')).toBe('https://idp.test/keys/2');
    expect(calls).toBe(2);
  });
});

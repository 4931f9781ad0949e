import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import type { Decision } from '../../../functions/authorizer/authorize';
import type { ConfigSource } from '../../../functions/authorizer/config-source';
import type { JwksFetcher } from '../../../functions/authorizer/key-store';
import { AuthorizerRuntime } from '../../../functions/authorizer/runtime';
import { ARN, JWKS_URI, rawConfig } from '../../support/fixtures';
import { IdpServer } from '../../support/idp-server';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';
import { TLS } from '../../support/tls';

const key = makeKey('ES256', 'rt-1');

function tokenEvent(token: string, route = 'GET/telemetry'): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: `${ARN}${route}` };
}

/** A key set fetcher that counts its fetches and can be held until `open()`. */
function countingFetcher(keys = [key.publicJwk]) {
  let open!: () => void;
  let gate: Promise<void> | undefined = new Promise<void>((resolve) => (open = resolve));
  const fetcher: JwksFetcher & { uris: string[] } = {
    uris: [],
    async fetch(uri) {
      this.uris.push(uri);
      if (gate) await gate;
      return { keys };
    },
  };
  return {
    fetcher,
    open: () => {
      gate = undefined;
      open();
    },
  };
}

/** A configuration source whose text tests can change, held (as an inline or freshly read SSM configuration is). */
function mutableSource(text: string): ConfigSource & { value: string } {
  return {
    value: text,
    text() {
      return Promise.resolve(this.value);
    },
    held() {
      return this.value;
    },
  };
}

const settle = async (decision: Decision | Promise<Decision>) => (decision instanceof Promise ? await decision : decision);

describe('AuthorizerRuntime', () => {
  it('starts the key fetch at the cold start, before the first event, when the configuration is at hand', () => {
    const { fetcher } = countingFetcher();
    const runtime = new AuthorizerRuntime(mutableSource(JSON.stringify(rawConfig())), { fetcher, telemetry: captureTelemetry() });
    expect(fetcher.uris).toEqual([]);
    runtime.start();
    expect(fetcher.uris).toEqual([JWKS_URI]);
  });

  it('decides synchronously once the configuration and the key are held (the hot path), and with a promise before', async () => {
    const { fetcher, open } = countingFetcher();
    const runtime = new AuthorizerRuntime(mutableSource(JSON.stringify(rawConfig())), { fetcher, telemetry: captureTelemetry() });
    runtime.start();
    const token = signJwt(key, claims());
    const first = runtime.decide(tokenEvent(token));
    expect(first).toBeInstanceOf(Promise);
    open();
    expect(await first).toMatchObject({ outcome: 'policy', allowed: true });
    const warm = runtime.decide(tokenEvent(token));
    expect(warm).not.toBeInstanceOf(Promise);
    expect(warm).toMatchObject({ outcome: 'policy', allowed: true });
    expect(fetcher.uris).toHaveLength(1);
  });

  it('decides with a promise when the source has no held text (read on every request)', async () => {
    const { fetcher, open } = countingFetcher();
    open();
    const text = JSON.stringify(rawConfig());
    const runtime = new AuthorizerRuntime({ text: async () => text }, { fetcher, telemetry: captureTelemetry() });
    runtime.start();
    const token = signJwt(key, claims());
    await settle(runtime.decide(tokenEvent(token)));
    const again = runtime.decide(tokenEvent(token));
    expect(again).toBeInstanceOf(Promise);
    expect(await again).toMatchObject({ outcome: 'policy', allowed: true });
  });

  it('applies a changed configuration on the next event, keeping the keys it holds (no refetch)', async () => {
    const { fetcher, open } = countingFetcher();
    open();
    const source = mutableSource(JSON.stringify(rawConfig()));
    const runtime = new AuthorizerRuntime(source, { fetcher, telemetry: captureTelemetry() });
    runtime.start();
    const token = signJwt(key, claims({ scope: 'telemetry:read' }));
    expect(await settle(runtime.decide(tokenEvent(token)))).toMatchObject({ allowed: true });
    source.value = JSON.stringify(rawConfig({ routes: [{ method: 'GET', path: '/telemetry', scopes: ['telemetry:admin'] }] }));
    const reloaded = await settle(runtime.decide(tokenEvent(token)));
    expect(reloaded).toMatchObject({ outcome: 'policy', allowed: false, record: { reason: 'insufficient_scope' } });
    expect(fetcher.uris).toHaveLength(1);
  });

  it('logs a configuration warning once per configuration, not per event', async () => {
    const { fetcher, open } = countingFetcher();
    open();
    const telemetry = captureTelemetry();
    // Read on every event (no held text): each event meets the same text, parsed once.
    const text = JSON.stringify(rawConfig({ routes: [] }));
    const runtime = new AuthorizerRuntime({ text: async () => text }, { fetcher, telemetry });
    runtime.start();
    for (let i = 0; i < 3; i++) await settle(runtime.decide(tokenEvent(signJwt(key, claims()))));
    expect(telemetry.warnings).toEqual([{ message: 'config_warning', warning: 'routes: empty, every request will be denied' }]);
  });

  it('answers config_unavailable (an error, never a policy) while the source fails, and decides once it is fixed', async () => {
    const { fetcher, open } = countingFetcher();
    open();
    let failing = true;
    const text = JSON.stringify(rawConfig());
    const source: ConfigSource = { text: async () => (failing ? Promise.reject(new Error('SSM throttled')) : text) };
    const telemetry = captureTelemetry();
    const runtime = new AuthorizerRuntime(source, { fetcher, telemetry });
    runtime.start();
    const token = signJwt(key, claims());
    const response = runtime.handle(tokenEvent(token));
    await expect(response).rejects.toThrow('Authorizer configuration unavailable');
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'config_unavailable', effect: 'error', detail: 'SSM throttled' });
    expect(fetcher.uris).toEqual([]);
    failing = false;
    await expect(runtime.handle(tokenEvent(token))).resolves.toMatchObject({ principalId: 'user-1' });
  });

  it('tells the telemetry of a key fetch after the decision that waited for it', async () => {
    const { fetcher, open } = countingFetcher();
    const order: string[] = [];
    const telemetry = {
      decision: () => order.push('decision'),
      jwksFetch: () => order.push('jwks_fetch'),
      warn: () => order.push('warn'),
    };
    const runtime = new AuthorizerRuntime(mutableSource(JSON.stringify(rawConfig())), { fetcher, telemetry });
    runtime.start();
    const response = runtime.handle(tokenEvent(signJwt(key, claims())));
    open();
    await response;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['decision', 'jwks_fetch']);
  });

  describe('an issuer configured without jwksUri', () => {
    const idp = new IdpServer();
    let origin: string;
    beforeAll(async () => {
      origin = await idp.start();
    });
    afterAll(() => idp.stop());

    it('discovers its key set URL and fetches its keys at the cold start, once for the instance across reloads', async () => {
      const issuer = `${origin}/realms/rt`;
      idp.serveDiscovery(issuer, idp.serveKeys('/realms/rt/certs', [key.publicJwk]));
      const source = mutableSource(JSON.stringify(rawConfig({}, { issuer, jwksUri: undefined })));
      const runtime = new AuthorizerRuntime(source, { ca: TLS.cert, telemetry: captureTelemetry() });
      runtime.start();
      const token = signJwt(key, claims({ iss: issuer }));
      expect(await settle(runtime.decide(tokenEvent(token)))).toMatchObject({ outcome: 'policy', allowed: true });
      expect(idp.hits.get('/realms/rt/.well-known/openid-configuration')).toBe(1);
      expect(idp.hits.get('/realms/rt/certs')).toBe(1);
      source.value = JSON.stringify(rawConfig({ maxTokenBytes: 16_000 }, { issuer, jwksUri: undefined }));
      expect(await settle(runtime.decide(tokenEvent(token)))).toMatchObject({ outcome: 'policy', allowed: true });
      expect(idp.hits.get('/realms/rt/.well-known/openid-configuration')).toBe(1);
      expect(idp.hits.get('/realms/rt/certs')).toBe(1);
    });
  });
});

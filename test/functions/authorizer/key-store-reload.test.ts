import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createHandler } from '../../../functions/authorizer/handler';
import { ARN, ISSUER, rawConfig } from '../../support/fixtures';
import { JwksServer } from '../../support/jwks-server';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';
import { TLS } from '../../support/tls';

// The key store's wiring in the handler: a reloaded configuration reaches it (issue 10
// item 8), and an issuer's fallback key set is used when the mirror lacks a kid.

const rsa = makeKey('RS256', 'r2048', { bits: 2048 });

function tokenEvent(token: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: `${ARN}GET/telemetry` };
}

describe('the key store of a warm authorizer', () => {
  const mirror = new JwksServer();
  const issuer = new JwksServer();
  let mirrorUri: string;
  let issuerUri: string;
  beforeAll(async () => {
    mirrorUri = await mirror.start();
    issuerUri = await issuer.start();
  });
  afterAll(async () => {
    await mirror.stop();
    await issuer.stop();
  });

  it('refuses a 2048-bit key after a reloaded configuration asks for 4096 bits', async () => {
    mirror.keys = [rsa.publicJwk];
    let text = JSON.stringify(rawConfig({ minRsaBits: 2048 }, { jwksUri: mirrorUri }));
    const telemetry = captureTelemetry();
    const handler = createHandler({ configSource: { text: async () => text }, ca: TLS.cert, telemetry });
    const token = signJwt(rsa, claims());
    await expect(handler(tokenEvent(token))).resolves.toMatchObject({ principalId: 'user-1' });
    text = JSON.stringify(rawConfig({ minRsaBits: 4096 }, { jwksUri: mirrorUri }));
    await expect(handler(tokenEvent(token))).rejects.toThrow(new Error('Unauthorized'));
    expect(telemetry.decisions.at(-1)).toMatchObject({ reason: 'invalid_token.weak_key' });
  });

  it("reads the issuer's own key set when the mirror lacks the kid it signs with", async () => {
    const old = makeKey('ES256', 'old');
    const fresh = makeKey('ES256', 'fresh');
    mirror.keys = [old.publicJwk];
    issuer.keys = [old.publicJwk, fresh.publicJwk];
    issuer.fetches = 0;
    const text = JSON.stringify(rawConfig({}, { jwksUri: mirrorUri, jwksFallbackUris: [issuerUri] }));
    const handler = createHandler({ configSource: { text: async () => text }, ca: TLS.cert, telemetry: captureTelemetry() });
    await expect(handler(tokenEvent(signJwt(old, claims())))).resolves.toMatchObject({ principalId: 'user-1' });
    expect(issuer.fetches).toBe(0);
    await expect(handler(tokenEvent(signJwt(fresh, claims({ iss: ISSUER }))))).resolves.toMatchObject({ principalId: 'user-1' });
    expect(issuer.fetches).toBe(1);
  });
});

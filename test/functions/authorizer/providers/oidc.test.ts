import { EXAMPLE_ROUTES } from '../../../support/fixtures';
import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { type OidcServer, startOidcServer } from '../../../support/oidc';
import { gateway, nowSeconds } from '../../../support/providers';

describe('a generic OpenID Connect issuer (profile "oidc")', () => {
  describe('against a real authorization server (oidc-provider), key set by discovery', () => {
    let as: OidcServer;
    let send: ReturnType<typeof gateway>;
    beforeAll(async () => {
      as = await startOidcServer();
      // No jwksUri: the authorizer reads {issuer}/.well-known/openid-configuration.
      send = gateway({
        issuers: [{ issuer: as.issuer, profile: 'oidc', audience: as.audience, clientIds: ['sensor-node-01', 'dashboard'] }],
        routes: EXAMPLE_ROUTES,
      });
    }, 30000);
    afterAll(() => as.stop());

    it('allows a client-credentials token within its scopes and answers 403 outside them', async () => {
      const token = await as.token('dashboard', 'telemetry:read');
      expect(await send(token, 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow', context: { clientId: 'dashboard' } });
      expect(await send(token, 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
    });

    it('refuses a token of a client not in clientIds', async () => {
      const token = await as.token('ops-console', 'telemetry:read');
      expect(await send(token, 'GET /telemetry')).toMatchObject({ status: 401, reason: 'invalid_token.client' });
    });
  });

  describe('ID tokens', () => {
    const idp = new IdpServer();
    const key = makeKey('ES256', 'oidc-1');
    let issuer: string;
    let send: ReturnType<typeof gateway>;
    beforeAll(async () => {
      issuer = `${await idp.start()}/tenant`;
      idp.serveDiscovery(issuer, idp.serveKeys('/tenant/jwks', [key.publicJwk]));
      send = gateway({ issuers: [{ issuer, profile: 'oidc', audience: 'https://api.example.internal' }], routes: EXAMPLE_ROUTES });
    });
    afterAll(() => idp.stop());

    const claims = (extra: Record<string, unknown>) => ({
      iss: issuer,
      sub: 'u1',
      aud: 'https://api.example.internal',
      azp: 'web',
      iat: nowSeconds(),
      exp: nowSeconds() + 300,
      scope: 'telemetry:read',
      ...extra,
    });

    it.each([{ nonce: 'n-0S6_WzA2Mj' }, { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }])(
      'refuses a token carrying the ID token claim %j with 401 invalid_token.token_use',
      async (marker) => {
        const outcome = await send(signJwt(key, claims(marker), { typ: 'JWT' }), 'GET /telemetry');
        expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
        expect(outcome.detail).toContain('OpenID Connect ID token');
      },
    );

    it('allows the access token of the same issuer', async () => {
      expect(await send(signJwt(key, claims({}), { typ: 'JWT' }), 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
    });
  });
});

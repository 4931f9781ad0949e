import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { gateway, nowSeconds } from '../../../support/providers';

// Keycloak realm tokens: header typ "JWT", RS256, kid; access tokens carry the payload claim
// typ "Bearer" (Keycloak's TokenUtil.TOKEN_TYPE_BEARER), azp = the client, a space-delimited
// scope, realm_access / resource_access roles, and aud = "account" unless an audience mapper
// adds the API; ID tokens carry typ "ID", aud = the client, nonce and at_hash. The key set is
// found by OIDC discovery ({issuer}/.well-known/openid-configuration →
// {issuer}/protocol/openid-connect/certs).
const API = 'telemetry-api';
const key = makeKey('RS256', 'nnniBrxL0qhG79pkF3ccQj_l0jDmxKrYYy2YLlEe1s');
const header = { typ: 'JWT', alg: 'RS256', kid: key.kid };

describe('Keycloak (profile "keycloak")', () => {
  const idp = new IdpServer();
  let issuer: string;
  let send: ReturnType<typeof gateway>;

  beforeAll(async () => {
    const origin = await idp.start();
    issuer = `${origin}/realms/ops`;
    idp.serveDiscovery(issuer, idp.serveKeys('/realms/ops/protocol/openid-connect/certs', [key.publicJwk]));
    send = gateway({
      issuers: [{ issuer, profile: 'keycloak', audience: API, clientIds: ['ops-console', 'ingest-service'] }],
      routes: [
        { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
        { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'] },
        { method: 'POST', path: '/system/reboot', scopes: ['telemetry:write'], maxAuthAgeSeconds: 300 },
      ],
    });
  });
  afterAll(() => idp.stop());

  const access = (overrides: Record<string, unknown> = {}) =>
    signJwt(
      key,
      {
        exp: nowSeconds() + 300,
        iat: nowSeconds() - 10,
        auth_time: nowSeconds() - 60,
        jti: 'onrtac:5c9f4f1c-6b2a-4c47-8f1e-0d7e1f0f2a11',
        iss: issuer,
        aud: [API, 'account'],
        sub: 'f2c4a0e8-3b1d-4e5f-9a7b-2c6d8e0f1a23',
        typ: 'Bearer',
        azp: 'ops-console',
        sid: '3a8d2b7e-0c1f-4d6a-9e2b-5f7c8d9e0a1b',
        acr: '1',
        'allowed-origins': ['https://console.example.com'],
        realm_access: { roles: ['offline_access', 'uma_authorization', 'default-roles-ops'] },
        resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
        scope: 'openid profile email telemetry:read',
        email_verified: true,
        preferred_username: 'operator',
        ...overrides,
      },
      header,
    );

  it('allows a user access token (typ claim "Bearer", API in aud by the audience mapper) within its scopes', async () => {
    const outcome = await send(access(), 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 200, reason: 'allow', context: { clientId: 'ops-console' } });
    expect(idp.hits.get('/realms/ops/.well-known/openid-configuration')).toBe(1);
  });

  it('answers 403 on a route outside its scopes', async () => {
    expect(await send(access(), 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows a service-account (client credentials) token', async () => {
    const service = access({
      azp: 'ingest-service',
      sub: '9b1c7d2e-4f3a-4b5c-8d6e-7f8a9b0c1d2e',
      preferred_username: 'service-account-ingest-service',
      client_id: 'ingest-service',
      scope: 'profile email telemetry:write',
      auth_time: undefined,
      sid: undefined,
    });
    expect(await send(service, 'POST /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
  });

  it("allows a step-up route to a user's token by a recent auth_time, and refuses one without auth_time", async () => {
    const scope = 'openid profile telemetry:write';
    expect(await send(access({ scope }), 'POST /system/reboot')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(access({ scope, auth_time: undefined, iat: nowSeconds() - 1 }), 'POST /system/reboot')).toMatchObject({
      status: 403,
      reason: 'step_up_required',
    });
  });

  it('refuses a step-up route to a service-account token, even when it carries an auth_time', async () => {
    const service = access({
      azp: 'ingest-service',
      sub: '9b1c7d2e-4f3a-4b5c-8d6e-7f8a9b0c1d2e',
      preferred_username: 'service-account-ingest-service',
      client_id: 'ingest-service',
      scope: 'profile email telemetry:write',
      auth_time: nowSeconds(),
      sid: undefined,
    });
    expect(await send(service, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
    // The client_id claim of the service_account scope alone marks it too.
    const unnamed = access({ azp: 'ingest-service', client_id: 'ingest-service', scope: 'telemetry:write', auth_time: nowSeconds() });
    expect(await send(unnamed, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
  });

  it('refuses the Keycloak ID token (typ claim "ID") with 401 invalid_token.token_use', async () => {
    const idToken = access({ typ: 'ID', aud: 'ops-console', nonce: 'b3f1c2d4', at_hash: 'x5k9n2Qw8zYb1c4d', scope: undefined });
    const outcome = await send(idToken, 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
    expect(outcome.detail).toContain('Keycloak ID token');
    expect(await send(access({ typ: 'Refresh' }), 'GET /telemetry')).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
  });

  it('refuses a token without the audience mapper (aud "account" only), and one of another client', async () => {
    expect(await send(access({ aud: 'account' }), 'GET /telemetry')).toMatchObject({ status: 401, reason: 'invalid_token.audience' });
    expect(await send(access({ azp: 'admin-cli' }), 'GET /telemetry')).toMatchObject({ status: 401, reason: 'invalid_token.client' });
  });
});

import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { gateway, nowSeconds } from '../../../support/providers';

// Auth0 tokens, shaped as Auth0's "Access Token Profiles" page shows them: iss with a
// trailing slash, aud a list of the API and /userinfo, azp (Auth0 token profile, typ "JWT")
// or client_id (RFC 9068 token profile, typ "at+jwt"), scope, and with RBAC's "Add Permissions
// in the Access Token" a permissions list (everything the user holds; with RBAC, scope holds
// what the client requested that the user holds). Machine-to-machine tokens have sub =
// {client id}@clients. ID tokens carry aud = the client and a nonce.
// The key set is found by OIDC discovery ({issuer}.well-known/openid-configuration →
// {issuer}.well-known/jwks.json).
const API = 'https://telemetry.example.com';
const SPA = 'h4Ua0spaClientId00000000000000xx';
const M2M = 'Z9x8m2mClientId0000000000000000yy';
const key = makeKey('RS256', 'kWkRAPkmi2Ib_jJv1Gz1d');

describe('Auth0 (profile "auth0")', () => {
  const idp = new IdpServer();
  let issuer: string;
  let send: ReturnType<typeof gateway>;

  beforeAll(async () => {
    const origin = await idp.start();
    issuer = `${origin}/`;
    idp.serveDiscovery(issuer, idp.serveKeys('/.well-known/jwks.json', [key.publicJwk]));
    send = gateway({
      issuers: [{ issuer, profile: 'auth0', audience: API, clientIds: [SPA, M2M] }],
      routes: [
        { method: 'GET', path: '/telemetry', scopes: ['read:telemetry'] },
        { method: 'POST', path: '/telemetry', scopes: ['write:telemetry'] },
        { method: 'DELETE', path: '/telemetry/{id}', scopes: ['delete:telemetry'] },
        { method: 'POST', path: '/system/reboot', scopes: ['write:telemetry'], maxAuthAgeSeconds: 300 },
      ],
    });
  });
  afterAll(() => idp.stop());

  const userToken = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = { typ: 'JWT' }) =>
    signJwt(
      key,
      {
        iss: issuer,
        sub: 'auth0|123456',
        aud: [API, `${issuer}userinfo`],
        azp: SPA,
        exp: nowSeconds() + 3600,
        iat: nowSeconds() - 30,
        scope: 'openid profile email read:telemetry',
        permissions: ['read:telemetry'],
        ...overrides,
      },
      header,
    );

  it('allows a user token by its scope, with azp as the client', async () => {
    const outcome = await send(userToken(), 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 200, reason: 'allow', context: { clientId: SPA } });
    expect(idp.hits.get('/.well-known/openid-configuration')).toBe(1);
  });

  it('answers 403 on a route outside its scope and permissions', async () => {
    expect(await send(userToken(), 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('grants the scope claim only: a permission the user holds but the client was not granted does not reach DELETE', async () => {
    // RBAC's scope is what the client asked for and the user holds; permissions is all the user holds.
    const token = userToken({ scope: 'openid read:telemetry', permissions: ['read:telemetry', 'delete:telemetry'] });
    expect(await send(token, 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(token, 'DELETE /telemetry/42')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows a step-up route only by a recent auth_time: a fresh iat, or a machine token, never passes', async () => {
    const scope = 'openid write:telemetry';
    expect(await send(userToken({ scope, auth_time: nowSeconds() - 60 }), 'POST /system/reboot')).toMatchObject({
      status: 200,
      reason: 'allow',
    });
    // Auth0's access token without auth_time, issued a second ago (a refresh).
    expect(await send(userToken({ scope, iat: nowSeconds() - 1 }), 'POST /system/reboot')).toMatchObject({
      status: 403,
      reason: 'step_up_required',
    });
    const machine = userToken({
      sub: `${M2M}@clients`,
      aud: API,
      azp: M2M,
      scope: 'write:telemetry',
      permissions: undefined,
      auth_time: nowSeconds(),
    });
    expect(await send(machine, 'POST /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(machine, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
  });

  it('allows a machine-to-machine token by its scope', async () => {
    const machine = userToken({
      sub: `${M2M}@clients`,
      aud: API,
      azp: M2M,
      scope: 'write:telemetry',
      permissions: undefined,
      gty: 'client-credentials',
    });
    expect(await send(machine, 'POST /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
  });

  it('allows an RFC 9068 profile token (typ at+jwt, client_id instead of azp)', async () => {
    const rfc9068 = userToken(
      { azp: undefined, client_id: SPA, jti: '73WakrfVbNJBaAmhQtEeDv', scope: 'read:telemetry', permissions: undefined },
      { typ: 'at+jwt' },
    );
    expect(await send(rfc9068, 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow', context: { clientId: SPA } });
  });

  it('refuses the Auth0 ID token with 401 invalid_token.token_use', async () => {
    const idToken = signJwt(
      key,
      {
        iss: issuer,
        aud: SPA,
        sub: 'auth0|123456',
        iat: nowSeconds() - 30,
        exp: nowSeconds() + 36000,
        sid: '08a39b0d-f1c3-4c5d-8a4c-1fa1d5c0b0a1',
        nonce: 'n-0S6_WzA2Mj',
        name: 'Operator One',
      },
      { typ: 'JWT' },
    );
    const outcome = await send(idToken, 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
    expect(outcome.detail).toContain('Auth0 ID token');
  });

  it('refuses a token for another API, and one of another application', async () => {
    expect(await send(userToken({ aud: ['https://payments.example.com', `${issuer}userinfo`] }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.audience',
    });
    expect(await send(userToken({ azp: 'OtherApp000000000000000000000000' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.client',
    });
  });
});

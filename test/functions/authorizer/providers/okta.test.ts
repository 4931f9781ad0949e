import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { gateway, nowSeconds } from '../../../support/providers';

// Okta custom authorization server tokens, shaped as Okta's OpenID Connect & OAuth 2.0 API
// reference shows them: a header of kid and alg (RS256) only; access tokens with ver 1, cid,
// uid (for a user), the scp list and aud = the authorization server's audience; ID tokens
// with aud = the client, amr, idp and at_hash, and no cid. The key set is found by OIDC
// discovery ({issuer}/.well-known/openid-configuration → {issuer}/v1/keys).
const WEB = '0oa1webclient0000000';
const SERVICE = '0oa2serviceclient000';
const key = makeKey('RS256', 'ZkvelLN_seik7w4pc_prCcfUf-h2hFfiwkDeCrs0iUc');
const header = { kid: key.kid, alg: 'RS256', typ: undefined };

describe('Okta (profile "okta")', () => {
  const idp = new IdpServer();
  let issuer: string;
  let send: ReturnType<typeof gateway>;

  beforeAll(async () => {
    const origin = await idp.start();
    issuer = `${origin}/oauth2/default`;
    idp.serveDiscovery(issuer, idp.serveKeys('/oauth2/default/v1/keys', [key.publicJwk]));
    send = gateway({
      issuers: [{ issuer, profile: 'okta', audience: 'api://default', clientIds: [WEB, SERVICE] }],
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
        ver: 1,
        jti: 'AT.MNAoEQ_jbKqoinrQo1D0XKjMX28U5d7ZszBceot7-Ts',
        iss: issuer,
        aud: 'api://default',
        sub: 'operator@example.com',
        iat: nowSeconds() - 30,
        exp: nowSeconds() + 3600,
        cid: WEB,
        uid: '00uid4BxXw6I6TV4m0g3',
        scp: ['openid', 'profile', 'telemetry:read'],
        auth_time: nowSeconds() - 60,
        ...overrides,
      },
      header,
    );

  it('allows a user access token on a route within its scp list, with cid as the client (key set found by discovery)', async () => {
    const outcome = await send(access(), 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 200, reason: 'allow', context: { clientId: WEB } });
    expect(idp.hits.get('/oauth2/default/.well-known/openid-configuration')).toBe(1);
  });

  it('answers 403 on a route outside its scopes', async () => {
    expect(await send(access(), 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows a client-credentials token (no uid, sub = the client)', async () => {
    const machine = access({ cid: SERVICE, sub: SERVICE, uid: undefined, auth_time: undefined, scp: ['telemetry:write'] });
    expect(await send(machine, 'POST /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
  });

  it('allows a step-up route only by a recent auth_time, never by a fresh iat alone', async () => {
    const scp = ['openid', 'telemetry:write'];
    expect(await send(access({ scp }), 'POST /system/reboot')).toMatchObject({ status: 200, reason: 'allow' });
    // A token without auth_time, issued a second ago (a refresh): iat is no authentication.
    expect(await send(access({ scp, auth_time: undefined, iat: nowSeconds() - 1 }), 'POST /system/reboot')).toMatchObject({
      status: 403,
      reason: 'step_up_required',
    });
  });

  it('refuses a step-up route to a client-credentials token (no uid), even with an auth_time', async () => {
    const machine = access({ cid: SERVICE, sub: SERVICE, uid: undefined, auth_time: nowSeconds(), scp: ['telemetry:write'] });
    expect(await send(machine, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
    // Without the sub = client rule, its missing uid alone gives it away.
    const named = access({ cid: SERVICE, sub: 'ingest-job', uid: undefined, auth_time: nowSeconds(), scp: ['telemetry:write'] });
    expect(await send(named, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
  });

  it('refuses the Okta ID token with 401 invalid_token.token_use', async () => {
    const idToken = signJwt(
      key,
      {
        sub: '00uid4BxXw6I6TV4m0g3',
        name: 'Operator One',
        email: 'operator@example.com',
        ver: 1,
        iss: issuer,
        aud: WEB,
        iat: nowSeconds() - 30,
        exp: nowSeconds() + 3600,
        jti: 'ID.radCQMOQUmyvcTBmmIL0J6BaS60apUEiC7-vI7pOmkw',
        amr: ['pwd'],
        idp: '00ok1u7AsAkrwdZL3z0g3',
        preferred_username: 'operator@example.com',
        auth_time: nowSeconds() - 60,
        at_hash: 'fPlsvVszI29LU2UhDyJ9vg',
      },
      header,
    );
    const outcome = await send(idToken, 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
    expect(outcome.detail).toContain('Okta ID token');
  });

  it('refuses a token for another audience, and one of another client', async () => {
    expect(await send(access({ aud: 'api://payments' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.audience',
    });
    expect(await send(access({ cid: '0oa9otherclient00000' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.client',
    });
  });
});

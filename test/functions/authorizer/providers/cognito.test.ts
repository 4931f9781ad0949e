import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { gateway, nowSeconds } from '../../../support/providers';

// Amazon Cognito user pool tokens, shaped as the Cognito developer guide shows them
// ("Understanding the access token", "Understanding the ID token"): RS256, a header of kid
// and alg only, access tokens with token_use "access", client_id and scope and no aud; ID
// tokens with token_use "id" and aud = the app client. ID and access tokens are signed
// with different keys of the same key set.
const POOL = 'eu-west-1_AbCdEf123';
const WEB_CLIENT = '4example2m1e5hsfl9vvjgdr3r';
const DAEMON_CLIENT = '6example0q2q3p1gq9hd4rk1qo';
const accessKey = makeKey('RS256', 'access-key-1example=');
const idKey = makeKey('RS256', 'id-key-1example=');
const header = (key: { kid: string }) => ({ kid: key.kid, alg: 'RS256', typ: undefined });

describe('Amazon Cognito (profile "cognito")', () => {
  const idp = new IdpServer();
  let issuer: string;
  let send: ReturnType<typeof gateway>;

  beforeAll(async () => {
    const origin = await idp.start();
    issuer = `${origin}/${POOL}`;
    // The key set lives where Cognito publishes it: {issuer}/.well-known/jwks.json.
    idp.serveKeys(`/${POOL}/.well-known/jwks.json`, [accessKey.publicJwk, idKey.publicJwk]);
    // The configuration docs/providers.md gives for Cognito: no jwksUri, no audience.
    send = gateway({
      issuers: [{ issuer, profile: 'cognito', clientIds: [WEB_CLIENT, DAEMON_CLIENT] }],
      routes: [
        { method: 'GET', path: '/telemetry', scopes: ['telemetry/read'] },
        { method: 'POST', path: '/telemetry', scopes: ['telemetry/write'] },
        { method: 'POST', path: '/system/reboot', scopes: ['telemetry/write'], maxAuthAgeSeconds: 300 },
      ],
    });
  });
  afterAll(() => idp.stop());

  const userAccess = (overrides: Record<string, unknown> = {}) =>
    signJwt(
      accessKey,
      {
        sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        'cognito:groups': ['operators'],
        iss: issuer,
        version: 2,
        client_id: WEB_CLIENT,
        origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        token_use: 'access',
        scope: 'openid email telemetry/read',
        auth_time: nowSeconds() - 60,
        exp: nowSeconds() + 3600,
        iat: nowSeconds() - 60,
        jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        username: 'operator-1',
        ...overrides,
      },
      header(accessKey),
    );

  it('allows a user access token on a route within its scopes, with client_id as the client', async () => {
    const outcome = await send(userAccess(), 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 200, reason: 'allow' });
    expect(outcome.context).toMatchObject({ clientId: WEB_CLIENT, scope: 'openid email telemetry/read' });
  });

  it('answers 403 on a route outside its scopes', async () => {
    expect(await send(userAccess(), 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows a client-credentials (machine) access token, whose sub is the client', async () => {
    const machine = signJwt(
      accessKey,
      {
        sub: DAEMON_CLIENT,
        token_use: 'access',
        scope: 'telemetry/write',
        auth_time: nowSeconds(),
        iss: issuer,
        exp: nowSeconds() + 3600,
        iat: nowSeconds(),
        version: 2,
        jti: 'bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee',
        client_id: DAEMON_CLIENT,
      },
      header(accessKey),
    );
    expect(await send(machine, 'POST /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(machine, 'GET /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it("allows a step-up route to a user's access token by its auth_time, kept at the original sign-in on refresh", async () => {
    const signedIn = userAccess({ scope: 'openid telemetry/write', auth_time: nowSeconds() - 60, iat: nowSeconds() - 10 });
    expect(await send(signedIn, 'POST /system/reboot')).toMatchObject({ status: 200, reason: 'allow' });
    const refreshed = userAccess({ scope: 'openid telemetry/write', auth_time: nowSeconds() - 7200, iat: nowSeconds() - 10 });
    expect(await send(refreshed, 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
  });

  it('refuses a step-up route to a client-credentials token (sub is the client), whatever its auth_time', async () => {
    const machine = signJwt(
      accessKey,
      {
        sub: DAEMON_CLIENT,
        token_use: 'access',
        scope: 'telemetry/write',
        auth_time: nowSeconds(),
        iss: issuer,
        exp: nowSeconds() + 3600,
        iat: nowSeconds(),
        version: 2,
        jti: 'dddddddd-bbbb-cccc-dddd-eeeeeeeeeeee',
        client_id: DAEMON_CLIENT,
      },
      header(accessKey),
    );
    const outcome = await send(machine, 'POST /system/reboot');
    expect(outcome).toMatchObject({ status: 403, reason: 'step_up_required' });
    expect(outcome.context).not.toHaveProperty('authTime');
  });

  it('refuses the Cognito ID token of the same sign-in with 401 invalid_token.token_use', async () => {
    const idToken = signJwt(
      idKey,
      {
        at_hash: 'cpqKfdQA5eH891Ff5oJr_Q',
        sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        'cognito:groups': ['operators'],
        email_verified: true,
        iss: issuer,
        'cognito:username': 'operator-1',
        origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        aud: WEB_CLIENT,
        event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        token_use: 'id',
        auth_time: nowSeconds() - 60,
        exp: nowSeconds() + 3600,
        iat: nowSeconds() - 60,
        jti: 'cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee',
        email: 'operator@example.com',
      },
      header(idKey),
    );
    const outcome = await send(idToken, 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
    expect(outcome.detail).toContain('this is a Cognito ID token');
  });

  it('refuses an access token of another app client with 401 invalid_token.client', async () => {
    expect(await send(userAccess({ client_id: '7otherclient0000000000000' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.client',
    });
  });

  it('refuses an access token of another user pool with 401 invalid_token.issuer', async () => {
    expect(await send(userAccess({ iss: `${issuer.replace(POOL, 'eu-west-1_Other0000')}` }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.issuer',
    });
  });
});

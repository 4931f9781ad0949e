import { IdpServer } from '../../../support/idp-server';
import { makeKey, signJwt } from '../../../support/jwt';
import { gateway, nowSeconds } from '../../../support/providers';

// Microsoft Entra ID tokens for a registered API, shaped as the Microsoft identity platform's
// "Access token claims reference" and "ID token claims reference" show them: header typ "JWT",
// RS256, kid (and x5t in v1.0); v2.0 access tokens with aud = the API's client id, azp, scp
// for a user, roles (and idtyp "app") for a daemon; v1.0 access tokens with appid and an
// sts.windows.net issuer; ID tokens with aud = the client, nonce, and no azp or appid.
const TENANT = '7f1c2d3e-0000-4000-8000-000000000001';
const API = '11111111-2222-4333-8444-555555555555';
const WEB = '66666666-7777-4888-9999-000000000001';
const DAEMON = '66666666-7777-4888-9999-000000000002';
const key = makeKey('RS256', 'nOo3ZDrODXEK1jKWhXslHR_KXEg', { withAlg: false });
const jwtHeader = { typ: 'JWT', alg: 'RS256', kid: key.kid };

describe('Microsoft Entra ID (profile "entra")', () => {
  const idp = new IdpServer();
  let issuer: string;
  let send: ReturnType<typeof gateway>;
  const v1Issuer = `https://sts.windows.net/${TENANT}/`;

  beforeAll(async () => {
    const origin = await idp.start();
    issuer = `${origin}/${TENANT}/v2.0`;
    // v2.0 keys at {host}/{tenant}/discovery/v2.0/keys, derived from the issuer; v1.0 keys
    // at /{tenant}/discovery/keys (configured explicitly here: the real host is fixed).
    idp.serveKeys(`/${TENANT}/discovery/v2.0/keys`, [key.publicJwk]);
    const v1Keys = idp.serveKeys(`/${TENANT}/discovery/keys`, [key.publicJwk]);
    send = gateway({
      issuers: [
        { issuer, profile: 'entra', audience: API, clientIds: [WEB, DAEMON] },
        { issuer: v1Issuer, jwksUri: v1Keys, profile: 'entra', audience: `api://telemetry`, clientIds: [WEB] },
      ],
      routes: [
        { method: 'GET', path: '/telemetry', scopes: ['Telemetry.Read'] },
        { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['Telemetry.Read.All'] },
        { method: 'POST', path: '/telemetry', scopes: ['Telemetry.Write'] },
        // A user's delegated scope or a daemon's app role: either one reaches the route.
        { method: 'GET', path: '/sensors', anyOf: [['Telemetry.Read'], ['Telemetry.Read.All']] },
        { method: 'POST', path: '/system/reboot', anyOf: [['Telemetry.Write'], ['Telemetry.Write.All']], maxAuthAgeSeconds: 300 },
      ],
    });
  });
  afterAll(() => idp.stop());

  const base = () => ({ iss: issuer, iat: nowSeconds() - 60, nbf: nowSeconds() - 60, exp: nowSeconds() + 3600, tid: TENANT, ver: '2.0' });
  const userToken = (overrides: Record<string, unknown> = {}) =>
    signJwt(
      key,
      {
        aud: API,
        ...base(),
        aio: 'AXQAi/8IAAAA',
        azp: WEB,
        azpacr: '0',
        name: 'Operator One',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        preferred_username: 'operator@contoso.example',
        rh: 'I',
        scp: 'Telemetry.Read User.Read',
        sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
        uti: 'fqiBqXLPj0eQa82S-IYFAA',
        ...overrides,
      },
      jwtHeader,
    );

  it('allows a user (delegated) token on a route within its scp, with azp as the client', async () => {
    const outcome = await send(userToken(), 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 200, reason: 'allow' });
    expect(outcome.context).toMatchObject({ clientId: WEB });
  });

  it('answers 403 for a user token on a route outside its scp', async () => {
    expect(await send(userToken(), 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
    expect(await send(userToken(), 'GET /telemetry/s1')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows an app-only (client credentials) token by its roles, which carry no scp', async () => {
    const daemon = signJwt(
      key,
      {
        aud: API,
        ...base(),
        aio: 'E2ZgYDiiO8/s3smXRdxLg87zBPRNAwA=',
        azp: DAEMON,
        azpacr: '1',
        idtyp: 'app',
        oid: '7a2b6cd3-0000-4000-8000-0000000000aa',
        rh: 'I',
        roles: ['Telemetry.Read.All'],
        sub: '7a2b6cd3-0000-4000-8000-0000000000aa',
        uti: 'uIzrJNpHcEGXoQ4ZKZgqAA',
      },
      jwtHeader,
    );
    expect(await send(daemon, 'GET /telemetry/s1')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(daemon, 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
    // The route with alternatives takes the daemon's role and the user's delegated scope alike.
    expect(await send(daemon, 'GET /sensors')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(userToken(), 'GET /sensors')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(userToken({ scp: 'User.Read' }), 'GET /sensors')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it("grants a delegated token its scp only: the user's app roles beside it do not reach POST", async () => {
    const delegated = userToken({ scp: 'Telemetry.Read', roles: ['Telemetry.Write'] });
    expect(await send(delegated, 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow' });
    expect(await send(delegated, 'POST /telemetry')).toMatchObject({ status: 403, reason: 'insufficient_scope' });
  });

  it('allows a step-up route to a user by a recent auth_time (an optional claim), never by iat', async () => {
    const scp = 'Telemetry.Write';
    expect(await send(userToken({ scp, auth_time: nowSeconds() - 60 }), 'POST /system/reboot')).toMatchObject({
      status: 200,
      reason: 'allow',
    });
    // Entra's iat is when the token was issued, which a refresh renews.
    expect(await send(userToken({ scp, iat: nowSeconds() - 1 }), 'POST /system/reboot')).toMatchObject({
      status: 403,
      reason: 'step_up_required',
    });
  });

  it('refuses a step-up route to an app-only token (idtyp "app", or no scp), whatever its auth_time', async () => {
    const daemon = (extra: Record<string, unknown>) =>
      signJwt(
        key,
        {
          aud: API,
          ...base(),
          azp: DAEMON,
          azpacr: '1',
          oid: '7a2b6cd3-0000-4000-8000-0000000000aa',
          roles: ['Telemetry.Write.All'],
          sub: '7a2b6cd3-0000-4000-8000-0000000000aa',
          auth_time: nowSeconds(),
          ...extra,
        },
        jwtHeader,
      );
    expect(await send(daemon({ idtyp: 'app' }), 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
    expect(await send(daemon({}), 'POST /system/reboot')).toMatchObject({ status: 403, reason: 'step_up_required' });
  });

  it('allows a v1.0 token (sts.windows.net issuer, appid, App ID URI audience)', async () => {
    const v1 = signJwt(
      key,
      {
        aud: 'api://telemetry',
        iss: v1Issuer,
        iat: nowSeconds() - 60,
        nbf: nowSeconds() - 60,
        exp: nowSeconds() + 3600,
        acr: '1',
        amr: ['pwd'],
        appid: WEB,
        appidacr: '0',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        scp: 'Telemetry.Read',
        sub: 'l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA',
        tid: TENANT,
        unique_name: 'operator@contoso.example',
        uti: 'FVsGxYXI30-TuikuuUoFAA',
        ver: '1.0',
      },
      { ...jwtHeader, x5t: key.kid },
    );
    expect(await send(v1, 'GET /telemetry')).toMatchObject({ status: 200, reason: 'allow', context: { clientId: WEB } });
  });

  it('refuses an ID token of an app registration that is both client and API (same iss, aud and typ) with 401 invalid_token.token_use', async () => {
    const idToken = signJwt(
      key,
      {
        aud: API,
        ...base(),
        aio: 'AXQAi/8IAAAA',
        name: 'Operator One',
        nonce: '123523',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        preferred_username: 'operator@contoso.example',
        rh: 'I',
        roles: ['Telemetry.Read.All'],
        sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
        uti: 'fqiBqXLPj0eQa82S-IYFAA',
      },
      jwtHeader,
    );
    const outcome = await send(idToken, 'GET /telemetry/s1');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.token_use' });
    expect(outcome.detail).toContain('Entra ID token');
    // Without the nonce, the missing azp/appid still gives it away.
    const { nonce: _n, ...withoutNonce } = JSON.parse(Buffer.from(idToken.split('.')[1] as string, 'base64url').toString());
    expect(await send(signJwt(key, withoutNonce, jwtHeader), 'GET /telemetry/s1')).toMatchObject({
      status: 401,
      reason: 'invalid_token.token_use',
    });
  });

  it('refuses a Microsoft Graph token (nonce in the header) with 401 invalid_token.unverifiable', async () => {
    const graph = signJwt(
      key,
      {
        aud: '00000003-0000-0000-c000-000000000000',
        iss: v1Issuer,
        iat: nowSeconds(),
        exp: nowSeconds() + 3600,
        appid: WEB,
        scp: 'User.Read',
        ver: '1.0',
      },
      { ...jwtHeader, nonce: 'AQABAAAAAABnfiG-mA6NTae7CdWW7QfdAALzDWjw', x5t: key.kid },
    );
    const outcome = await send(graph, 'GET /telemetry');
    expect(outcome).toMatchObject({ status: 401, reason: 'invalid_token.unverifiable' });
    expect(outcome.detail).toContain('request a token for your own API');
  });

  it('refuses a token for another API (aud) and one from a client not in clientIds', async () => {
    expect(await send(userToken({ aud: '99999999-2222-4333-8444-555555555555' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.audience',
    });
    expect(await send(userToken({ azp: '66666666-7777-4888-9999-00000000dead' }), 'GET /telemetry')).toMatchObject({
      status: 401,
      reason: 'invalid_token.client',
    });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { EXAMPLE_ROUTES, rawConfig } from '../support/fixtures';
import { IdpServer } from '../support/idp-server';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJwt } from '../support/jwt';
import { TLS } from '../support/tls';

describe('scopegate explain', () => {
  const server = new JwksServer();
  const key = makeKey('ES256', 'e1');
  let configFile: string;
  let jwksUri: string;
  beforeAll(async () => {
    jwksUri = await server.start();
    server.keys = [key.publicJwk];
    configFile = join(mkdtempSync(join(tmpdir(), 'scopegate-')), 'config.json');
    writeFileSync(configFile, JSON.stringify(rawConfig({}, { jwksUri })));
  });
  afterAll(() => server.stop());

  async function explain(...argv: string[]) {
    const lines: string[] = [];
    const code = await main(['explain', ...argv], (t) => lines.push(t));
    return { code, text: lines.join('\n') };
  }

  it('prints 200 and 403 per route, naming the missing scope, for a valid token', async () => {
    const token = signJwt(key, claims({ scope: 'telemetry:read' }));
    const { code, text } = await explain('--token', token, '--config', configFile, '--ca', TLS.certPath);
    expect(code).toBe(0);
    expect(text).toContain('The token verifies');
    expect(text).toMatch(/GET \/telemetry\s+200\s+allow/);
    expect(text).toMatch(/POST \/telemetry\s+403\s+insufficient_scope\s+missing telemetry:write/);
    expect(text).toMatch(/PUT \/config\/x\/secrets\s+403\s+insufficient_scope\s+missing config:update, config:secrets/);
  });

  it('shows a report-only route as let through (200) with the decision it would have made, and names what an anyOf route lacks', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scopegate-')), 'config.json');
    const routes = [
      { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'], enforcement: 'report-only' },
      { method: 'GET', path: '/telemetry', anyOf: [['telemetry:read'], ['Telemetry.Read.All']] },
    ];
    writeFileSync(file, JSON.stringify(rawConfig({ routes }, { jwksUri })));
    const token = signJwt(key, claims({ scope: 'config:update' }));
    const { text } = await explain('--token', token, '--config', file, '--ca', TLS.certPath);
    expect(text).toMatch(
      /POST \/telemetry\s+200\s+insufficient_scope\s+report-only, let through: would be insufficient_scope, missing telemetry:write/,
    );
    expect(text).toMatch(/GET \/telemetry\s+403\s+insufficient_scope\s+missing telemetry:read, or Telemetry.Read.All/);
  });

  it('explains a 401: an expired token is refused whatever the route', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(key, claims({ exp: now - 3600, iat: now - 7200 }));
    const { code, text } = await explain('--token', `Bearer ${token}`, '--config', configFile, '--ca', TLS.certPath);
    expect(code).toBe(1);
    expect(text).toContain('The token is not accepted: 401 invalid_token.expired');
    expect(text).toContain('a 403 would mean a valid token without the scope');
  });

  it('explains a token meant for another audience', async () => {
    const token = signJwt(key, claims({ aud: 'https://other.example' }));
    const { text } = await explain('--token', token, '--config', configFile, '--ca', TLS.certPath, '--route', 'GET /telemetry');
    expect(text).toContain('401 invalid_token.audience');
    expect(text).toContain('request the token for this API');
  });

  it('explains step-up with the authentication age', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(key, claims({ scope: 'system:reboot', auth_time: now - 900 }));
    const { text } = await explain('--token', token, '--config', configFile, '--ca', TLS.certPath, '--route', 'POST /system/reboot');
    expect(text).toMatch(/POST \/system\/reboot\s+403\s+step_up_required\s+authenticated 9\d\d s ago; the route allows 300 s/);
  });

  it('explains step-up refused to a token without auth_time (iat is no authentication) and to a client-credentials token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = signJwt(key, claims({ scope: 'system:reboot', iat: now - 1 }));
    const refused = await explain('--token', fresh, '--config', configFile, '--ca', TLS.certPath, '--route', 'POST /system/reboot');
    expect(refused.text).toMatch(/POST \/system\/reboot\s+403\s+step_up_required\s+the token has no auth_time/);
    expect(refused.text).toContain('Bearer error="insufficient_user_authentication", max_age="300"');
    const machine = signJwt(key, claims({ scope: 'system:reboot', sub: 'ops-console', client_id: 'ops-console', auth_time: now }));
    const client = await explain('--token', machine, '--config', configFile, '--ca', TLS.certPath, '--route', 'POST /system/reboot');
    expect(client.text).toMatch(/step_up_required\s+a client-credentials token \(sub is the client id \(RFC 9068 §2.2\)\)/);
  });

  it('names the one claim the scopes came from and the claims it ignored (Auth0 scope over permissions)', async () => {
    const idp = new IdpServer();
    const origin = await idp.start();
    try {
      const issuer = `${origin}/`;
      idp.serveDiscovery(issuer, idp.serveKeys('/.well-known/jwks.json', [key.publicJwk]));
      const file = join(mkdtempSync(join(tmpdir(), 'scopegate-')), 'auth0.json');
      const routes = [
        { method: 'GET', path: '/telemetry', scopes: ['read:telemetry'] },
        { method: 'DELETE', path: '/telemetry/{id}', scopes: ['delete:telemetry'] },
      ];
      writeFileSync(file, JSON.stringify({ issuers: [{ issuer, profile: 'auth0', audience: 'https://telemetry.example.com' }], routes }));
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(
        key,
        {
          iss: issuer,
          sub: 'auth0|123456',
          aud: ['https://telemetry.example.com', `${issuer}userinfo`],
          azp: 'h4Ua0spaClientId00000000000000xx',
          iat: now,
          exp: now + 600,
          scope: 'openid read:telemetry',
          permissions: ['read:telemetry', 'delete:telemetry'],
        },
        { typ: 'JWT' },
      );
      const { text } = await explain('--token', token, '--config', file, '--ca', TLS.certPath);
      expect(text).toContain('scopes from: scope (the first of scope, permissions that the token carries); ignored: permissions');
      expect(text).toContain('Scopes granted (from the scope claim): openid read:telemetry.');
      expect(text).toContain('Ignored: permissions. Scopes come from one claim, the first of scope, permissions that the token carries');
      expect(text).toMatch(/DELETE \/telemetry\/x\s+403\s+insufficient_scope\s+missing delete:telemetry/);
      const json = JSON.parse((await explain('--token', token, '--config', file, '--ca', TLS.certPath, '--json')).text);
      expect(json).toMatchObject({ scopeClaim: 'scope', ignoredScopeClaims: ['permissions'] });
    } finally {
      await idp.stop();
    }
  });

  it('answers one request with --route, including one no route matches', async () => {
    const token = signJwt(key, claims());
    const { text } = await explain(
      '--token',
      token,
      '--config',
      configFile,
      '--ca',
      TLS.certPath,
      '--route',
      'GET /telemetry/s1/extra',
      '--json',
    );
    expect(JSON.parse(text).decisions).toEqual([
      expect.objectContaining({ request: 'GET /telemetry/s1/extra', status: 403, reason: 'no_route' }),
    ]);
  });

  it("names the issuer profile's rule when it refuses a Cognito ID token, with the key set found from the issuer", async () => {
    const idp = new IdpServer();
    const origin = await idp.start();
    try {
      const issuer = `${origin}/eu-west-1_AbCdEf123`;
      idp.serveKeys('/eu-west-1_AbCdEf123/.well-known/jwks.json', [key.publicJwk]);
      const file = join(mkdtempSync(join(tmpdir(), 'scopegate-')), 'cognito.json');
      writeFileSync(file, JSON.stringify({ issuers: [{ issuer, profile: 'cognito', clientIds: ['app-1'] }], routes: EXAMPLE_ROUTES }));
      const now = Math.floor(Date.now() / 1000);
      const idToken = signJwt(key, { iss: issuer, aud: 'app-1', sub: 'u1', token_use: 'id', iat: now, exp: now + 600 }, { typ: undefined });
      const { code, text } = await explain('--token', idToken, '--config', file, '--ca', TLS.certPath);
      expect(code).toBe(1);
      expect(text).toContain('issuer profile: cognito');
      expect(text).toContain('The token is not accepted: 401 invalid_token.token_use');
      expect(text).toContain('Why: this is a Cognito ID token (token_use "id"); send the access token.');
      const json = JSON.parse((await explain('--token', idToken, '--config', file, '--ca', TLS.certPath, '--json')).text);
      expect(json).toMatchObject({ profile: 'cognito', verified: false });
      expect(json.decisions[0]).toMatchObject({
        status: 401,
        reason: 'invalid_token.token_use',
        why: expect.stringContaining('Cognito ID token'),
      });
      const access = signJwt(key, {
        iss: issuer,
        client_id: 'app-1',
        token_use: 'access',
        scope: 'telemetry:read',
        iat: now,
        exp: now + 600,
      });
      const ok = await explain('--token', access, '--config', file, '--ca', TLS.certPath, '--route', 'GET /telemetry');
      expect(ok.text).toContain('client (client_id): app-1; allowed: app-1');
      expect(ok.text).toMatch(/GET \/telemetry\s+200\s+allow/);
    } finally {
      await idp.stop();
    }
  });

  it('hints at an Entra v1.0 token sent to a v2.0 issuer, and at a trailing-slash mismatch', async () => {
    const { issuerHint } = await import('../../cli/explain');
    const { parseConfig } = await import('../../core/config');
    const tenant = '7f1c2d3e-0000-4000-8000-000000000001';
    const config = parseConfig({
      issuers: [
        { issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, profile: 'entra', audience: 'api' },
        { issuer: 'https://acme.eu.auth0.com/', profile: 'auth0', audience: 'api' },
      ],
      routes: [],
    }).config;
    expect(issuerHint(`https://sts.windows.net/${tenant}/`, config)).toContain('this is an Entra v1.0 token');
    expect(issuerHint('https://acme.eu.auth0.com', config)).toContain('differ only by a trailing slash');
    expect(issuerHint('https://elsewhere.example', config)).toBeUndefined();
  });

  it('decodes only, and says so, without a configuration', async () => {
    const lines: string[] = [];
    const { explainCommand } = await import('../../cli/explain');
    const code = await explainCommand(['--token', signJwt(key, claims())], (t) => lines.push(t), {});
    expect(code).toBe(1);
    expect(lines.join('\n')).toContain('decoded only');
    expect(lines.join('\n')).toContain('scope:  "telemetry:read config:update"');
  });
});

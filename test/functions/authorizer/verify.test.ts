import { Authorizer } from '../../../functions/authorizer/authorize';
import { Introspector } from '../../../functions/authorizer/introspection';
import { KeyStore } from '../../../functions/authorizer/key-store';
import { ARN, AUDIENCE, config, ISSUER } from '../../support/fixtures';
import { b64u, claims, makeKey, signJwt, signRaw, type TestKey } from '../../support/jwt';

const rsa = makeKey('RS256', 'rsa-1');
const ec = makeKey('ES256', 'ec-1');
const ed = makeKey('EdDSA', 'ed-1');
const rsaNoAlg = makeKey('RS256', 'rsa-noalg', { withAlg: false });
const weak = makeKey('RS256', 'rsa-weak', { bits: 1024 });
const keys = [rsa, ec, ed, rsaNoAlg, weak];

function authorizer(overrides: Record<string, unknown> = {}, issuer: Record<string, unknown> = {}, jwks: TestKey[] = keys) {
  const store = new KeyStore({ fetcher: { fetch: async () => ({ keys: jwks.map((k) => k.publicJwk) }) } });
  return new Authorizer({ config: config(overrides, issuer), keys: store });
}

async function reasonFor(token: string, az = authorizer(), route = 'GET/telemetry') {
  const decision = await az.decide(`Bearer ${token}`, `${ARN}${route}`);
  return decision.record.reason;
}

describe('token verification', () => {
  it.each([rsa, ec, ed])('accepts a valid $alg token and allows GET /telemetry', async (key) => {
    expect(await reasonFor(signJwt(key, claims()))).toBe('allow');
  });

  it('requires exp: a signed token without exp is refused (aws-jwt-verify accepts it)', async () => {
    const { exp: _exp, ...noExp } = claims();
    expect(await reasonFor(signJwt(rsa, noExp))).toBe('invalid_token.missing_exp');
  });

  it('requires typ at+jwt when tokenType is set (aws-jwt-verify does not check typ)', async () => {
    expect(await reasonFor(signJwt(rsa, claims(), { typ: 'JWT' }))).toBe('invalid_token.type');
    expect(await reasonFor(signJwt(rsa, claims(), { typ: undefined }))).toBe('invalid_token.type');
  });

  it('accepts application/at+jwt in any case as at+jwt (RFC 9068 §4)', async () => {
    expect(await reasonFor(signJwt(rsa, claims(), { typ: 'Application/AT+JWT' }))).toBe('allow');
  });

  it('refuses any crit header (aws-jwt-verify ignores crit)', async () => {
    expect(await reasonFor(signJwt(rsa, claims(), { crit: ['exp'], exp: 1 }))).toBe('invalid_token.crit');
  });

  it('refuses an RSA key shorter than 2048 bits (aws-jwt-verify accepts it)', async () => {
    expect(await reasonFor(signJwt(weak, claims()))).toBe('invalid_token.weak_key');
  });

  it('binds an RSA JWK without alg to RS256 only (aws-jwt-verify would take RS512 too)', async () => {
    const header = { alg: 'RS512', kid: rsaNoAlg.kid, typ: 'at+jwt' };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims()))}`;
    const token = `${input}.${signRaw(input, rsaNoAlg.privateKey, 'RS512')}`;
    const az = authorizer({}, { algorithms: ['RS256', 'RS512'] });
    expect(await reasonFor(token, az)).toBe('invalid_token.key_mismatch');
    expect(await reasonFor(signJwt(rsaNoAlg, claims(), { alg: 'RS256' }), az)).toBe('allow');
  });

  it('refuses an EC key used with an algorithm of another curve', async () => {
    const header = { alg: 'ES384', kid: ec.kid, typ: 'at+jwt' };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims()))}`;
    const token = `${input}.${'A'.repeat(128)}`;
    expect(await reasonFor(token, authorizer({}, { algorithms: ['ES256', 'ES384'] }))).toBe('invalid_token.key_mismatch');
  });

  it('refuses an algorithm the issuer does not list', async () => {
    expect(await reasonFor(signJwt(ed, claims()), authorizer({}, { algorithms: ['RS256'] }))).toBe('invalid_token.algorithm');
  });

  it('selects the issuer by exact iss: no trailing-slash or case folding', async () => {
    expect(await reasonFor(signJwt(rsa, claims({ iss: 'https://idp.test/realms/ops/' })))).toBe('invalid_token.issuer');
    expect(await reasonFor(signJwt(rsa, claims({ iss: 'https://IDP.test/realms/ops' })))).toBe('invalid_token.issuer');
  });

  it('accepts aud as a list that contains one configured audience, refuses others', async () => {
    expect(await reasonFor(signJwt(rsa, claims({ aud: ['other', 'https://api.example.internal'] })))).toBe('allow');
    expect(await reasonFor(signJwt(rsa, claims({ aud: ['other'] })))).toBe('invalid_token.audience');
    expect(await reasonFor(signJwt(rsa, claims({ aud: undefined })))).toBe('invalid_token.audience');
  });

  it('applies the clock tolerance to exp, nbf and a future iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reasonFor(signJwt(rsa, claims({ exp: now - 20 })))).toBe('allow');
    expect(await reasonFor(signJwt(rsa, claims({ exp: now - 60 })))).toBe('invalid_token.expired');
    expect(await reasonFor(signJwt(rsa, claims({ nbf: now + 20 })))).toBe('allow');
    expect(await reasonFor(signJwt(rsa, claims({ nbf: now + 120 })))).toBe('invalid_token.not_yet_valid');
    expect(await reasonFor(signJwt(rsa, claims({ iat: now + 120 })))).toBe('invalid_token.issued_in_future');
    expect(await reasonFor(signJwt(rsa, claims({ exp: now - 20 })), authorizer({ clockToleranceSeconds: 0 }))).toBe(
      'invalid_token.expired',
    );
  });

  it('reads scp as a list when scope is absent', async () => {
    const token = signJwt(rsa, claims({ scope: undefined, scp: ['telemetry:read'] }));
    expect(await reasonFor(token)).toBe('allow');
    expect(await reasonFor(token, authorizer(), 'POST/telemetry')).toBe('insufficient_scope');
  });

  it('caps the Authorization value at maxTokenBytes before parsing', async () => {
    const az = authorizer({ maxTokenBytes: 512 });
    const decision = await az.decide(`Bearer ${'a'.repeat(600)}`, `${ARN}GET/telemetry`);
    expect(decision.record.reason).toBe('invalid_token.too_large');
  });

  it('takes the Bearer scheme in any case and refuses other schemes', async () => {
    const token = signJwt(rsa, claims());
    const az = authorizer();
    expect((await az.decide(`bEaReR ${token}`, `${ARN}GET/telemetry`)).record.reason).toBe('allow');
    expect((await az.decide(`Basic ${token}`, `${ARN}GET/telemetry`)).record.reason).toBe('invalid_token.scheme');
    expect((await az.decide(undefined, `${ARN}GET/telemetry`)).record.reason).toBe('invalid_token.missing');
    expect((await az.decide(token, `${ARN}GET/telemetry`)).record.reason).toBe('invalid_token.scheme');
  });

  it('verifies tokens of several issuers, each against its own keys and audience', async () => {
    const other = makeKey('ES256', 'other-1');
    const cfg = {
      issuers: [
        { issuer: 'https://idp.test/realms/ops', jwksUri: 'https://keys.test/ops', audience: 'https://api.example.internal' },
        { issuer: 'https://login.partner.test', jwksUri: 'https://keys.test/partner', audience: ['partner-api'], scopeClaim: 'scp' },
      ],
    };
    const store = new KeyStore({
      fetcher: { fetch: async (uri) => ({ keys: uri.endsWith('partner') ? [other.publicJwk] : [rsa.publicJwk] }) },
    });
    const az = new Authorizer({ config: config(cfg), keys: store });
    const partner = signJwt(
      other,
      claims({ iss: 'https://login.partner.test', aud: 'partner-api', scp: 'telemetry:read', scope: undefined }),
    );
    expect(await reasonFor(partner, az)).toBe('allow');
    // A partner token signed with the ops key is not accepted.
    const forged = signJwt({ ...rsa, kid: other.kid }, claims({ iss: 'https://login.partner.test', aud: 'partner-api' }));
    expect(await reasonFor(forged, az)).toBe('invalid_token.key_mismatch');
    expect(await reasonFor(signJwt(rsa, claims({ aud: 'partner-api' })), az)).toBe('invalid_token.audience');
  });
});

describe('decisions', () => {
  it('returns a policy that denies the asked route with insufficient_scope and names the missing scopes', async () => {
    const az = authorizer();
    const decision = await az.decide(`Bearer ${signJwt(rsa, claims())}`, `${ARN}POST/telemetry`);
    expect(decision.outcome).toBe('policy');
    expect(decision.record).toMatchObject({ reason: 'insufficient_scope', effect: 'deny', missingScopes: ['telemetry:write'] });
  });

  it('puts sub, clientId, scope and issuer in a flat context, principalId from sub else client_id', async () => {
    const decision = await authorizer().decide(`Bearer ${signJwt(rsa, claims({ sub: undefined }))}`, `${ARN}GET/health`);
    if (decision.outcome !== 'policy') throw new Error('expected a policy');
    expect(decision.result.principalId).toBe('ops-console');
    expect(decision.result.context).toMatchObject({ clientId: 'ops-console', scope: 'telemetry:read config:update' });
    expect(Object.values(decision.result.context).every((v) => ['string', 'number', 'boolean'].includes(typeof v))).toBe(true);
  });

  it('answers no_route for a request no route matches', async () => {
    expect(await reasonFor(signJwt(rsa, claims()), authorizer(), 'GET/telemetry/a/b')).toBe('no_route');
  });

  it('requires a recent auth_time for step-up routes, never iat (a refreshed token is issued now)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const scope = 'system:reboot';
    expect(await reasonFor(signJwt(rsa, claims({ scope, iat: now - 1 })), authorizer(), 'POST/system/reboot')).toBe('step_up_required');
    expect(await reasonFor(signJwt(rsa, claims({ scope, auth_time: now - 60 })), authorizer(), 'POST/system/reboot')).toBe('allow');
    expect(await reasonFor(signJwt(rsa, claims({ scope, auth_time: now - 600 })), authorizer(), 'POST/system/reboot')).toBe(
      'step_up_required',
    );
    expect(await reasonFor(signJwt(rsa, claims({ scope, iat: now - 600 })), authorizer(), 'POST/system/reboot')).toBe('step_up_required');
  });

  it('refuses a step-up route to a client-credentials token (sub is its client_id), whatever its auth_time', async () => {
    const now = Math.floor(Date.now() / 1000);
    const machine = claims({ scope: 'system:reboot', sub: 'ops-console', client_id: 'ops-console', auth_time: now });
    const decision = await authorizer().decide(`Bearer ${signJwt(rsa, machine)}`, `${ARN}POST/system/reboot`);
    expect(decision.record.reason).toBe('step_up_required');
    expect(decision.outcome === 'policy' && decision.result.context).not.toHaveProperty('authTime');
  });

  it('applies the same rules to an introspection answer: its scope claim only, auth_time never iat, no client-credentials step-up', async () => {
    const now = Math.floor(Date.now() / 1000);
    let answer: Record<string, unknown> = {};
    const introspector = new Introspector({ call: async () => answer, secrets: async () => 's' });
    const az = new Authorizer({
      config: config(
        {},
        { introspection: { endpoint: 'https://idp.test/introspect', clientId: 'rs', clientSecret: 's', cacheMaxSeconds: 0 } },
      ),
      keys: new KeyStore({ fetcher: { fetch: async () => ({ keys: [] }) } }),
      introspector,
    });
    const opaque = async (body: Record<string, unknown>, route = 'POST/system/reboot') => {
      answer = { active: true, token_type: 'Bearer', iss: ISSUER, aud: AUDIENCE, exp: now + 300, client_id: 'ops-console', ...body };
      const decision = await az.decide(`Bearer opaque-${Math.random().toString(36).slice(2)}`, `${ARN}${route}`);
      return decision.record;
    };
    expect(await opaque({ sub: 'user-1', scope: 'system:reboot', auth_time: now - 60 })).toMatchObject({
      reason: 'allow',
      scopeClaim: 'scope',
    });
    expect((await opaque({ sub: 'user-1', scope: 'system:reboot', iat: now - 1 })).reason).toBe('step_up_required');
    expect((await opaque({ sub: 'ops-console', scope: 'system:reboot', auth_time: now })).reason).toBe('step_up_required');
    // Only the RFC 7662 scope member grants: a permissions list beside it is not read.
    expect((await opaque({ sub: 'user-1', scope: 'telemetry:read', permissions: ['telemetry:write'] }, 'POST/telemetry')).reason).toBe(
      'insufficient_scope',
    );
  });

  it('logs the one claim the scopes came from', async () => {
    const decision = await authorizer({}, { scopeClaim: ['scope', 'permissions'] }).decide(
      `Bearer ${signJwt(rsa, claims({ scope: 'telemetry:read', permissions: ['telemetry:write'] }))}`,
      `${ARN}POST/telemetry`,
    );
    expect(decision.record).toMatchObject({ reason: 'insufficient_scope', scopeClaim: 'scope', missingScopes: ['telemetry:write'] });
  });

  it('keeps a cached step-up Allow within maxAuthAgeSeconds by counting the policy cache TTL', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(rsa, claims({ scope: 'system:reboot', auth_time: now - 100 }));
    expect(await reasonFor(token, authorizer({ policyCacheTtlSeconds: 300 }), 'POST/system/reboot')).toBe('step_up_required');
    expect(await reasonFor(token, authorizer({ policyCacheTtlSeconds: 60 }), 'POST/system/reboot')).toBe('allow');
  });
});

describe('the hot path', () => {
  it('decides without a promise once the key is held (no await on the way to a policy)', async () => {
    const az = authorizer();
    await az.decide(`Bearer ${signJwt(rsa, claims())}`, `${ARN}GET/telemetry`);
    const decision = az.decide(`Bearer ${signJwt(rsa, claims({ sub: 'user-2' }))}`, `${ARN}GET/telemetry`);
    expect(decision).not.toBeInstanceOf(Promise);
    expect((decision as Awaited<typeof decision>).record.reason).toBe('allow');
    // A 401 comes back at once too.
    expect(az.decide('Bearer a.b.c', `${ARN}GET/telemetry`)).not.toBeInstanceOf(Promise);
  });

  it('logs no member without a value: the logger walks every member it is given', async () => {
    const az = authorizer();
    for (const [token, route] of [
      [signJwt(rsa, claims()), 'GET/telemetry'],
      [signJwt(rsa, claims({ scope: 'telemetry:read' })), 'POST/telemetry'],
      [signJwt(rsa, claims({ sub: undefined, scope: undefined })), 'GET/nowhere'],
    ] as const) {
      const { record } = await az.decide(`Bearer ${token}`, `${ARN}${route}`);
      expect(Object.entries(record).filter(([, value]) => value === undefined)).toEqual([]);
      expect(record).toMatchObject({ issuer: ISSUER, kid: 'rsa-1', alg: 'RS256', latencyMs: expect.any(Number) });
    }
  });

  it('refuses a jti or a scope that is not a string, as aws-jwt-verify did, whatever claim grants the scopes', async () => {
    expect(await reasonFor(signJwt(rsa, claims({ jti: 42 })))).toBe('invalid_token.claims');
    const scpOnly = authorizer({}, { scopeClaim: 'scp' });
    expect(await reasonFor(signJwt(rsa, claims({ scope: ['telemetry:read'], scp: ['telemetry:read'] })), scpOnly)).toBe(
      'invalid_token.claims',
    );
    expect(await reasonFor(signJwt(rsa, claims({ scope: undefined, scp: ['telemetry:read'] })), scpOnly)).toBe('allow');
  });

  it('verifies with the new key once a key is replaced under the same kid, never with the old one', async () => {
    const first = makeKey('ES256', 'rotating');
    const second = makeKey('ES256', 'rotating');
    let clock = 1_000_000_000;
    let published = first;
    const store = new KeyStore({ now: () => clock, maxAgeMs: 60_000, fetcher: { fetch: async () => ({ keys: [published.publicJwk] }) } });
    const az = new Authorizer({ config: config(), keys: store });
    const token = (key: TestKey) => `Bearer ${signJwt(key, claims({}, Math.floor(Date.now() / 1000)))}`;
    expect((await az.decide(token(first), `${ARN}GET/telemetry`)).record.reason).toBe('allow');
    published = second;
    clock += 120_000;
    // The held key is past its age: this decision uses it and refreshes the key set behind it.
    expect((await az.decide(token(first), `${ARN}GET/telemetry`)).record.reason).toBe('allow');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await az.decide(token(second), `${ARN}GET/telemetry`)).record.reason).toBe('allow');
    expect((await az.decide(token(first), `${ARN}GET/telemetry`)).record.reason).toBe('invalid_token.signature');
  });
});

import { createHmac, generateKeyPairSync } from 'node:crypto';
import { Authorizer } from '../../../functions/authorizer/authorize';
import { KeyStore } from '../../../functions/authorizer/key-store';
import { ARN, config } from '../../support/fixtures';
import { evaluate } from '../../support/iam';
import { b64u, claims, makeKey, signJwt, signRaw, type TestKey } from '../../support/jwt';

/**
 * Hostile tokens drawn from RFC 8725 and JWT library CVEs. Each must be a 401 with a
 * reason code: never a crash, never a policy. Controls signed properly must still pass.
 */

const rsa = makeKey('RS256', 'rsa-1');
const ec = makeKey('ES256', 'ec-1');
const ed = makeKey('EdDSA', 'ed-1');
const weak = makeKey('RS256', 'weak-1', { bits: 1024 });
const attacker = makeKey('RS256', 'attacker-1');
const attackerEc = makeKey('ES256', 'ec-1');

const store = new KeyStore({ fetcher: { fetch: async () => ({ keys: [rsa, ec, ed, weak].map((k) => k.publicJwk) }) } });
const authorizer = new Authorizer({ config: config(), keys: store });

function raw(header: Record<string, unknown>, payload: Record<string, unknown>, signature: string): string {
  return `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.${signature}`;
}

function withSigner(key: TestKey, header: Record<string, unknown>, payload: Record<string, unknown>, alg = String(header.alg)): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${signRaw(input, key.privateKey, alg)}`;
}

function hs256(secret: string | Buffer, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const h = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', ...extra });
const c = claims();
const valid = signJwt(rsa, c);
const [vh, vp, vs] = valid.split('.') as [string, string, string];
const rsaPem = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' });
const publicPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' });

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const hostile: [string, string][] = [
  ['alg none', raw(h({ alg: 'none' }), c, '')],
  ['alg None', raw(h({ alg: 'None' }), c, 'AA')],
  ['alg NONE', raw(h({ alg: 'NONE' }), c, 'AA')],
  ['alg nOnE', raw(h({ alg: 'nOnE' }), c, 'AA')],
  ['alg none with a signature stripped', `${b64u(JSON.stringify(h({ alg: 'none' })))}.${vp}.`],
  ['HS256 keyed with the RSA public key PEM (RS/HS confusion, CVE-2015-9235)', hs256(String(publicPem), h({ alg: 'HS256' }), c)],
  ['HS256 keyed with the JWK JSON', hs256(JSON.stringify(rsa.publicJwk), h({ alg: 'HS256' }), c)],
  ['HS256 keyed with the RSA private key PEM', hs256(String(rsaPem), h({ alg: 'HS256' }), c)],
  ['embedded jwk of the attacker (CVE-2018-0114)', withSigner(attacker, h({ kid: attacker.kid, jwk: attacker.publicJwk }), c)],
  ['embedded jwk with the trusted kid', withSigner(attacker, h({ jwk: attacker.publicJwk }), c)],
  ['jku pointing at the attacker', withSigner(attacker, h({ jku: 'https://evil.example/jwks.json' }), c)],
  ['x5u pointing at the attacker', withSigner(attacker, h({ x5u: 'https://evil.example/cert.pem' }), c)],
  ['x5c chain of the attacker', withSigner(attacker, h({ x5c: ['MIIBfake'] }), c)],
  ['psychic ECDSA signature r=s=0 (CVE-2022-21449)', raw({ alg: 'ES256', kid: ec.kid, typ: 'at+jwt' }, c, b64u(Buffer.alloc(64)))],
  [
    'ECDSA r=s=n (the curve order)',
    raw(
      { alg: 'ES256', kid: ec.kid, typ: 'at+jwt' },
      c,
      b64u(
        Buffer.concat([
          Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex'),
          Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex'),
        ]),
      ),
    ),
  ],
  [
    'ECDSA signature in DER instead of r||s',
    (() => {
      const header = { alg: 'ES256', kid: ec.kid, typ: 'at+jwt' };
      const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(c))}`;
      return `${input}.${signRaw(input, ec.privateKey, 'ES256', true)}`;
    })(),
  ],
  ['ES256 signed by an attacker key with the trusted kid', withSigner(attackerEc, { alg: 'ES256', kid: ec.kid, typ: 'at+jwt' }, c)],
  ['crit b64:false (RFC 7797)', withSigner(rsa, h({ crit: ['b64'], b64: false }), c)],
  ['crit naming an unknown extension', withSigner(rsa, h({ crit: ['urn:evil'], 'urn:evil': 1 }), c)],
  ['typ JWT', withSigner(rsa, h({ typ: 'JWT' }), c)],
  ['an ID token (typ JWT, aud the client)', withSigner(rsa, h({ typ: 'JWT' }), { ...c, aud: 'ops-console', nonce: 'n', scope: undefined })],
  ['a logout token typ', withSigner(rsa, h({ typ: 'logout+jwt' }), c)],
  ['exp as a string', withSigner(rsa, h(), { ...c, exp: String(c.exp) })],
  ['exp missing', withSigner(rsa, h(), { ...c, exp: undefined })],
  ['exp overflowing to Infinity', `${b64u(JSON.stringify(h()))}.${b64u(JSON.stringify(c).replace(/"exp":\d+/, '"exp":1e999'))}.${vs}`],
  ['nbf a day ahead', withSigner(rsa, h(), { ...c, nbf: Number(c.iat) + 86400 })],
  ['iat a day ahead', withSigner(rsa, h(), { ...c, iat: Number(c.iat) + 86400 })],
  ['expired a day ago', withSigner(rsa, h(), { ...c, exp: Number(c.iat) - 86400 })],
  ['iss with a trailing slash', withSigner(rsa, h(), { ...c, iss: `${c.iss}/` })],
  ['iss as a list', withSigner(rsa, h(), { ...c, iss: [c.iss] })],
  ['aud as a number', withSigner(rsa, h(), { ...c, aud: 42 })],
  ['aud of another API', withSigner(rsa, h(), { ...c, aud: 'https://api.example.internal.evil' })],
  ['sub as an object', withSigner(rsa, h(), { ...c, sub: { id: 1 } })],
  ['scope as a list', withSigner(rsa, h(), { ...c, scope: ['telemetry:read'] })],
  ['payload tampered to add scopes, original signature', `${vh}.${b64u(JSON.stringify({ ...c, scope: 'system:reboot' }))}.${vs}`],
  ['signature of another token', `${vh}.${vp}.${signJwt(rsa, claims()).split('.')[2]}`],
  ['signature stripped', `${vh}.${vp}.`],
  ['RS256 header, PS256 signature', withSigner(rsa, h(), c, 'PS256')],
  ['alg rs256 in lower case', withSigner(rsa, h({ alg: 'rs256' }), c, 'RS256')],
  ['alg Ed25519 instead of EdDSA', withSigner(ed, { alg: 'Ed25519', kid: ed.kid, typ: 'at+jwt' }, c, 'EdDSA')],
  ['ES256 token naming the RSA key', withSigner(ec, { alg: 'ES256', kid: rsa.kid, typ: 'at+jwt' }, c)],
  ['RSA key of 1024 bits', signJwt(weak, c)],
  ['duplicate alg in the header JSON, last none', `${b64u('{"alg":"RS256","kid":"rsa-1","typ":"at+jwt","alg":"none"}')}.${vp}.${vs}`],
  ['kid path traversal', withSigner(attacker, h({ kid: '../../../../dev/null' }), c)],
  ['kid SQL injection', withSigner(attacker, h({ kid: "' OR 1=1 --" }), c)],
  ['kid of 300 characters', withSigner(rsa, h({ kid: 'k'.repeat(300) }), c)],
  ['kid as a number', withSigner(rsa, h({ kid: 1 }), c)],
  ['header not JSON', `${b64u('{alg:RS256')}.${vp}.${vs}`],
  ['payload not JSON', `${vh}.${b64u('not json')}.${vs}`],
  ['header a JSON array', `${b64u('["RS256"]')}.${vp}.${vs}`],
  ['payload JSON null', `${vh}.${b64u('null')}.${vs}`],
  ['four parts', `${valid}.AAAA`],
  ['JWE compact form (five parts)', `${vh}.AAAA.AAAA.AAAA.AAAA`],
  ['base64 padding', `${vh}=.${vp}.${vs}`],
  ['standard base64 characters', `${vh}.${vp}.${vs.replace(/-/g, '+').replace(/_/g, '/')}+/`],
  ['deeply nested payload', withSigner(attacker, h(), { ...c, deep: nested(2500) })],
  ['oversize token (64 KiB)', withSigner(rsa, h(), { ...c, pad: 'x'.repeat(65536) })],
  ['an empty token', ''],
  ['whitespace in the token', `${vh}.${vp} .${vs}`],
];

describe('hostile tokens', () => {
  it('has at least 30 of them', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(30);
  });

  it.each(hostile)('%s is a 401 with a reason code', async (_name, token) => {
    const decision = await authorizer.decide(`Bearer ${token}`, `${ARN}GET/telemetry`);
    expect(decision.outcome).toBe('unauthorized');
    expect(decision.record.reason).toMatch(/^invalid_token\.[a-z_]+$/);
    expect('result' in decision).toBe(false);
  });

  it.each([rsa, ec, ed])('a control token signed properly with $alg still passes', async (key) => {
    const decision = await authorizer.decide(`Bearer ${signJwt(key, claims())}`, `${ARN}GET/telemetry`);
    expect(decision.record.reason).toBe('allow');
  });
});

describe('scope look-alikes in properly signed tokens', () => {
  it.each([
    ['a longer scope with the same prefix', 'telemetry:readwrite'],
    ['another case', 'TELEMETRY:WRITE Telemetry:Write'],
    ['a wildcard', 'telemetry:* *'],
    ['comma-separated', 'telemetry:read,telemetry:write'],
    ['a sub-scope', 'telemetry:write:self'],
  ])('%s does not grant telemetry:write', async (_name, scope) => {
    const decision = await authorizer.decide(`Bearer ${signJwt(rsa, claims({ scope }))}`, `${ARN}POST/telemetry`);
    if (decision.outcome !== 'policy') throw new Error(`expected a policy, got ${decision.record.reason}`);
    expect(decision.record.reason).toBe('insufficient_scope');
    expect(evaluate(decision.result.policyDocument, `${ARN}POST/telemetry`)).toBe('Deny');
  });

  it.each([
    ['a Cyrillic а', { scope: 'telemetry:wrіte' }],
    ['tab-separated', { scope: 'telemetry:read\ttelemetry:write' }],
    ['a trailing NUL', { scope: 'telemetry:write\u0000' }],
    ['an scp element with a space', { scope: undefined, scp: ['telemetry:read telemetry:write'] }],
    ['an empty scp element', { scope: undefined, scp: ['telemetry:read', ''] }],
  ])('refuses a token whose scopes hold a value that is not an RFC 6749 scope token: %s', async (_name, extra) => {
    const decision = await authorizer.decide(`Bearer ${signJwt(rsa, claims(extra))}`, `${ARN}POST/telemetry`);
    expect(decision.outcome).toBe('unauthorized');
    expect(decision.record.reason).toBe('invalid_token.claims');
  });

  it('does not reuse the verdicts of ["a", "b"] for an scp of ["a b"] (memo key collision)', async () => {
    const split = await authorizer.decide(
      `Bearer ${signJwt(rsa, claims({ scope: undefined, scp: ['telemetry:read', 'telemetry:write'] }))}`,
      `${ARN}POST/telemetry`,
    );
    expect(split.record.reason).toBe('allow');
    const joined = await authorizer.decide(
      `Bearer ${signJwt(rsa, claims({ scope: undefined, scp: ['telemetry:read telemetry:write'] }))}`,
      `${ARN}POST/telemetry`,
    );
    expect(joined.record.reason).not.toBe('allow');
  });

  it('a __proto__ member does not smuggle scopes in', async () => {
    const payload = JSON.stringify(claims({ scope: undefined })).replace(/^\{/, '{"__proto__":{"scope":"telemetry:write"},');
    const header = { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' };
    const input = `${b64u(JSON.stringify(header))}.${b64u(payload)}`;
    const token = `${input}.${signRaw(input, rsa.privateKey, 'RS256')}`;
    const decision = await authorizer.decide(`Bearer ${token}`, `${ARN}POST/telemetry`);
    expect(decision.record.reason).toBe('insufficient_scope');
  });
});

import { audit, hasErrors } from '../../../functions/shared/audit';
import { JwksServer } from '../../support/jwks-server';
import { makeKey } from '../../support/jwt';
import { type OidcServer, startOidcServer } from '../../support/oidc';
import { TLS } from '../../support/tls';

const k1 = makeKey('RS256', 'k1');
const k2 = makeKey('ES256', 'k2');
const weak = makeKey('RS256', 'weak', { bits: 1024 });
const http = { ca: TLS.cert, timeoutMs: 1000 };

function codes(report: Awaited<ReturnType<typeof audit>>) {
  return report.findings.map((f) => f.code).sort();
}

describe('audit against a real HTTPS key set server', () => {
  const server = new JwksServer();
  const mirror = new JwksServer();
  let uri: string;
  let mirrorUri: string;
  beforeAll(async () => {
    uri = await server.start();
    mirrorUri = await mirror.start();
  });
  afterAll(async () => {
    await server.stop();
    await mirror.stop();
  });
  beforeEach(() => {
    server.mode = 'ok';
    server.keys = [k1.publicJwk, k2.publicJwk];
    server.headers = { 'cache-control': 'public, max-age=300' };
    mirror.mode = 'ok';
    mirror.keys = [k2.publicJwk, k1.publicJwk];
  });

  it('finds nothing wrong with two strong signing keys, and a mirror serving them in another order', async () => {
    const report = await audit({ jwksUri: uri, mirrorUri, http });
    expect(report.findings).toEqual([]);
    expect(report.mirrorInSync).toBe(true);
    expect(report.verifiedJwks?.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
  });

  it('warns no_next_key when only one signing key is published', async () => {
    server.keys = [k1.publicJwk];
    const report = await audit({ jwksUri: uri, http });
    expect(codes(report)).toEqual(['no_next_key']);
    expect(hasErrors(report)).toBe(false);
  });

  it.each([
    ['weak_key', () => [k1.publicJwk, weak.publicJwk]],
    ['duplicate_kid', () => [k1.publicJwk, { ...k2.publicJwk, kid: 'k1' }]],
    ['missing_kid', () => [k1.publicJwk, { ...k2.publicJwk, kid: undefined }]],
    ['disallowed_alg', () => [k1.publicJwk, k2.publicJwk, { kty: 'oct', kid: 'h', k: 'c2VjcmV0', alg: 'HS256' }]],
    ['disallowed_alg', () => [k1.publicJwk, k2.publicJwk, { ...k1.publicJwk, kid: 'ps', alg: 'PS256' }]],
    ['jwks_invalid', () => [k1.publicJwk, k2.publicJwk, { ...k2.publicJwk, kid: 'leak', d: 'secret' }]],
  ])('reports %s as an error', async (code, keys) => {
    server.keys = keys() as Record<string, unknown>[];
    const report = await audit({ jwksUri: uri, http });
    expect(report.findings).toContainEqual(expect.objectContaining({ code, severity: 'error' }));
  });

  it.each([
    ['an oct key', { kty: 'oct', kid: 'h', k: 'c2VjcmV0', alg: 'HS256' }],
    ['a weak RSA key', weak.publicJwk],
    [
      'a key with published private material',
      { ...(makeKey('ES256', 'leak').privateKey.export({ format: 'jwk' }) as object), kid: 'leak' },
    ],
  ])('keeps the usable keys as the key set a mirror may publish beside %s, and its finding', async (_what, refused) => {
    server.keys = [k1.publicJwk, refused as Record<string, unknown>, k2.publicJwk];
    const report = await audit({ jwksUri: uri, http });
    expect(hasErrors(report)).toBe(true);
    expect(report.verifiedJwks?.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
  });

  it('leaves both keys that share a kid out of what a mirror may publish', async () => {
    server.keys = [k1.publicJwk, { ...k2.publicJwk, kid: 'k1' }, { ...makeKey('ES256', 'k3').publicJwk }];
    const report = await audit({ jwksUri: uri, http });
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'duplicate_kid', kid: 'k1' }));
    expect(report.verifiedJwks?.keys.map((k) => k.kid)).toEqual(['k3']);
  });

  it('reports an encryption key as non_signing_key, for information', async () => {
    server.keys = [k1.publicJwk, k2.publicJwk, { ...makeKey('RS256', 'enc').publicJwk, use: 'enc', alg: 'RSA-OAEP' }];
    const report = await audit({ jwksUri: uri, http });
    expect(report.findings).toEqual([expect.objectContaining({ code: 'non_signing_key', severity: 'info', kid: 'enc' })]);
  });

  it('reports cache headers that outlive the rotation window', async () => {
    server.headers = { 'cache-control': 'public, max-age=86400' };
    const report = await audit({ jwksUri: uri, http, maxCacheTtlSeconds: 3600 });
    expect(codes(report)).toEqual(['cache_ttl_too_long']);
  });

  it('ages keys from the first-seen record and reports those over the limit', async () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const report = await audit({ jwksUri: uri, http, now: () => now, firstSeen: { k1: '2026-01-01T00:00:00Z' } });
    expect(report.findings).toEqual([expect.objectContaining({ code: 'key_age_exceeded', kid: 'k1' })]);
    expect(report.firstSeen).toEqual({ k1: '2026-01-01T00:00:00Z', k2: '2026-06-01T00:00:00.000Z' });
  });

  it('reports mirror_stale when the mirror serves another key set', async () => {
    mirror.keys = [k1.publicJwk];
    const report = await audit({ jwksUri: uri, mirrorUri, http });
    expect(report.mirrorInSync).toBe(false);
    expect(codes(report)).toEqual(['mirror_stale']);
  });

  it.each([
    ['hang', 'jwks_unreachable'],
    ['huge', 'jwks_unreachable'],
    ['html', 'jwks_invalid'],
    ['redirect', 'jwks_unreachable'],
    ['fail', 'jwks_unreachable'],
  ] as const)('turns a %s endpoint into %s in bounded time, never a crash', async (mode, code) => {
    server.mode = mode;
    const started = Date.now();
    const report = await audit({ jwksUri: uri, http: { ...http, maxBytes: 65536 } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(report.findings).toEqual([expect.objectContaining({ code, severity: 'error' })]);
    expect(report.verifiedJwks).toBeUndefined();
  });

  it('finds the key set through OIDC discovery and checks the discovery issuer', async () => {
    const origin = uri.replace(/\/jwks\.json$/, '');
    server.discovery = { issuer: origin, jwks_uri: uri };
    expect((await audit({ issuer: origin, http })).findings).toEqual([]);
    server.discovery = { issuer: 'https://someone.else', jwks_uri: uri };
    expect(codes(await audit({ issuer: origin, http }))).toEqual(['jwks_unreachable']);
    server.discovery = undefined;
  });
});

describe('audit against oidc-provider', () => {
  let as: OidcServer;
  beforeAll(async () => {
    as = await startOidcServer();
  }, 30000);
  afterAll(() => as.stop());

  it('discovers the key set, warns no_next_key with one key, and is clean once the next key is published', async () => {
    const before = await audit({ issuer: as.issuer, http });
    expect(before.jwksUri).toBe(as.jwksUri);
    expect(codes(before)).toEqual(['no_next_key']);
    await as.send({ cmd: 'rotate' });
    const after = await audit({ issuer: as.issuer, http });
    expect(after.findings).toEqual([]);
    expect(after.keys).toHaveLength(2);
  });
});

import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** A signing key made for a test, with its public JWK. */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const HASH: Record<string, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
};

/** Make a key pair for `alg`; `bits` for RSA (default 2048). */
export function makeKey(alg: string, kid: string, options: { bits?: number; withAlg?: boolean } = {}): TestKey {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (alg.startsWith('RS') || alg.startsWith('PS')) pair = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === 'ES384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  else if (alg === 'ES512') pair = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  else if (alg === 'EdDSA') pair = generateKeyPairSync('ed25519');
  else throw new Error(`no test key for ${alg}`);
  const publicJwk: Record<string, unknown> = { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  if (options.withAlg !== false) publicJwk.alg = alg;
  return { kid, alg, privateKey: pair.privateKey, publicJwk };
}

/** base64url of a string or bytes. */
export function b64u(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/** Sign `header.payload` with a key as JWS `alg` says; ECDSA in JOSE's r||s form unless `der`. */
export function signRaw(signingInput: string, key: KeyObject, alg: string, der = false): string {
  const hash = HASH[alg];
  if (hash === undefined) throw new Error(`cannot sign ${alg}`);
  const options = alg.startsWith('ES')
    ? { key, dsaEncoding: der ? ('der' as const) : ('ieee-p1363' as const) }
    : alg.startsWith('PS')
      ? { key, padding: 6 }
      : key;
  return sign(hash, Buffer.from(signingInput), options).toString('base64url');
}

/** A signed compact JWS with the given header (alg, kid, typ filled from the key unless set) and payload. */
export function signJwt(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header };
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${signRaw(input, key.privateKey, String(h.alg))}`;
}

/** The claims of an ordinary valid access token for the tests' issuer and audience. */
export function claims(overrides: Record<string, unknown> = {}, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    iss: 'https://idp.test/realms/ops',
    aud: 'https://api.example.internal',
    sub: 'user-1',
    client_id: 'ops-console',
    scope: 'telemetry:read config:update',
    iat: nowSeconds - 10,
    exp: nowSeconds + 300,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  };
}

import { createPublicKey, type KeyObject } from 'node:crypto';
import { isJsonObject } from './json';

/** Signature algorithms scopegate can verify (those of aws-jwt-verify). */
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One of {@link SUPPORTED_ALGORITHMS}. */
export type SignatureAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Smallest RSA modulus accepted, in bits (RFC 8725 §3.5, NIST SP 800-131A). */
export const DEFAULT_MIN_RSA_BITS = 2048;

/** The JWK members of a public signature key (RFC 7518 §6): nothing private, nothing else. */
export const PUBLIC_KEY_MEMBERS = ['kty', 'crv', 'n', 'e', 'x', 'y'] as const;

/** The `names` members of a JWK that it has, in that order. */
export function pickMembers(jwk: Record<string, unknown>, names: readonly string[] = PUBLIC_KEY_MEMBERS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out;
}

const CURVE_ALGORITHM: Record<string, SignatureAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  Ed25519: 'EdDSA',
  Ed448: 'EdDSA',
};

/** Why a JWK cannot be used to verify signatures. */
export type KeyProblem =
  | 'not_an_object'
  | 'missing_kid'
  | 'non_signing_key'
  | 'unsupported_key'
  | 'alg_inconsistent'
  | 'invalid_key'
  | 'weak_key';

/** A JWK as read from a key set, with what scopegate decided about it. */
export interface InspectedKey {
  /** The `kid`, when the JWK has a string one. */
  kid: string | undefined;
  /** The one algorithm this key verifies, bound by `alg` or else by `kty`/`crv`. */
  alg: SignatureAlgorithm | undefined;
  /** `kty` as published. */
  kty: string | undefined;
  /** RSA modulus or curve size in bits, where known. */
  bits: number | undefined;
  /** The public key, ready for node:crypto, when usable. */
  keyObject: KeyObject | undefined;
  /** Empty when the key is usable for verification. */
  problems: KeyProblem[];
  /** The JWK as published. */
  jwk: Record<string, unknown>;
}

/**
 * Bind a JWK to exactly one signature algorithm. RFC 8725 §3.1 asks that each key be
 * used with one algorithm; aws-jwt-verify only enforces that when the JWK names `alg`, so
 * an RSA key without `alg` would verify RS256, RS384 and RS512 alike. Here an RSA key
 * without `alg` is RS256, an EC key is bound by its curve, an OKP key is EdDSA.
 */
export function boundAlgorithm(jwk: Record<string, unknown>): SignatureAlgorithm | 'inconsistent' | undefined {
  const kty = jwk.kty;
  const declared = typeof jwk.alg === 'string' ? jwk.alg : undefined;
  let implied: SignatureAlgorithm | undefined;
  if (kty === 'RSA') {
    if (declared === undefined) return 'RS256';
    return declared === 'RS256' || declared === 'RS384' || declared === 'RS512' ? declared : undefined;
  }
  if (kty === 'EC' || kty === 'OKP') {
    implied = typeof jwk.crv === 'string' ? CURVE_ALGORITHM[jwk.crv] : undefined;
    if (implied === undefined) return undefined;
    if (kty === 'EC' && implied === 'EdDSA') return undefined;
    if (kty === 'OKP' && implied !== 'EdDSA') return undefined;
    if (declared !== undefined && declared !== implied) return 'inconsistent';
    return implied;
  }
  return undefined;
}

/**
 * Decide whether a published JWK may verify signatures: it must be a public signing key
 * (`use` absent or `sig`, `key_ops` absent or with `verify`), of a supported type and
 * curve, consistent in `alg`, parseable, and (RSA) at least `minRsaBits` long.
 */
export function inspectJwk(value: unknown, minRsaBits = DEFAULT_MIN_RSA_BITS): InspectedKey {
  if (!isJsonObject(value)) {
    return { kid: undefined, alg: undefined, kty: undefined, bits: undefined, keyObject: undefined, problems: ['not_an_object'], jwk: {} };
  }
  const jwk = value;
  const problems: KeyProblem[] = [];
  const kid = typeof jwk.kid === 'string' && jwk.kid.length > 0 ? jwk.kid : undefined;
  const kty = typeof jwk.kty === 'string' ? jwk.kty : undefined;
  if (kid === undefined) problems.push('missing_kid');
  const ops = jwk.key_ops;
  if ((jwk.use !== undefined && jwk.use !== 'sig') || (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify')))) {
    problems.push('non_signing_key');
  }
  const bound = boundAlgorithm(jwk);
  const alg = bound === 'inconsistent' ? undefined : bound;
  if (bound === 'inconsistent') problems.push('alg_inconsistent');
  else if (bound === undefined) problems.push('unsupported_key');
  let keyObject: KeyObject | undefined;
  let bits: number | undefined;
  if (bound !== undefined && bound !== 'inconsistent') {
    try {
      // Only the public members: a JWK that leaks `d` must not turn into a private key here.
      keyObject = createPublicKey({ key: pickMembers(jwk) as never, format: 'jwk' });
      const details = keyObject.asymmetricKeyDetails;
      bits = details?.modulusLength ?? curveBits(jwk.crv);
      if (kty === 'RSA' && (bits ?? 0) < minRsaBits) problems.push('weak_key');
    } catch {
      problems.push('invalid_key');
      keyObject = undefined;
    }
  }
  return { kid, alg, kty, bits, keyObject: problems.length === 0 ? keyObject : undefined, problems, jwk };
}

function curveBits(crv: unknown): number | undefined {
  switch (crv) {
    case 'P-256':
    case 'Ed25519':
      return 256;
    case 'P-384':
      return 384;
    case 'P-521':
      return 521;
    case 'Ed448':
      return 448;
    default:
      return undefined;
  }
}

/** Read a key set body: an object whose `keys` is an array. Returns the array, or throws a message. */
export function readKeySet(json: unknown): unknown[] {
  if (!isJsonObject(json)) throw new Error('the key set is not a JSON object');
  const keys = json.keys;
  if (!Array.isArray(keys)) throw new Error('the key set has no "keys" array');
  return keys;
}

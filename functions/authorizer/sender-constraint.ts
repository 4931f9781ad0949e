import { createHash, X509Certificate } from 'node:crypto';
import { verifyJwtSync } from 'aws-jwt-verify/jwt-verifier';
import { InvalidTokenError } from '../../core/errors';
import { isJsonObject } from '../../core/json';
import { inspectJwk } from '../../core/jwk-rules';
import { Reason } from '../../core/reasons';
import { BoundedMap } from '../shared/bounded-map';
import { decodeJwt } from './token';
import type { VerifiedToken } from './verify';

/** What a REQUEST event tells of the HTTP request, for sender-constrained tokens. */
export interface RequestBinding {
  /** HTTP method, upper case. */
  method: string;
  /** The URL the client called, without query or fragment (DPoP `htu`). */
  url: string;
  /** The `DPoP` header, when present. */
  dpop: string | undefined;
  /** The client certificate of a mutual-TLS custom domain (PEM), when present. */
  clientCertPem: string | undefined;
}

/** Options of {@link SenderConstraintChecker}. */
export interface SenderConstraintOptions {
  /** How far a DPoP proof's `iat` may be from now, in seconds. Default 60. */
  dpopWindowSeconds?: number;
  /** The clock, in milliseconds. */
  now?: () => number;
  /** Most DPoP `jti`s remembered for replay detection. Default 100000. */
  maxJtis?: number;
}

const b64urlSha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('base64url');

/** RFC 7638 JWK thumbprint (SHA-256) of a public key: its required members, sorted, no spaces. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
  const names = members[String(jwk.kty)];
  if (names === undefined) throw new Error(`no thumbprint for kty ${String(jwk.kty)}`);
  const canonical = `{${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(jwk[n])}`).join(',')}}`;
  return b64urlSha256(canonical);
}

/** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the certificate's DER encoding. */
export function certificateThumbprint(pem: string): string {
  return b64urlSha256(new X509Certificate(pem).raw);
}

/** Normalize a URL for the DPoP `htu` comparison (RFC 9449 §4.3): no query or fragment, lower-case scheme and host. */
export function normalizeHtu(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Checks that a token bound to its sender is used by that sender: a certificate-bound token
 * (RFC 8705, `cnf.x5t#S256`) only with that client certificate, a DPoP-bound token
 * (RFC 9449, `cnf.jkt`) only with a fresh, unreplayed proof of the same key for this
 * method, URL and token. Fails closed: a bound token without the request details (a TOKEN
 * event) is refused.
 */
export class SenderConstraintChecker {
  private readonly windowSeconds: number;
  private readonly now: () => number;
  /** Each proof's `jkt` and `jti`, to the second its `iat` leaves the window, oldest first. */
  private readonly seenJtis: BoundedMap<string, number>;

  constructor(options: SenderConstraintOptions = {}) {
    this.windowSeconds = options.dpopWindowSeconds ?? 60;
    this.now = options.now ?? Date.now;
    this.seenJtis = new BoundedMap(options.maxJtis ?? 100_000);
  }

  /**
   * Check `token`, presented with `scheme` (`bearer` or `dpop`) as `accessToken`.
   * `required` refuses tokens that carry no binding at all.
   */
  check(
    token: VerifiedToken,
    scheme: 'bearer' | 'dpop',
    accessToken: string,
    request: RequestBinding | undefined,
    required: boolean,
  ): void {
    const cnf = token.cnf;
    const x5t = cnf?.['x5t#S256'];
    const jkt = cnf?.jkt;
    if (x5t === undefined && jkt === undefined) {
      if (scheme === 'dpop') throw new InvalidTokenError(Reason.Dpop, 'the DPoP scheme was used with a token that is not DPoP-bound');
      if (required) throw new InvalidTokenError(Reason.SenderConstraint, 'this issuer requires sender-constrained tokens');
      return;
    }
    if (request === undefined)
      throw new InvalidTokenError(Reason.SenderConstraint, 'a sender-constrained token needs a REQUEST authorizer');
    if (x5t !== undefined) {
      if (request.clientCertPem === undefined) throw new InvalidTokenError(Reason.SenderConstraint, 'no client certificate was presented');
      let presented: string;
      try {
        presented = certificateThumbprint(request.clientCertPem);
      } catch {
        throw new InvalidTokenError(Reason.SenderConstraint, 'the client certificate cannot be read');
      }
      if (presented !== x5t)
        throw new InvalidTokenError(Reason.SenderConstraint, 'the client certificate is not the one the token is bound to');
    }
    if (jkt !== undefined) {
      // RFC 9449 §7.1: a DPoP-bound token under the Bearer scheme is a downgrade.
      if (scheme !== 'dpop') throw new InvalidTokenError(Reason.Dpop, 'a DPoP-bound token must be sent with the DPoP scheme');
      this.checkProof(request, accessToken, String(jkt));
    }
  }

  /** RFC 9449 §4.3: the request's DPoP proof is well formed, signed by the key `jkt` names, for this request and token, and new. */
  private checkProof(request: RequestBinding, accessToken: string, jkt: string): void {
    const proof = readProof(request.dpop);
    verifyProofSignature(proof);
    let thumbprint: string;
    try {
      thumbprint = jwkThumbprint(proof.key);
    } catch {
      throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof key has no thumbprint');
    }
    if (thumbprint !== jkt) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof key is not the one the token is bound to');
    const nowSeconds = this.now() / 1000;
    checkProofClaims(proof.payload, request, accessToken, nowSeconds, this.windowSeconds);
    this.acceptJti(jkt, proof.payload, nowSeconds);
  }

  /** The proof's `jti` is new for this key within the window (replay detection), and is remembered until the window ends. */
  private acceptJti(jkt: string, payload: Record<string, unknown>, nowSeconds: number): void {
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
      throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof has no jti');
    this.forgetExpired(nowSeconds);
    const id = `${jkt}\n${jti}`;
    if (this.seenJtis.has(id)) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof was already used (jti replay)');
    this.seenJtis.set(id, (payload.iat as number) + this.windowSeconds);
  }

  private forgetExpired(nowSeconds: number): void {
    for (const [id, until] of this.seenJtis) {
      if (until >= nowSeconds) break;
      this.seenJtis.delete(id);
    }
  }
}

/** A DPoP proof, decoded: the JWS, its header and payload, and the public JWK of its header. */
interface Proof {
  jws: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  key: Record<string, unknown>;
}

/** The `DPoP` header value read as a proof: present, bounded, a JWS of `typ` `dpop+jwt` carrying a public JWK. */
function readProof(value: string | undefined): Proof {
  if (value === undefined || value.length === 0 || value.length > 4096) throw new InvalidTokenError(Reason.Dpop, 'no DPoP proof');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    ({ header, payload } = decodeJwt(value));
  } catch {
    throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof is not a JWS');
  }
  if (header.typ !== 'dpop+jwt') throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof typ is not dpop+jwt');
  const key = header.jwk;
  if (!isJsonObject(key)) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof has no jwk');
  if ('d' in key || 'p' in key || 'k' in key) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof jwk holds private material');
  return { jws: value, header, payload, key };
}

/** The proof's key is usable with the proof's `alg`, and the proof is signed by it. */
function verifyProofSignature(proof: Proof): void {
  const inspected = inspectJwk({ ...proof.key, kid: 'dpop' });
  if (inspected.alg === undefined || inspected.keyObject === undefined || proof.header.alg !== inspected.alg) {
    throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof key is not usable with its alg');
  }
  try {
    verifyJwtSync(
      proof.jws,
      { ...proof.key, alg: inspected.alg, use: 'sig' } as never,
      { issuer: null, audience: null },
      () => inspected.keyObject as never,
    );
  } catch {
    throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof signature is invalid');
  }
}

/** The proof is for this request (`htm`, `htu`), recent (`iat` within `windowSeconds`), and for this token (`ath`). */
function checkProofClaims(
  payload: Record<string, unknown>,
  request: RequestBinding,
  accessToken: string,
  nowSeconds: number,
  windowSeconds: number,
): void {
  if (payload.htm !== request.method) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof htm is not this method');
  let htu: string;
  try {
    htu = normalizeHtu(String(payload.htu));
  } catch {
    throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof htu is not a URL');
  }
  if (htu !== normalizeHtu(request.url)) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof htu is not this URL');
  if (typeof payload.iat !== 'number' || Math.abs(nowSeconds - payload.iat) > windowSeconds) {
    throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof iat is outside the window');
  }
  if (payload.ath !== b64urlSha256(accessToken)) throw new InvalidTokenError(Reason.Dpop, 'the DPoP proof ath does not match the token');
}

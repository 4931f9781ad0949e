import { JwtExpiredError, JwtInvalidSignatureAlgorithmError, JwtInvalidSignatureError, JwtNotBeforeError } from 'aws-jwt-verify/error';
import { verifyJwtSync } from 'aws-jwt-verify/jwt-verifier';
import { InvalidTokenError } from '../shared/errors';
import { type SignatureAlgorithm, SUPPORTED_ALGORITHMS } from '../shared/jwk-rules';
import { Reason } from '../shared/reasons';
import { type AuthorizerConfig, type IssuerConfig, normalizeMediaType } from './config';
import type { KeyStore } from './key-store';
import { readScopes } from './scopes';
import { decodeJwt } from './token';

/** A token that passed every check, with what the decision needs of it. */
export interface VerifiedToken {
  issuer: IssuerConfig;
  kid: string;
  alg: SignatureAlgorithm;
  sub: string | undefined;
  clientId: string | undefined;
  scopes: string[];
  /** `auth_time`, else `iat`, in seconds since the epoch; for step-up. */
  authTime: number | undefined;
  /** `exp`, in seconds since the epoch. */
  exp: number;
}

function optionalString(payload: Record<string, unknown>, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidTokenError(Reason.Claims, `the ${claim} claim is not a string`);
  return value;
}

function optionalNumber(payload: Record<string, unknown>, claim: string): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new InvalidTokenError(Reason.Claims, `the ${claim} claim is not a number`);
  return value;
}

/**
 * Verifies access tokens: aws-jwt-verify checks the JWS signature, and this class closes
 * what its defaults leave open for a resource server (RFC 8725, RFC 9068 §4): explicit
 * `typ`, a required `exp`, refused `crit`, one algorithm per key, key strength, exact
 * issuer selection, and claim types. Cheap structural checks run before any key lookup or
 * signature work; claims are trusted only after the signature holds.
 */
export class TokenVerifier {
  private readonly byIssuer: Map<string, IssuerConfig>;

  constructor(
    private readonly config: AuthorizerConfig,
    private readonly keys: KeyStore,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.byIssuer = new Map(config.issuers.map((i) => [i.issuer, i]));
  }

  /** Verify a compact JWS; rejects with {@link InvalidTokenError} or a keys-unavailable error. */
  async verify(token: string): Promise<VerifiedToken> {
    const { header, payload } = decodeJwt(token);
    const alg = header.alg;
    if (typeof alg !== 'string') throw new InvalidTokenError(Reason.Malformed, 'the header has no alg');
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new InvalidTokenError(Reason.Algorithm, `alg ${alg.slice(0, 20)} is not accepted`);
    }
    if (header.crit !== undefined) {
      // No JWS extension is understood here, so any critical one must be refused (RFC 7515 §4.1.11).
      throw new InvalidTokenError(Reason.Crit, 'the header names critical extensions');
    }
    const iss = payload.iss;
    const issuer = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    if (issuer === undefined) throw new InvalidTokenError(Reason.Issuer, 'the issuer is not trusted');
    if (!(issuer.algorithms as readonly string[]).includes(alg)) {
      throw new InvalidTokenError(Reason.Algorithm, `alg ${alg} is not accepted for this issuer`);
    }
    if (issuer.tokenType !== undefined) {
      const typ = header.typ;
      if (typeof typ !== 'string' || normalizeMediaType(typ) !== issuer.tokenType) {
        throw new InvalidTokenError(Reason.Type, `typ must be ${issuer.tokenType}`);
      }
    }
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) {
      throw new InvalidTokenError(Reason.Malformed, 'the header has no usable kid');
    }
    const key = await this.keys.getKey(issuer.jwksUri, kid, alg as SignatureAlgorithm);
    const tolerance = this.config.clockToleranceSeconds;
    try {
      verifyJwtSync(token, key.jwk as never, { issuer: null, audience: null, graceSeconds: tolerance }, () => key.keyObject);
    } catch (error) {
      if (error instanceof JwtInvalidSignatureError) throw new InvalidTokenError(Reason.Signature, 'the signature is invalid');
      if (error instanceof JwtInvalidSignatureAlgorithmError) throw new InvalidTokenError(Reason.KeyMismatch, 'alg does not match the key');
      if (error instanceof JwtExpiredError) throw new InvalidTokenError(Reason.Expired, 'the token has expired');
      if (error instanceof JwtNotBeforeError) throw new InvalidTokenError(Reason.NotYetValid, 'the token is not valid yet');
      // Anything else aws-jwt-verify refuses happened before or in the signature check.
      throw new InvalidTokenError(Reason.Signature, `rejected: ${(error as Error).message}`.slice(0, 200));
    }
    return this.checkClaims(issuer, payload, kid, alg as SignatureAlgorithm);
  }

  private checkClaims(issuer: IssuerConfig, payload: Record<string, unknown>, kid: string, alg: SignatureAlgorithm): VerifiedToken {
    const now = this.nowMs() / 1000;
    const tolerance = this.config.clockToleranceSeconds;
    const exp = optionalNumber(payload, 'exp');
    if (exp === undefined) throw new InvalidTokenError(Reason.MissingExp, 'the token has no exp');
    if (exp + tolerance < now) throw new InvalidTokenError(Reason.Expired, 'the token has expired');
    const nbf = optionalNumber(payload, 'nbf');
    if (nbf !== undefined && nbf - tolerance > now) throw new InvalidTokenError(Reason.NotYetValid, 'the token is not valid yet');
    const iat = optionalNumber(payload, 'iat');
    if (iat !== undefined && iat - tolerance > now)
      throw new InvalidTokenError(Reason.IssuedInFuture, 'the token was issued in the future');
    const aud = payload.aud;
    const audiences = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string')) {
      throw new InvalidTokenError(aud === undefined ? Reason.Audience : Reason.Claims, 'the aud claim is missing or malformed');
    }
    if (!audiences.some((a) => issuer.audience.includes(a as string))) {
      throw new InvalidTokenError(Reason.Audience, 'the token is not for this audience');
    }
    const authTime = optionalNumber(payload, 'auth_time');
    return {
      issuer,
      kid,
      alg,
      sub: optionalString(payload, 'sub'),
      clientId: optionalString(payload, 'client_id') ?? optionalString(payload, 'azp'),
      scopes: readScopes(payload, issuer.scopeClaim),
      authTime: authTime ?? iat,
      exp,
    };
  }
}

import { JwtExpiredError, JwtInvalidSignatureAlgorithmError, JwtInvalidSignatureError, JwtNotBeforeError } from 'aws-jwt-verify/error';
import type { JwksCache, JwkWithKid } from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { type AuthorizerConfig, type IssuerConfig, normalizeMediaType } from '../../core/config';
import { InvalidTokenError } from '../../core/errors';
import { type SignatureAlgorithm, SUPPORTED_ALGORITHMS } from '../../core/jwk-rules';
import { clientCredentialsMarker, PROFILES } from '../../core/profiles';
import { Reason } from '../../core/reasons';
import { readScopes, scopeClaimOf } from '../../core/scopes';
import { checkAudience, checkClaimTypes, checkClient, checkTimes, clientOf, confirmation, optionalNumber, optionalString } from './claims';
import { HttpsJsonFetcher, JwksUriResolver } from './discovery';
import { checkAccessTokenAnswer, type Introspector, introspectingIssuerFor } from './introspection';
import type { KeySources, KeyStore, VerificationKey } from './key-store';
import { type DecodedJwt, decodeJwt, looksLikeJwt } from './token';

/** A JWT read and checked as far as it can be before its key is looked up ({@link TokenVerifier}). */
interface ReadJwt {
  decoded: DecodedJwt;
  issuer: IssuerConfig;
  kid: string;
  alg: SignatureAlgorithm;
}

/** The one key a {@link SignatureVerifier} is to use, handed to aws-jwt-verify as its JWKS cache. */
class HandedKey implements JwksCache {
  jwk: JwkWithKid | undefined;
  getCachedJwk(): JwkWithKid {
    return this.jwk as JwkWithKid;
  }
  getJwk(): Promise<JwkWithKid> {
    return Promise.resolve(this.jwk as JwkWithKid);
  }
  addJwks(): void {}
  getJwks(): Promise<never> {
    return Promise.reject(new Error('scopegate hands aws-jwt-verify one key, never a key set'));
  }
}

const HANDED = 'scopegate:handed-key';

/**
 * aws-jwt-verify's check of a token decoded once, by {@link decodeJwt}: the JWK against the
 * header, the signature, `exp` and `nbf` (its `verifyDecomposedJwtSync`, which only a subclass
 * may call; its `verifyJwtSync` takes the token as a string and decodes it again, with a
 * prototype-safe JSON reviver: a third of the work of a decision at RS256). The key is the
 * one the key store chose, handed over as its JWKS cache. aws-jwt-verify keeps the
 * `KeyObject` it makes of a key by issuer, `kid` and `alg`, for as long as the instance lives:
 * so there is one instance per key ({@link TokenVerifier}), and a key replaced under the same
 * `kid` (a new {@link VerificationKey}) never meets the old one's `KeyObject`.
 */
class SignatureVerifier extends JwtVerifier<
  { issuer: null; audience: null; graceSeconds: number },
  { issuer: null; audience: null; jwksUri: string },
  false
> {
  private readonly handed: HandedKey;

  constructor() {
    const handed = new HandedKey();
    super({ issuer: null, audience: null, jwksUri: HANDED }, handed);
    this.handed = handed;
  }

  /** Throws aws-jwt-verify's errors. */
  verifyWith(decoded: DecodedJwt, jwk: Record<string, unknown>, graceSeconds: number): void {
    this.handed.jwk = jwk as JwkWithKid;
    try {
      // iss and aud are checked by scopegate's own rules (the issuer chosen by iss, exactly; checkAudience).
      this.verifyDecomposedJwtSync(decoded as DecomposedJwt, HANDED, { issuer: null, audience: null, graceSeconds });
    } finally {
      this.handed.jwk = undefined;
    }
  }
}

/** A token that passed every check, with what the decision needs of it. */
export interface VerifiedToken {
  issuer: IssuerConfig;
  /** The signing key, or `-` for an introspected token. */
  kid: string;
  /** The JWS algorithm, or `introspection`. */
  alg: SignatureAlgorithm | 'introspection';
  sub: string | undefined;
  clientId: string | undefined;
  scopes: string[];
  /** The one claim {@link scopes} came from (the first of the issuer's scope claims the token carries), if any. */
  scopeClaim: string | undefined;
  /**
   * When the token's user authenticated (`auth_time`), in seconds since the epoch; for
   * step-up. `undefined` without `auth_time` (`iat` is when the token was issued, not when
   * anyone authenticated), and for a token its client obtained for itself (client
   * credentials: no user authenticated), whatever `auth_time` it carries.
   */
  authTime: number | undefined;
  /** `exp`, in seconds since the epoch, when known. */
  exp: number | undefined;
  /** The confirmation claim (RFC 7800): `x5t#S256` (RFC 8705) or `jkt` (RFC 9449), when present. */
  cnf: Record<string, unknown> | undefined;
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
  private readonly introspected: IssuerConfig[];
  private discovery: JwksUriResolver | undefined;
  /** aws-jwt-verify, one instance per key ({@link SignatureVerifier}). */
  private readonly signatures = new WeakMap<VerificationKey, SignatureVerifier>();
  /** Per discovered issuer: the discovered URI, then the fallbacks (one list, not one per request). */
  private readonly sources = new Map<IssuerConfig, string[]>();

  /**
   * `discovery` resolves the key set URL of issuers configured without one; by default, OIDC
   * discovery over HTTPS with the configured JWKS deadline, body cap and maximum age.
   */
  constructor(
    private readonly config: AuthorizerConfig,
    private readonly keys: KeyStore,
    private readonly nowMs: () => number = Date.now,
    private readonly introspector?: Introspector,
    discovery?: JwksUriResolver,
  ) {
    this.byIssuer = new Map(config.issuers.map((i) => [i.issuer, i]));
    this.introspected = config.issuers.filter((i) => i.introspection !== undefined);
    this.discovery = discovery;
  }

  /** The key sources of an issuer whose `jwksUri` is discovered: that, then its fallbacks. */
  private async discoveredSources(issuer: IssuerConfig): Promise<KeySources> {
    return this.sourcesOf(issuer, await this.discoveredJwksUri(issuer));
  }

  /** The key sources for a discovered URI, the list kept while the URI stays the same. */
  private sourcesOf(issuer: IssuerConfig, discovered: string): KeySources {
    if (issuer.jwksFallbackUris.length === 0) return discovered;
    const known = this.sources.get(issuer);
    if (known !== undefined && known[0] === discovered) return known;
    const sources = [discovered, ...issuer.jwksFallbackUris];
    this.sources.set(issuer, sources);
    return sources;
  }

  /** Held discovered sources, without waiting (the hot path of a discovered issuer). */
  private heldSources(issuer: IssuerConfig): KeySources | undefined {
    const held = this.discovery?.held(issuer.issuer);
    return held === undefined ? undefined : this.sourcesOf(issuer, held);
  }

  /** The key set URL of an issuer configured without one, by OIDC discovery. */
  private discoveredJwksUri(issuer: IssuerConfig): Promise<string> {
    this.discovery ??= new JwksUriResolver({
      fetcher: new HttpsJsonFetcher({ timeoutMs: this.config.jwks.timeoutMs, maxBytes: this.config.jwks.maxBytes }),
      maxAgeMs: this.config.jwks.maxAgeSeconds * 1000,
      now: this.nowMs,
    });
    return this.discovery.jwksUri(issuer.issuer);
  }

  /**
   * Verify a bearer token: a compact JWS locally, anything else by introspection at the
   * issuers that have it. Rejects with {@link InvalidTokenError}, or a keys- or
   * introspection-unavailable error.
   */
  async verify(token: string): Promise<VerifiedToken> {
    return this.check(token);
  }

  /**
   * {@link verify} without a promise when nothing has to be waited for (the hot path: a JWT
   * whose key is held, of an issuer that does not introspect JWTs): the verified token, or a
   * synchronous throw. Otherwise a promise, as {@link verify} gives.
   */
  check(token: string): VerifiedToken | Promise<VerifiedToken> {
    if (this.introspected.length > 0 && !looksLikeJwt(token)) return this.verifyOpaque(token);
    const jwt = this.readJwt(token);
    const issuer = jwt.issuer;
    const sources = issuer.jwksUris ?? this.heldSources(issuer);
    const key = sources === undefined ? undefined : this.keys.heldKey(sources, jwt.kid, jwt.alg);
    if (key === undefined || (issuer.introspection?.forJwts === true && this.introspector !== undefined)) {
      return this.verifyJwtAsync(token, jwt, sources, key);
    }
    return this.verifySigned(jwt, key);
  }

  /** {@link check} when it has to wait: for the key, and for introspection where the issuer asks for it on JWTs too. */
  private async verifyJwtAsync(
    token: string,
    jwt: ReadJwt,
    sources: KeySources | undefined,
    held: VerificationKey | undefined,
  ): Promise<VerifiedToken> {
    const issuer = jwt.issuer;
    const key = held ?? (await this.keys.getKey(sources ?? (await this.discoveredSources(issuer)), jwt.kid, jwt.alg));
    const verified = this.verifySigned(jwt, key);
    const introspection = issuer.introspection;
    if (introspection?.forJwts && this.introspector) {
      const answer = await this.introspector.introspect(introspection, token);
      if (answer.active !== true) throw new InvalidTokenError(Reason.Inactive, 'the authorization server says the token is not active');
    }
    return verified;
  }

  private async verifyOpaque(token: string): Promise<VerifiedToken> {
    if (this.introspector === undefined) throw new InvalidTokenError(Reason.Malformed, 'not a JWT, and no introspection is configured');
    if (token.length > 4096 || !/^[\x21-\x7E]+$/.test(token)) throw new InvalidTokenError(Reason.Malformed, 'not a token');
    // Only to the one AS the token can belong to: never disclosed to another, never failed by another's outage.
    const issuer = introspectingIssuerFor(token, this.introspected);
    if (issuer === undefined) throw new InvalidTokenError(Reason.Malformed, 'no introspecting issuer takes tokens of this form');
    const answer = await this.introspector.introspect(issuer.introspection as NonNullable<IssuerConfig['introspection']>, token);
    if (answer.active !== true) throw new InvalidTokenError(Reason.Inactive, 'the authorization server says the token is not active');
    return this.checkIntrospected(issuer, answer);
  }

  /** RFC 7662 §2.2: trust `active`, then check what the answer says like a JWT's claims. */
  private checkIntrospected(issuer: IssuerConfig, answer: Record<string, unknown>): VerifiedToken {
    const now = this.nowMs() / 1000;
    const tolerance = this.config.clockToleranceSeconds;
    if (answer.iss !== undefined && answer.iss !== issuer.issuer)
      throw new InvalidTokenError(Reason.Issuer, 'the answer names another issuer');
    checkAccessTokenAnswer(issuer.introspection as NonNullable<IssuerConfig['introspection']>, answer, issuer.audience);
    const exp = checkTimes(answer, now, tolerance, false);
    const clientId = optionalString(answer, 'client_id');
    checkClient(issuer, clientId);
    return {
      issuer,
      kid: '-',
      alg: 'introspection',
      sub: optionalString(answer, 'sub'),
      clientId,
      // RFC 7662 §2.2: `scope`, a space-separated string, is the one claim of an answer that
      // grants scopes; anything else is refused, as in a JWT.
      scopes: readScopes(answer, 'scope'),
      scopeClaim: answer.scope === undefined ? undefined : 'scope',
      authTime: userAuthTime(issuer, answer, clientId),
      exp,
      cnf: confirmation(answer),
    };
  }

  /**
   * The checks of a JWT before any key is looked up: its structure, `alg` (supported, and
   * accepted by its issuer), no `crit`, the issuer it names (exactly), the issuer profile's
   * header rule, `typ`, and a usable `kid`. Throws an {@link InvalidTokenError}.
   */
  private readJwt(token: string): ReadJwt {
    const decoded = decodeJwt(token);
    const { header, payload } = decoded;
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
    PROFILES[issuer.profile].checkHeader?.(header);
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
    return { decoded, issuer, kid, alg: alg as SignatureAlgorithm };
  }

  /** The signature (by aws-jwt-verify, with `exp` and `nbf`), then the claims. Throws an {@link InvalidTokenError}. */
  private verifySigned(jwt: ReadJwt, key: VerificationKey): VerifiedToken {
    let signatures = this.signatures.get(key);
    if (signatures === undefined) {
      signatures = new SignatureVerifier();
      this.signatures.set(key, signatures);
    }
    try {
      signatures.verifyWith(jwt.decoded, key.jwk, this.config.clockToleranceSeconds);
    } catch (error) {
      if (error instanceof JwtInvalidSignatureError) throw new InvalidTokenError(Reason.Signature, 'the signature is invalid');
      if (error instanceof JwtInvalidSignatureAlgorithmError) throw new InvalidTokenError(Reason.KeyMismatch, 'alg does not match the key');
      if (error instanceof JwtExpiredError) throw new InvalidTokenError(Reason.Expired, 'the token has expired');
      if (error instanceof JwtNotBeforeError) throw new InvalidTokenError(Reason.NotYetValid, 'the token is not valid yet');
      // Anything else aws-jwt-verify refuses happened before or in the signature check.
      throw new InvalidTokenError(Reason.Signature, `rejected: ${(error as Error).message}`.slice(0, 200));
    }
    return this.checkClaims(jwt.issuer, jwt.decoded.payload, jwt.kid, jwt.alg);
  }

  private checkClaims(issuer: IssuerConfig, payload: Record<string, unknown>, kid: string, alg: SignatureAlgorithm): VerifiedToken {
    const now = this.nowMs() / 1000;
    const tolerance = this.config.clockToleranceSeconds;
    const exp = checkTimes(payload, now, tolerance, true) as number;
    const iat = optionalNumber(payload, 'iat');
    if (iat !== undefined && iat - tolerance > now)
      throw new InvalidTokenError(Reason.IssuedInFuture, 'the token was issued in the future');
    checkClaimTypes(payload);
    // The profile's access-token rule first: an ID token is named as such, whatever its aud.
    PROFILES[issuer.profile].checkTokenUse?.(payload);
    checkAudience(payload.aud, issuer.audience);
    const clientId = clientOf(payload, issuer.clientClaims);
    checkClient(issuer, clientId);
    // One claim grants the scopes: the first of the issuer's list the token carries.
    const scopeClaim = scopeClaimOf(payload, issuer.scopeClaims);
    return {
      issuer,
      kid,
      alg,
      sub: optionalString(payload, 'sub'),
      clientId,
      scopes: scopeClaim === undefined ? [] : readScopes(payload, scopeClaim),
      scopeClaim,
      authTime: userAuthTime(issuer, payload, clientId),
      exp,
      cnf: confirmation(payload),
    };
  }
}

/**
 * The step-up rule's authentication time (RFC 9470, RFC 9068 §2.2.1): `auth_time`, never
 * `iat` (RFC 7519 §4.1.6: issuance, which a refresh renews), and nothing for a token its
 * client obtained for itself ({@link clientCredentialsMarker}), whatever `auth_time` an AS
 * put in it. Claims are read only when `auth_time` is present.
 */
function userAuthTime(issuer: IssuerConfig, claims: Record<string, unknown>, clientId: string | undefined): number | undefined {
  const authTime = optionalNumber(claims, 'auth_time');
  if (authTime === undefined) return undefined;
  return clientCredentialsMarker(PROFILES[issuer.profile], claims, clientId) === undefined ? authTime : undefined;
}

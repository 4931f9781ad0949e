/** Validation of the configuration's `issuers`: one issuer, its introspection settings, and how opaque tokens are routed among them. */
import { ConfigError } from '../errors';
import { type SignatureAlgorithm, SUPPORTED_ALGORITHMS } from '../jwk-rules';
import { isProfileName, PROFILE_NAMES, PROFILES } from '../profiles';
import { assertObject, bool, httpsUrl, int, oneOf, rejectUnknown, str, stringList } from './fields';
import type { IntrospectionConfig, IssuerConfig } from './types';

/** Normalize a JOSE `typ` media type as RFC 7515 §4.1.9 compares it. */
export function normalizeMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function parseAlgorithms(value: unknown, field: string): SignatureAlgorithm[] {
  if (value === undefined) return ['RS256', 'ES256', 'EdDSA'];
  const list = stringList(value, field, false);
  return list.map((alg, i) => {
    if (/^HS/i.test(alg) || alg.toLowerCase() === 'none') {
      throw new ConfigError(`${field}[${i}]`, `${alg} is refused: a resource server must not accept symmetric or unsigned tokens`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError(`${field}[${i}]`, `${alg} is not supported (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
    return alg as SignatureAlgorithm;
  });
}

function parseIntrospection(value: unknown, field: string): IntrospectionConfig | undefined {
  if (value === undefined) return undefined;
  assertObject(value, field);
  const optional = [
    'clientSecret',
    'clientSecretParameter',
    'clientCertificate',
    'clientKey',
    'clientCertificateParameter',
    'clientKeyParameter',
  ] as const;
  rejectUnknown(value, field, [
    'endpoint',
    'clientId',
    ...optional,
    'cacheMaxSeconds',
    'timeoutMs',
    'forJwts',
    'omitsAudience',
    'accessTokenTypes',
    'tokenPrefix',
  ]);
  const out: IntrospectionConfig = {
    endpoint: httpsUrl(value.endpoint, `${field}.endpoint`),
    clientId: str(value.clientId, `${field}.clientId`),
    cacheMaxSeconds: int(value.cacheMaxSeconds, `${field}.cacheMaxSeconds`, 60, 0, 3600),
    timeoutMs: int(value.timeoutMs, `${field}.timeoutMs`, 100, 10, 5000),
    forJwts: bool(value.forJwts, `${field}.forJwts`),
    omitsAudience: bool(value.omitsAudience, `${field}.omitsAudience`),
    accessTokenTypes:
      value.accessTokenTypes === undefined ? ['Bearer', 'DPoP'] : stringList(value.accessTokenTypes, `${field}.accessTokenTypes`, false),
    tokenPrefix: value.tokenPrefix === undefined ? undefined : str(value.tokenPrefix, `${field}.tokenPrefix`),
  };
  for (const name of optional) if (value[name] !== undefined) out[name] = str(value[name], `${field}.${name}`);
  const secret = [out.clientSecret, out.clientSecretParameter].filter((v) => v !== undefined).length;
  const cert = out.clientCertificate !== undefined || out.clientCertificateParameter !== undefined;
  const key = out.clientKey !== undefined || out.clientKeyParameter !== undefined;
  if (cert !== key) throw new ConfigError(field, 'a client certificate needs its key, and a key its certificate');
  if (secret > 1 || (secret === 0 && !cert)) {
    throw new ConfigError(field, 'needs exactly one of clientSecret and clientSecretParameter, or a client certificate and key');
  }
  return out;
}

const CLAIM_NAME = /^[\x21-\x7E]{1,64}$/;

function claimList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = stringList(value, field, false);
  list.forEach((claim, i) => {
    if (!CLAIM_NAME.test(claim)) throw new ConfigError(`${field}[${i}]`, `${JSON.stringify(claim)} is not a claim name`);
  });
  return [...new Set(list)];
}

/**
 * An issuer's settings that do not say where its keys are: the keys a `cdk.json` environment's
 * issuer passes to the configuration as they are (`lib/environment.ts`), beside its own
 * `issuer`, `jwksUri` and `jwksFallbackUris`.
 */
export const ISSUER_SETTING_KEYS = [
  'profile',
  'audience',
  'clientIds',
  'clientClaim',
  'algorithms',
  'tokenType',
  'scopeClaim',
  'introspection',
  'senderConstraint',
] as const;

/** Validate `issuers[i]` (`field`), appending its profile's warnings to `warnings`. */
export function parseIssuer(value: unknown, field: string, warnings: string[]): IssuerConfig {
  assertObject(value, field);
  rejectUnknown(value, field, ['issuer', 'jwksUri', 'jwksFallbackUris', ...ISSUER_SETTING_KEYS]);
  const senderConstraint = oneOf(value.senderConstraint, `${field}.senderConstraint`, ['optional', 'required'], 'optional');
  const profileName = value.profile ?? 'rfc9068';
  if (!isProfileName(profileName)) throw new ConfigError(`${field}.profile`, `must be one of ${PROFILE_NAMES.join(', ')}`);
  const profile = PROFILES[profileName];
  const issuer = str(value.issuer, `${field}.issuer`);
  const audience = value.audience === undefined ? [] : stringList(value.audience, `${field}.audience`, false);
  const clientIds = value.clientIds === undefined ? undefined : stringList(value.clientIds, `${field}.clientIds`, false);
  if (audience.length === 0 && profileName !== 'cognito') {
    // RFC 9068 §4: the resource server MUST check aud. Without it, a token the issuer gave a
    // client for another API (or with no aud, an OIDC ID token) would be accepted.
    throw new ConfigError(
      `${field}.audience`,
      "is required (the API's identifier, which the token's aud must contain); only the cognito profile goes without, since Cognito access tokens carry no aud",
    );
  }
  if (audience.length === 0 && clientIds === undefined) {
    // Cognito without clientIds: every access token of the pool, for any app client, would pass.
    throw new ConfigError(
      `${field}.clientIds`,
      'is required with the cognito profile (the app clients whose access tokens this API takes)',
    );
  }
  const jwksUri = value.jwksUri === undefined ? profile.jwksUriFor?.(issuer) : httpsUrl(value.jwksUri, `${field}.jwksUri`);
  if (jwksUri === undefined) {
    try {
      httpsUrl(issuer, `${field}.issuer`);
    } catch (error) {
      throw new ConfigError(
        `${field}.jwksUri`,
        `is required when the issuer is not an https URL to discover it from (${(error as Error).message})`,
      );
    }
  }
  const jwksFallbackUris =
    value.jwksFallbackUris === undefined ? [] : stringList(value.jwksFallbackUris, `${field}.jwksFallbackUris`, true);
  for (const [i, uri] of jwksFallbackUris.entries()) httpsUrl(uri, `${field}.jwksFallbackUris[${i}]`);
  for (const warning of profile.warnings?.({ issuer, audience, clientIds }) ?? []) warnings.push(`${field}: ${warning}`);
  return {
    issuer,
    jwksUri,
    jwksFallbackUris,
    jwksUris: jwksUri === undefined ? undefined : [...new Set([jwksUri, ...jwksFallbackUris])],
    audience,
    profile: profileName,
    clientIds,
    clientClaims: claimList(value.clientClaim, `${field}.clientClaim`) ?? profile.clientClaims,
    algorithms: parseAlgorithms(value.algorithms, `${field}.algorithms`),
    tokenType: value.tokenType === undefined ? undefined : normalizeMediaType(str(value.tokenType, `${field}.tokenType`)),
    scopeClaims: claimList(value.scopeClaim, `${field}.scopeClaim`) ?? profile.scopeClaims,
    introspection: parseIntrospection(value.introspection, `${field}.introspection`),
    senderConstraint,
  };
}

/** Opaque tokens must go to one introspecting issuer: at most one without a `tokenPrefix`, and no prefix overlapping another. */
export function checkIntrospectionRouting(issuers: IssuerConfig[]): void {
  const introspecting = issuers.flatMap((issuer, i) => (issuer.introspection ? [{ i, prefix: issuer.introspection.tokenPrefix }] : []));
  if (introspecting.length < 2) return;
  const unprefixed = introspecting.filter((x) => x.prefix === undefined);
  if (unprefixed.length > 1) {
    throw new ConfigError(
      `issuers[${unprefixed[1]?.i}].introspection.tokenPrefix`,
      `is needed: issuers[${unprefixed[0]?.i}] introspects without a tokenPrefix too, and an opaque token must go to the one AS it can belong to`,
    );
  }
  for (const a of introspecting) {
    for (const b of introspecting) {
      if (
        a.i < b.i &&
        a.prefix !== undefined &&
        b.prefix !== undefined &&
        (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix))
      ) {
        throw new ConfigError(
          `issuers[${b.i}].introspection.tokenPrefix`,
          `overlaps issuers[${a.i}].introspection.tokenPrefix: a token could belong to both`,
        );
      }
    }
  }
}

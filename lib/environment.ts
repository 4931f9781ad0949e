import { isProfileName, type ProfileName } from '../functions/authorizer/profiles';
import { isJsonObject } from '../functions/shared/json';
import { cognitoIssuerUrl } from './cognito-issuer';

/**
 * The per-environment settings `bin/app.ts` reads from `cdk.json` context
 * (`environments.NAME`), validated with messages that say what is missing.
 */

/** An issuer of one environment. */
export interface EnvironmentIssuer {
  /** Short name; the mirror object is `NAME/jwks.json`. */
  name: string;
  /** Given, or derived from `userPoolId` (`https://cognito-idp.{region}.amazonaws.com/{userPoolId}`). */
  issuer: string;
  /** Empty when only `clientIds` is checked (Cognito access tokens carry no `aud`). */
  audience: string[];
  /** The identity-provider profile (docs/providers.md); `cognito` when `userPoolId` is given. */
  profile?: ProfileName;
  /** The token's client must be one of these (the app client ids of a user pool). */
  clientIds?: string[];
  clientClaim?: string | string[];
  algorithms?: string[];
  tokenType?: string;
  scopeClaim?: string | string[];
  /** The issuer's own key set URL, when OIDC discovery is not available. */
  originJwksUri?: string;
}

/** Everything one environment deploys with. */
export interface EnvironmentSettings {
  name: string;
  account: string;
  region: string;
  issuers: EnvironmentIssuer[];
  /** API Gateway authorizer cache TTL, seconds (≤ 3600). */
  authorizerCacheTtlSeconds: number;
  clockToleranceSeconds: number;
  rotation: {
    /** Minutes between audits. */
    scheduleMinutes: number;
    maxKeyAgeDays: number;
    /** Longest acceptable key set caching; also the edge's max TTL. */
    maxCacheTtlSeconds: number;
    /** The edge's default TTL for a key set. */
    mirrorTtlSeconds: number;
  };
  alarmEmail: string | undefined;
  throttling: { rateLimit: number; burstLimit: number };
  /** Deploy the demo API with the contract's example routes. */
  demoApi: boolean;
  /** `report-only` lets valid tokens through and logs what would be denied (docs/attaching.md). Default `enforce`. */
  enforcement: 'enforce' | 'report-only';
  /** X-Ray active tracing on the functions. Default false. */
  tracing: boolean;
}

/**
 * Read environment `name` from the `environments` context value. Throws an error that
 * names the environment and the missing or bad setting.
 */
export function readEnvironment(environments: unknown, name: unknown): EnvironmentSettings {
  if (!isJsonObject(environments)) throw new Error('cdk.json has no "environments" context');
  const known = Object.keys(environments).join(', ');
  if (typeof name !== 'string' || name.length === 0) throw new Error(`choose an environment with -c env=NAME (known: ${known})`);
  const raw = environments[name];
  if (!isJsonObject(raw)) throw new Error(`environment "${name}" is not defined in cdk.json (known: ${known})`);
  const at = (field: string) => `environments.${name}.${field}`;
  const str = (v: unknown, field: string) => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`${at(field)} is missing or not a string`);
    return v;
  };
  const num = (v: unknown, field: string, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new Error(`${at(field)} must be an integer from ${min} to ${max}`);
    return v;
  };
  const account = str(raw.account, 'account');
  if (!/^\d{12}$/.test(account)) throw new Error(`${at('account')} must be a 12-digit AWS account id`);
  const region = str(raw.region, 'region');
  if (!Array.isArray(raw.issuers) || raw.issuers.length === 0) throw new Error(`${at('issuers')} is missing or empty`);
  const issuers = raw.issuers.map((item, i): EnvironmentIssuer => {
    if (!isJsonObject(item)) throw new Error(`${at(`issuers[${i}]`)} must be an object`);
    const audience = item.audience === undefined ? [] : typeof item.audience === 'string' ? [item.audience] : item.audience;
    if (!Array.isArray(audience)) throw new Error(`${at(`issuers[${i}].audience`)} must be a string or a list`);
    const clientIds = item.clientIds === undefined ? undefined : item.clientIds;
    if (clientIds !== undefined && (!Array.isArray(clientIds) || clientIds.length === 0)) {
      throw new Error(`${at(`issuers[${i}].clientIds`)} must be a non-empty list of app client ids`);
    }
    const issuerName = str(item.name, `issuers[${i}].name`);
    if (!/^[a-z0-9-]+$/.test(issuerName)) throw new Error(`${at(`issuers[${i}].name`)} must be lower-case letters, digits and dashes`);
    let issuer: string;
    let profile = item.profile;
    if (item.userPoolId !== undefined) {
      // A Cognito user pool named by its id: the issuer and the profile follow from it.
      try {
        issuer = cognitoIssuerUrl(str(item.userPoolId, `issuers[${i}].userPoolId`));
      } catch (error) {
        throw new Error(`${at(`issuers[${i}].userPoolId`)}: ${(error as Error).message}`);
      }
      if (item.issuer !== undefined) throw new Error(`${at(`issuers[${i}]`)} has both issuer and userPoolId; give one`);
      if (clientIds === undefined) throw new Error(`${at(`issuers[${i}].clientIds`)} is required with userPoolId (the app client ids)`);
      profile ??= 'cognito';
    } else {
      issuer = str(item.issuer, `issuers[${i}].issuer`);
    }
    if (audience.length === 0 && clientIds === undefined) {
      throw new Error(`${at(`issuers[${i}].audience`)} is missing (give audience, clientIds or both)`);
    }
    if (profile !== undefined && !isProfileName(profile)) throw new Error(`${at(`issuers[${i}].profile`)} is not a known profile`);
    return {
      name: issuerName,
      issuer,
      audience: audience.map((a, j) => str(a, `issuers[${i}].audience[${j}]`)),
      ...(profile !== undefined ? { profile } : {}),
      ...(clientIds !== undefined ? { clientIds: clientIds.map((c, j) => str(c, `issuers[${i}].clientIds[${j}]`)) } : {}),
      ...(item.clientClaim !== undefined ? { clientClaim: item.clientClaim as string | string[] } : {}),
      algorithms: item.algorithms as string[] | undefined,
      tokenType: item.tokenType as string | undefined,
      scopeClaim: item.scopeClaim as string | string[] | undefined,
      originJwksUri: item.originJwksUri as string | undefined,
    };
  });
  const rotation = isJsonObject(raw.rotation) ? raw.rotation : {};
  const throttling = isJsonObject(raw.throttling) ? raw.throttling : {};
  const maxCacheTtlSeconds = num(rotation.maxCacheTtlSeconds, 'rotation.maxCacheTtlSeconds', 3600, 60, 86400);
  const mirrorTtlSeconds = num(rotation.mirrorTtlSeconds, 'rotation.mirrorTtlSeconds', 300, 0, maxCacheTtlSeconds);
  if (raw.alarmEmail !== undefined) str(raw.alarmEmail, 'alarmEmail');
  return {
    name,
    account,
    region,
    issuers,
    authorizerCacheTtlSeconds: num(raw.authorizerCacheTtlSeconds, 'authorizerCacheTtlSeconds', 300, 0, 3600),
    clockToleranceSeconds: num(raw.clockToleranceSeconds, 'clockToleranceSeconds', 30, 0, 300),
    rotation: {
      scheduleMinutes: num(rotation.scheduleMinutes, 'rotation.scheduleMinutes', 60, 1, 1440),
      maxKeyAgeDays: num(rotation.maxKeyAgeDays, 'rotation.maxKeyAgeDays', 90, 1, 3650),
      maxCacheTtlSeconds,
      mirrorTtlSeconds,
    },
    alarmEmail: raw.alarmEmail as string | undefined,
    throttling: {
      rateLimit: num(throttling.rateLimit, 'throttling.rateLimit', 100, 1, 10000),
      burstLimit: num(throttling.burstLimit, 'throttling.burstLimit', 200, 1, 5000),
    },
    demoApi: raw.demoApi !== false,
    enforcement: readEnforcement(raw.enforcement, at('enforcement')),
    tracing: raw.tracing === true,
  };
}

function readEnforcement(value: unknown, field: string): 'enforce' | 'report-only' {
  if (value === undefined) return 'enforce';
  if (value !== 'enforce' && value !== 'report-only') throw new Error(`${field} must be "enforce" or "report-only"`);
  return value;
}

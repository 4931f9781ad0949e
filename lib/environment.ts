import { ENFORCEMENTS, Enforcement } from '../functions/authorizer/config';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../functions/authorizer/profiles';
import { ConfigError } from '../functions/shared/errors';
import { assertObject, int, oneOf, str, stringList } from '../functions/shared/fields';
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
  enforcement: Enforcement;
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
  const account = str(raw.account, at('account'));
  if (!/^\d{12}$/.test(account)) throw new ConfigError(at('account'), 'must be a 12-digit AWS account id');
  const region = str(raw.region, at('region'));
  if (!Array.isArray(raw.issuers) || raw.issuers.length === 0) throw new ConfigError(at('issuers'), 'must be a non-empty list');
  const issuers = raw.issuers.map((item, i): EnvironmentIssuer => {
    const field = at(`issuers[${i}]`);
    assertObject(item, field);
    const audience = item.audience === undefined ? [] : stringList(item.audience, `${field}.audience`, true);
    const clientIds = item.clientIds === undefined ? undefined : stringList(item.clientIds, `${field}.clientIds`, false);
    const issuerName = str(item.name, `${field}.name`);
    if (!/^[a-z0-9-]+$/.test(issuerName)) throw new ConfigError(`${field}.name`, 'must be lower-case letters, digits and dashes');
    let issuer: string;
    let profile = item.profile;
    if (item.userPoolId !== undefined) {
      // A Cognito user pool named by its id: the issuer and the profile follow from it.
      const userPoolId = str(item.userPoolId, `${field}.userPoolId`);
      try {
        issuer = cognitoIssuerUrl(userPoolId);
      } catch (error) {
        throw new ConfigError(`${field}.userPoolId`, (error as Error).message);
      }
      if (item.issuer !== undefined) throw new ConfigError(field, 'has both issuer and userPoolId; give one');
      if (clientIds === undefined) throw new ConfigError(`${field}.clientIds`, 'is required with userPoolId (the app client ids)');
      profile ??= 'cognito';
    } else {
      issuer = str(item.issuer, `${field}.issuer`);
    }
    // The authorizer's rule (functions/authorizer/config.ts), early and with this field's name.
    if (audience.length === 0 && profile !== 'cognito') {
      throw new ConfigError(`${field}.audience`, "is required (the API's identifier); only the cognito profile goes without");
    }
    if (audience.length === 0 && clientIds === undefined) {
      throw new ConfigError(`${field}.clientIds`, 'is required with the cognito profile (the app client ids)');
    }
    if (profile !== undefined && !isProfileName(profile)) {
      throw new ConfigError(`${field}.profile`, `must be one of ${PROFILE_NAMES.join(', ')}`);
    }
    return {
      name: issuerName,
      issuer,
      audience,
      ...(profile !== undefined ? { profile } : {}),
      ...(clientIds !== undefined ? { clientIds } : {}),
      ...(item.clientClaim !== undefined ? { clientClaim: item.clientClaim as string | string[] } : {}),
      algorithms: item.algorithms as string[] | undefined,
      tokenType: item.tokenType as string | undefined,
      scopeClaim: item.scopeClaim as string | string[] | undefined,
      originJwksUri: item.originJwksUri as string | undefined,
    };
  });
  const rotation = isJsonObject(raw.rotation) ? raw.rotation : {};
  const throttling = isJsonObject(raw.throttling) ? raw.throttling : {};
  const maxCacheTtlSeconds = int(rotation.maxCacheTtlSeconds, at('rotation.maxCacheTtlSeconds'), 3600, 60, 86400);
  const mirrorTtlSeconds = int(rotation.mirrorTtlSeconds, at('rotation.mirrorTtlSeconds'), 300, 0, maxCacheTtlSeconds);
  if (raw.alarmEmail !== undefined) str(raw.alarmEmail, at('alarmEmail'));
  return {
    name,
    account,
    region,
    issuers,
    authorizerCacheTtlSeconds: int(raw.authorizerCacheTtlSeconds, at('authorizerCacheTtlSeconds'), 300, 0, 3600),
    clockToleranceSeconds: int(raw.clockToleranceSeconds, at('clockToleranceSeconds'), 30, 0, 300),
    rotation: {
      scheduleMinutes: int(rotation.scheduleMinutes, at('rotation.scheduleMinutes'), 60, 1, 1440),
      maxKeyAgeDays: int(rotation.maxKeyAgeDays, at('rotation.maxKeyAgeDays'), 90, 1, 3650),
      maxCacheTtlSeconds,
      mirrorTtlSeconds,
    },
    alarmEmail: raw.alarmEmail as string | undefined,
    throttling: {
      rateLimit: int(throttling.rateLimit, at('throttling.rateLimit'), 100, 1, 10000),
      burstLimit: int(throttling.burstLimit, at('throttling.burstLimit'), 200, 1, 5000),
    },
    demoApi: raw.demoApi !== false,
    enforcement: oneOf(raw.enforcement, at('enforcement'), ENFORCEMENTS, Enforcement.ENFORCE),
    tracing: raw.tracing === true,
  };
}

import { resolve } from 'node:path';
import { Enforcement, parseConfig, type Unrouted } from '../core/config';
import { assertObject, bool, FieldErrors, httpsUrl, int, oneOf, rejectUnknown, str, stringList } from '../core/config/fields';
import { ISSUER_SETTING_KEYS } from '../core/config/issuers';
import { ConfigError, ConfigErrors } from '../core/errors';
import { isJsonObject, type JsonObject } from '../core/json';
import type { ProfileName } from '../core/profiles';
import { cognitoIssuerUrl } from './cognito-issuer';
import type { SenderConstraint } from './introspection';
import { AuthorizerMode } from './scope-authorizer-props';
import { FILE_FIELD, RouteTable } from './scopegate';

/**
 * The per-environment settings `bin/app.ts` reads from `cdk.json` context
 * (`environments.NAME`). Every key is checked, with the validators the authorizer's own
 * configuration uses (`core/config/fields.ts`, and `parseConfig` itself for the settings
 * the configuration shares): an unknown key is an error, and every error of the environment
 * is reported in one run, each naming the environment and the key.
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
  /** RFC 7662 introspection, as the configuration writes it (secrets in SSM parameters only). */
  introspection?: {
    endpoint: string;
    clientId: string;
    clientSecretParameter?: string;
    clientCertificateParameter?: string;
    clientKeyParameter?: string;
    cacheMaxSeconds?: number;
    timeoutMs?: number;
    forJwts?: boolean;
    omitsAudience?: boolean;
    accessTokenTypes?: string[];
    tokenPrefix?: string;
  };
  senderConstraint?: SenderConstraint;
}

/** The route table an environment names: a route table file, or an OpenAPI document. */
export interface EnvironmentRoutes {
  /** `routes` (a JSON route table) or `openapi` (an OpenAPI 3 document). */
  kind: 'routes' | 'openapi';
  /** The file as cdk.json names it (relative to the project directory). */
  file: string;
  /** The table, read and checked. */
  table: RouteTable;
}

/** Everything one environment deploys with. */
export interface EnvironmentSettings {
  name: string;
  account: string;
  region: string;
  issuers: EnvironmentIssuer[];
  /** The route table the environment deploys (`routes` or `openapi`). */
  routes: EnvironmentRoutes;
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
  /** Stage throttling of the demo API. */
  throttling: { rateLimit: number; burstLimit: number };
  /** Deploy the demo API (mock integrations over the route table). Default false. */
  demoApi: boolean;
  /** `report-only` lets valid tokens through and logs what would be denied (docs/attaching.md). Default `enforce`. */
  enforcement: Enforcement;
  /** X-Ray active tracing on the functions. Default false. */
  tracing: boolean;
  /** The REST authorizer's mode. Default `token`. */
  mode: AuthorizerMode;
  /** Whether requests no route matches reach the authorizer; default: the construct's (`deny` without the demo API). */
  unrouted: Unrouted | undefined;
  /** The configuration's `maxTokenBytes`, when set. */
  maxTokenBytes: number | undefined;
  /** The configuration's `minRsaBits`, when set. */
  minRsaBits: number | undefined;
  /** The configuration's `jwks.*`, when set. */
  jwks: { maxBytes?: number; timeoutMs?: number; minRefetchIntervalSeconds?: number; maxAgeSeconds?: number } | undefined;
}

/** The keys of an environment. */
export const ENVIRONMENT_KEYS = [
  'account',
  'region',
  'issuers',
  'routes',
  'openapi',
  'demoApi',
  'authorizerCacheTtlSeconds',
  'clockToleranceSeconds',
  'enforcement',
  'unrouted',
  'mode',
  'maxTokenBytes',
  'minRsaBits',
  'jwks',
  'rotation',
  'alarmEmail',
  'throttling',
  'tracing',
] as const;

/** The keys of an environment's issuer: the configuration's issuer settings, and how the environment finds its keys. */
export const ENVIRONMENT_ISSUER_KEYS = ['name', 'issuer', 'userPoolId', 'originJwksUri', ...ISSUER_SETTING_KEYS] as const;

/** Keys of an environment that are the authorizer configuration's own, checked by its validator. */
const CONFIG_KEYS = ['clockToleranceSeconds', 'maxTokenBytes', 'minRsaBits', 'enforcement', 'unrouted'] as const;
const JWKS_KEYS = ['maxBytes', 'timeoutMs', 'minRefetchIntervalSeconds', 'maxAgeSeconds'] as const;
const ROTATION_KEYS = ['scheduleMinutes', 'maxKeyAgeDays', 'maxCacheTtlSeconds', 'mirrorTtlSeconds'] as const;
const THROTTLING_KEYS = ['rateLimit', 'burstLimit'] as const;
const MODES: readonly AuthorizerMode[] = Object.values(AuthorizerMode);

/** A valid issuer the environment's settings are checked beside (only their own errors are reported). */
const STAND_IN_ISSUER = { issuer: 'https://issuer.invalid', audience: 'stand-in' };

/**
 * Read environment `name` from the `environments` context value. Relative route table files
 * are read from `projectDir` (cdk.json's directory, where `cdk synth` runs). Throws a
 * {@link ConfigErrors} with every bad or unknown key of the environment, each named
 * (`environments.prod.alarmEmial: unknown key; did you mean "alarmEmail"? …`).
 */
export function readEnvironment(environments: unknown, name: unknown, projectDir: string = process.cwd()): EnvironmentSettings {
  if (!isJsonObject(environments)) throw new Error('cdk.json has no "environments" context');
  const known = Object.keys(environments).join(', ');
  if (typeof name !== 'string' || name.length === 0) throw new Error(`choose an environment with -c env=NAME (known: ${known})`);
  const raw = environments[name];
  if (!isJsonObject(raw)) throw new Error(`environment "${name}" is not defined in cdk.json (known: ${known})`);
  const at = (field: string) => `environments.${name}.${field}`;
  const errors = new FieldErrors();

  unknownKeys(errors, raw, at, '', ENVIRONMENT_KEYS);
  const account = errors.check(() => str(raw.account, at('account')));
  if (account !== undefined && !/^\d{12}$/.test(account)) errors.add(at('account'), 'must be a 12-digit AWS account id');
  const region = errors.check(() => str(raw.region, at('region')));

  // The settings the authorizer's configuration shares are checked by its own validator, one by one.
  for (const key of CONFIG_KEYS) if (raw[key] !== undefined) configErrors(errors, at, { [key]: raw[key] });
  if (raw.jwks !== undefined) {
    if (isJsonObject(raw.jwks)) {
      unknownKeys(errors, raw.jwks, at, 'jwks.', JWKS_KEYS);
      for (const key of JWKS_KEYS) if (raw.jwks[key] !== undefined) configErrors(errors, at, { jwks: { [key]: raw.jwks[key] } });
    } else configErrors(errors, at, { jwks: raw.jwks });
  }

  const demoApi = errors.check(() => bool(raw.demoApi, at('demoApi'))) ?? false;
  const mode = errors.check(() => oneOf(raw.mode, at('mode'), MODES, AuthorizerMode.TOKEN)) ?? AuthorizerMode.TOKEN;
  const issuers = readIssuers(errors, raw.issuers, at, mode);
  const routes = readRoutes(errors, raw, at, projectDir);

  const rotation = objectOf(errors, raw.rotation, at('rotation'));
  unknownKeys(errors, rotation, at, 'rotation.', ROTATION_KEYS);
  const throttling = objectOf(errors, raw.throttling, at('throttling'));
  unknownKeys(errors, throttling, at, 'throttling.', THROTTLING_KEYS);
  if (raw.throttling !== undefined && !demoApi) {
    errors.add(at('throttling'), 'applies to the demo API\'s stage only: set "demoApi": true, or throttle your own API');
  }
  const cacheTtlSeconds = errors.check(() => int(raw.authorizerCacheTtlSeconds, at('authorizerCacheTtlSeconds'), 300, 0, 3600)) ?? 300;
  if (mode === AuthorizerMode.REQUEST && raw.authorizerCacheTtlSeconds !== undefined && cacheTtlSeconds > 0) {
    errors.add(
      at('authorizerCacheTtlSeconds'),
      'must be 0 with "mode": "request" (a DPoP proof is bound to one request, and no cached answer may outlive it)',
    );
  }
  const maxCacheTtlSeconds =
    errors.check(() => int(rotation.maxCacheTtlSeconds, at('rotation.maxCacheTtlSeconds'), 3600, 60, 86400)) ?? 3600;
  const alarmEmail = raw.alarmEmail === undefined ? undefined : errors.check(() => str(raw.alarmEmail, at('alarmEmail')));
  const settings: EnvironmentSettings = {
    name,
    account: account ?? '',
    region: region ?? '',
    issuers,
    routes: routes as EnvironmentRoutes,
    authorizerCacheTtlSeconds: mode === AuthorizerMode.REQUEST ? 0 : cacheTtlSeconds,
    clockToleranceSeconds: raw.clockToleranceSeconds === undefined ? 30 : (raw.clockToleranceSeconds as number),
    rotation: {
      scheduleMinutes: errors.check(() => int(rotation.scheduleMinutes, at('rotation.scheduleMinutes'), 60, 1, 1440)) ?? 60,
      maxKeyAgeDays: errors.check(() => int(rotation.maxKeyAgeDays, at('rotation.maxKeyAgeDays'), 90, 1, 3650)) ?? 90,
      maxCacheTtlSeconds,
      mirrorTtlSeconds:
        errors.check(() => int(rotation.mirrorTtlSeconds, at('rotation.mirrorTtlSeconds'), 300, 0, maxCacheTtlSeconds)) ?? 300,
    },
    alarmEmail,
    throttling: {
      rateLimit: errors.check(() => int(throttling.rateLimit, at('throttling.rateLimit'), 100, 1, 10000)) ?? 100,
      burstLimit: errors.check(() => int(throttling.burstLimit, at('throttling.burstLimit'), 200, 1, 5000)) ?? 200,
    },
    demoApi,
    enforcement: (raw.enforcement as Enforcement | undefined) ?? Enforcement.ENFORCE,
    tracing: errors.check(() => bool(raw.tracing, at('tracing'))) ?? false,
    mode,
    unrouted: raw.unrouted as Unrouted | undefined,
    maxTokenBytes: raw.maxTokenBytes as number | undefined,
    minRsaBits: raw.minRsaBits as number | undefined,
    jwks: raw.jwks as EnvironmentSettings['jwks'],
  };
  // Every value cast above was checked by the configuration's validator (configErrors).
  errors.throwIfAny(`environment "${name}" of cdk.json`);
  return settings;
}

/** `value` as an object (absent: empty), or an error naming `field`. */
function objectOf(errors: FieldErrors, value: unknown, field: string): JsonObject {
  if (value === undefined) return {};
  return (
    errors.check(() => {
      assertObject(value, field);
      return value;
    }) ?? {}
  );
}

/**
 * Every key of `value` that is not in `known`, each its own error, with the known key it most
 * likely misspells (`alarmEmial` → `alarmEmail`, `authorizerCacheTTLSeconds` → `authorizerCacheTtlSeconds`).
 */
function unknownKeys(
  errors: FieldErrors,
  value: JsonObject,
  at: (field: string) => string,
  prefix: string,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    try {
      rejectUnknown({ [key]: value[key] }, at(prefix.replace(/\.$/, '')), known);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const guess = closest(key, known);
      errors.add(
        `${at(prefix)}${key}`,
        `unknown key${guess === undefined ? '' : `; did you mean "${guess}"?`} (known: ${known.join(', ')})`,
      );
    }
  }
}

/** The known key `key` most likely misspells: the same but for case, or at most two edits away. */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Levenshtein distance, with a transposition counted as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * Check settings that are the authorizer configuration's with its own validator (`parseConfig`),
 * keeping the error under the environment's name for it. Top-level settings and an issuer's
 * settings one by one are checked beside a valid stand-in issuer; `issuer.whole` checks an
 * issuer's settings together, as they are.
 */
function configErrors(
  errors: FieldErrors,
  at: (field: string) => string,
  settings: JsonObject,
  issuer?: { index: number; whole: boolean },
): void {
  const document =
    issuer === undefined
      ? { issuers: [STAND_IN_ISSUER], routes: [], ...settings }
      : { issuers: [issuer.whole ? settings : { ...STAND_IN_ISSUER, ...settings }], routes: [] };
  try {
    parseConfig(document);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = issuer === undefined ? error.field : error.field.replace(/^issuers\[0\]/, `issuers[${issuer.index}]`);
    errors.add(at(field), error.message.slice(error.field.length + 2));
  }
}

/** The environment's issuers, each key checked. */
function readIssuers(errors: FieldErrors, value: unknown, at: (field: string) => string, mode: AuthorizerMode): EnvironmentIssuer[] {
  if (!Array.isArray(value) || value.length === 0) {
    errors.add(at('issuers'), 'must be a non-empty list');
    return [];
  }
  const names = new Map<string, number>();
  return value.flatMap((item, i): EnvironmentIssuer[] => {
    const field = at(`issuers[${i}]`);
    const before = errors.errors.length;
    if (!isJsonObject(item)) {
      errors.add(field, 'must be an object');
      return [];
    }
    for (const key of Object.keys(item)) {
      if (key === 'jwksUri' || key === 'jwksFallbackUris') {
        errors.add(
          `${field}.${key}`,
          'is set by the deployment (the mirror first, then the issuer); give originJwksUri for an issuer without OIDC discovery',
        );
      }
    }
    unknownKeys(
      errors,
      Object.fromEntries(Object.entries(item).filter(([key]) => key !== 'jwksUri' && key !== 'jwksFallbackUris')),
      at,
      `issuers[${i}].`,
      ENVIRONMENT_ISSUER_KEYS,
    );
    const issuerName = errors.check(() => str(item.name, `${field}.name`));
    if (issuerName !== undefined && !/^[a-z0-9-]+$/.test(issuerName))
      errors.add(`${field}.name`, 'must be lower-case letters, digits and dashes');
    if (issuerName !== undefined) {
      const first = names.get(issuerName);
      if (first !== undefined) errors.add(`${field}.name`, `duplicates issuers[${first}].name (each issuer has its own mirror object)`);
      names.set(issuerName, i);
    }

    let issuer: string | undefined;
    let profile = item.profile;
    if (item.userPoolId !== undefined) {
      // A Cognito user pool named by its id: the issuer and the profile follow from it.
      const userPoolId = errors.check(() => str(item.userPoolId, `${field}.userPoolId`));
      if (userPoolId !== undefined) {
        try {
          issuer = cognitoIssuerUrl(userPoolId);
        } catch (error) {
          errors.add(`${field}.userPoolId`, (error as Error).message);
        }
      }
      if (item.issuer !== undefined) errors.add(field, 'has both issuer and userPoolId; give one');
      if (item.clientIds === undefined) errors.add(`${field}.clientIds`, 'is required with userPoolId (the app client ids)');
      profile ??= 'cognito';
    } else {
      // The checker discovers the issuer's keys from it, and the authorizer falls back to it:
      // https for every profile, whatever the profile derives.
      issuer = errors.check(() => httpsUrl(item.issuer, `${field}.issuer`));
    }
    if (item.originJwksUri !== undefined) errors.check(() => httpsUrl(item.originJwksUri, `${field}.originJwksUri`));

    // The configuration's issuer settings, by the authorizer's validator: each alone, then together.
    const settings: JsonObject = {};
    for (const key of ISSUER_SETTING_KEYS) {
      if (key === 'introspection') continue; // below, with its secrets
      if (item[key] !== undefined) settings[key] = item[key];
    }
    if (profile !== undefined) settings.profile = profile;
    for (const [key, setting] of Object.entries(settings)) configErrors(errors, at, { [key]: setting }, { index: i, whole: false });
    if (item.introspection !== undefined) {
      if (isJsonObject(item.introspection)) {
        for (const secret of ['clientSecret', 'clientCertificate', 'clientKey'] as const) {
          if (item.introspection[secret] !== undefined) {
            errors.add(
              `${field}.introspection.${secret}`,
              `is not deployed inline (it would be written into the template and a plain String parameter): put it in an SSM SecureString and give ${secret}Parameter`,
            );
          }
        }
      }
      configErrors(errors, at, { introspection: item.introspection }, { index: i, whole: false });
    }
    if (settings.senderConstraint === 'required' && mode !== AuthorizerMode.REQUEST) {
      errors.add(
        `${field}.senderConstraint`,
        '"required" refuses every token of a TOKEN authorizer (it sees no request to check a binding against, and caches its answer): set "mode": "request"',
      );
    }
    if (errors.errors.length > before) return [];
    // Together: what one setting requires of another (audience unless cognito, clientIds with cognito).
    configErrors(
      errors,
      at,
      { issuer: issuer as string, ...settings, ...(item.introspection ? { introspection: item.introspection } : {}) },
      { index: i, whole: true },
    );
    if (errors.errors.length > before) return [];
    const audience = item.audience === undefined ? [] : stringList(item.audience, `${field}.audience`, true);
    return [
      {
        name: issuerName as string,
        issuer: issuer as string,
        audience,
        ...(profile !== undefined ? { profile: profile as ProfileName } : {}),
        ...(item.clientIds !== undefined ? { clientIds: stringList(item.clientIds, `${field}.clientIds`, false) } : {}),
        ...(item.clientClaim !== undefined ? { clientClaim: item.clientClaim as string | string[] } : {}),
        algorithms: item.algorithms as string[] | undefined,
        tokenType: item.tokenType as string | undefined,
        scopeClaim: item.scopeClaim as string | string[] | undefined,
        originJwksUri: item.originJwksUri as string | undefined,
        ...(item.introspection !== undefined ? { introspection: item.introspection as EnvironmentIssuer['introspection'] } : {}),
        ...(item.senderConstraint !== undefined ? { senderConstraint: item.senderConstraint as SenderConstraint } : {}),
      },
    ];
  });
}

/** The route table the environment names: `routes` or `openapi`, read and checked. */
function readRoutes(
  errors: FieldErrors,
  raw: JsonObject,
  at: (field: string) => string,
  projectDir: string,
): EnvironmentRoutes | undefined {
  if (raw.routes !== undefined && raw.openapi !== undefined) {
    errors.add(at('openapi'), 'an environment has one route table: give routes or openapi, not both');
    return undefined;
  }
  const kind = raw.openapi !== undefined ? 'openapi' : 'routes';
  if (raw[kind] === undefined) {
    errors.add(
      at('routes'),
      'is required: name the route table the environment deploys, "routes": "FILE.json" (a route table) or "openapi": "FILE.yaml" (an OpenAPI 3 document)',
    );
    return undefined;
  }
  const file = errors.check(() => str(raw[kind], at(kind)));
  if (file === undefined) return undefined;
  const path = resolve(projectDir, file);
  try {
    const table = kind === 'openapi' ? RouteTable.fromOpenApi(path) : RouteTable.fromFile(path);
    return { kind, file, table };
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    for (const inner of error.errors) {
      errors.add(at(kind), `${file}: ${inner.field === FILE_FIELD ? inner.message.slice(FILE_FIELD.length + 2) : inner.message}`);
    }
    return undefined;
  }
}

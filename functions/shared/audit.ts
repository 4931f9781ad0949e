import { createHash } from 'node:crypto';
import { FetchError } from '../../core/errors';
import { isJsonObject } from '../../core/json';
import {
  DEFAULT_MIN_RSA_BITS,
  type InspectedKey,
  inspectJwk,
  PUBLIC_KEY_MEMBERS,
  pickMembers,
  readKeySet,
  SUPPORTED_ALGORITHMS,
} from '../../core/jwk-rules';
import { discoveryUrl, jwksUriFromDiscovery } from '../../core/oidc-discovery';
import { type HttpGetOptions, type HttpResponse, httpGet, parseJsonBody } from './http';

/**
 * The key-rotation audit shared by the scheduled checker and `scopegate audit`: fetch an
 * issuer's key set (through OIDC discovery or directly), judge each key, compare it with
 * a mirror, and report findings with stable codes.
 */

/** Finding codes, as the contract names them. */
export const FindingCode = {
  JwksUnreachable: 'jwks_unreachable',
  JwksInvalid: 'jwks_invalid',
  DuplicateKid: 'duplicate_kid',
  MissingKid: 'missing_kid',
  WeakKey: 'weak_key',
  DisallowedAlg: 'disallowed_alg',
  NonSigningKey: 'non_signing_key',
  NoNextKey: 'no_next_key',
  KeyAgeExceeded: 'key_age_exceeded',
  MirrorStale: 'mirror_stale',
  CacheTtlTooLong: 'cache_ttl_too_long',
} as const;

/** One of {@link FindingCode}. */
export type FindingCodeValue = (typeof FindingCode)[keyof typeof FindingCode];

/** How bad a finding is; `error` makes the CLI exit 1 and raises the alarm. */
export type Severity = 'error' | 'warning' | 'info';

/** One thing the audit found. */
export interface Finding {
  code: FindingCodeValue;
  severity: Severity;
  kid?: string;
  detail: string;
}

/** What the audit learned about one published key. */
export interface KeySummary {
  kid: string | undefined;
  kty: string | undefined;
  alg: string | undefined;
  bits: number | undefined;
  usable: boolean;
  firstSeen: string | undefined;
  ageDays: number | undefined;
}

/** Options of {@link audit}. */
export interface AuditOptions {
  /** The issuer; its OIDC discovery document gives `jwks_uri`. */
  issuer?: string;
  /** The key set URL, when not discovered. */
  jwksUri?: string;
  /** The mirror's URL (the CloudFront copy), compared with the issuer's key set. */
  mirrorUri?: string;
  /** When each `kid` was first seen (ISO 8601), from earlier runs. */
  firstSeen?: Record<string, string>;
  /** Keys older than this many days are reported. Default 90. */
  maxKeyAgeDays?: number;
  /** `Cache-Control` max-age longer than this, in seconds, is reported. Default 3600. */
  maxCacheTtlSeconds?: number;
  /** Smallest RSA modulus, in bits. Default 2048. */
  minRsaBits?: number;
  /** Algorithms keys may be bound to. Default all that scopegate verifies. */
  allowedAlgorithms?: readonly string[];
  /** GET a URL; default {@link httpGet} with a 5 s deadline and a 256 KiB cap. */
  get?: (url: string) => Promise<HttpResponse>;
  /** Options for the default `get` (e.g. `ca`). */
  http?: HttpGetOptions;
  /** The clock, in milliseconds. */
  now?: () => number;
}

/** The audit's result. */
export interface AuditReport {
  issuer: string | undefined;
  jwksUri: string | undefined;
  mirrorUri: string | undefined;
  checkedAt: string;
  keys: KeySummary[];
  findings: Finding[];
  /** The first-seen record, updated with the keys seen now. */
  firstSeen: Record<string, string>;
  /**
   * What a mirror may publish: the usable signing keys of the issuer's set, public members
   * only, whatever else the set holds (RFC 7517 §5: ignore keys you cannot use); a key refused
   * (`oct`, weak RSA, a shared `kid`, published private material…) is left out and keeps its
   * finding. `undefined` when no usable signing key remains or the set cannot be had.
   */
  verifiedJwks: { keys: Record<string, unknown>[] } | undefined;
  /** Whether the mirror serves the same key set as the issuer (undefined without a mirror or a valid issuer set). */
  mirrorInSync: boolean | undefined;
}

const PUBLISHED_MEMBERS = ['kid', 'use', 'alg', ...PUBLIC_KEY_MEMBERS] as const;
const DAY_MS = 86_400_000;

function describe(error: unknown): string {
  if (error instanceof FetchError) return `${error.kind}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The public members of a JWK, in a fixed order. */
export function publicJwk(jwk: Record<string, unknown>): Record<string, unknown> {
  return pickMembers(jwk, PUBLISHED_MEMBERS);
}

/** A fingerprint of a key set that ignores key order and non-public members. */
export function keySetFingerprint(keys: readonly Record<string, unknown>[]): string {
  const canonical = keys.map((k) => JSON.stringify(publicJwk(k))).sort();
  return createHash('sha256').update(canonical.join('\n')).digest('hex');
}

/** The `max-age` (or `s-maxage`) a response may be cached for, in seconds. */
export function cacheTtlSeconds(response: HttpResponse): number | undefined {
  const header = response.headers['cache-control'];
  if (typeof header !== 'string') return undefined;
  const ages = [...header.matchAll(/(?:^|,)\s*(s-maxage|max-age)\s*=\s*(\d+)/gi)].map((m) => Number(m[2]));
  return ages.length > 0 ? Math.max(...ages) : undefined;
}

async function readJson(get: (url: string) => Promise<HttpResponse>, url: string): Promise<{ json: unknown; response: HttpResponse }> {
  const response = await get(url);
  return { json: parseJsonBody(url, response), response };
}

async function discover(get: (url: string) => Promise<HttpResponse>, issuer: string): Promise<string> {
  const { json } = await readJson(get, discoveryUrl(issuer));
  return jwksUriFromDiscovery(json, issuer);
}

/** {@link AuditOptions} with their defaults. */
interface AuditSettings {
  now: () => number;
  get: (url: string) => Promise<HttpResponse>;
  minRsaBits: number;
  allowed: readonly string[];
  maxKeyAgeDays: number;
  maxTtl: number;
}

function settingsOf(options: AuditOptions): AuditSettings {
  return {
    now: options.now ?? Date.now,
    get: options.get ?? ((url: string) => httpGet(url, { timeoutMs: 5000, maxBytes: 262_144, ...options.http })),
    minRsaBits: options.minRsaBits ?? DEFAULT_MIN_RSA_BITS,
    allowed: options.allowedAlgorithms ?? SUPPORTED_ALGORITHMS,
    maxKeyAgeDays: options.maxKeyAgeDays ?? 90,
    maxTtl: options.maxCacheTtlSeconds ?? 3600,
  };
}

/**
 * Run the audit: find and fetch the key set, judge each key, record when each was first
 * seen, check that a rotation can happen, and compare the mirror. Never throws for what the
 * endpoints do: that becomes findings.
 */
export async function audit(options: AuditOptions): Promise<AuditReport> {
  const settings = settingsOf(options);
  const report: AuditReport = {
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    mirrorUri: options.mirrorUri,
    checkedAt: new Date(settings.now()).toISOString(),
    keys: [],
    findings: [],
    firstSeen: { ...options.firstSeen },
    verifiedJwks: undefined,
    mirrorInSync: undefined,
  };
  const fetched = await fetchKeySet(options, settings.get, report);
  if (fetched === undefined) return report;
  checkCacheTtl(fetched.response, settings.maxTtl, report.findings);
  const inspected: InspectedKey[] = fetched.rawKeys.map((k) => inspectJwk(k, settings.minRsaBits));
  const usable = judgeKeys(inspected, settings, report.findings);
  summarizeKeys(inspected, usable, settings, report);
  checkRotationReadiness(usable, report);
  if (options.mirrorUri !== undefined) await compareMirror(settings.get, options.mirrorUri, report);
  return report;
}

/**
 * The issuer's key set (through discovery when no `jwksUri` is given) and the response it
 * came in; `undefined`, with a finding, when it cannot be had or is not a key set.
 */
async function fetchKeySet(
  options: AuditOptions,
  get: AuditSettings['get'],
  report: AuditReport,
): Promise<{ rawKeys: unknown[]; response: HttpResponse } | undefined> {
  const findings = report.findings;
  let jwksUri = options.jwksUri;
  if (jwksUri === undefined) {
    if (options.issuer === undefined) throw new Error('audit needs an issuer or a JWKS URI');
    try {
      jwksUri = await discover(get, options.issuer);
      report.jwksUri = jwksUri;
    } catch (error) {
      findings.push({ code: FindingCode.JwksUnreachable, severity: 'error', detail: `discovery failed: ${describe(error)}` });
      return undefined;
    }
  }
  let fetched: { json: unknown; response: HttpResponse };
  try {
    fetched = await readJson(get, jwksUri);
  } catch (error) {
    const code = error instanceof FetchError && error.kind === 'content' ? FindingCode.JwksInvalid : FindingCode.JwksUnreachable;
    findings.push({ code, severity: 'error', detail: describe(error) });
    return undefined;
  }
  try {
    return { rawKeys: readKeySet(fetched.json), response: fetched.response };
  } catch (error) {
    findings.push({ code: FindingCode.JwksInvalid, severity: 'error', detail: describe(error) });
    return undefined;
  }
}

/** A key set cacheable for longer than `maxTtl` seconds hides a rotation that long. */
function checkCacheTtl(response: HttpResponse, maxTtl: number, findings: Finding[]): void {
  const ttl = cacheTtlSeconds(response);
  if (ttl !== undefined && ttl > maxTtl) {
    findings.push({
      code: FindingCode.CacheTtlTooLong,
      severity: 'warning',
      detail: `the key set may be cached for ${ttl} s, longer than ${maxTtl} s: a rotated key could stay unseen that long`,
    });
  }
}

/** Whether a JWK publishes private or secret key material (RSA/EC/OKP `d`, RSA primes, `oct` `k`). */
function hasPrivateMaterial(jwk: Record<string, unknown>): boolean {
  return 'd' in jwk || 'p' in jwk || 'k' in jwk;
}

/**
 * Findings for each key (and for kids shared by several); returns the usable signing keys:
 * no problem, an allowed algorithm, a `kid` no other key shares (which of two a token means
 * cannot be told), and no private material published (anyone may sign with such a key).
 */
function judgeKeys(inspected: readonly InspectedKey[], settings: AuditSettings, findings: Finding[]): InspectedKey[] {
  const kidCounts = new Map<string, number>();
  for (const key of inspected) if (key.kid !== undefined) kidCounts.set(key.kid, (kidCounts.get(key.kid) ?? 0) + 1);
  for (const [kid, count] of kidCounts) {
    if (count > 1) findings.push({ code: FindingCode.DuplicateKid, severity: 'error', kid, detail: `${count} keys share kid ${kid}` });
  }
  const usable: InspectedKey[] = [];
  inspected.forEach((key, i) => {
    if (!judgeKey(key, key.kid ?? `keys[${i}]`, settings, findings)) return;
    const ok =
      key.problems.length === 0 &&
      key.alg !== undefined &&
      settings.allowed.includes(key.alg) &&
      (kidCounts.get(key.kid ?? '') ?? 0) === 1 &&
      !hasPrivateMaterial(key.jwk);
    if (ok) usable.push(key);
  });
  return usable;
}

/** The findings of one key, `at` naming it; `false` when it is no signing key to judge further. */
function judgeKey(key: InspectedKey, at: string, settings: AuditSettings, findings: Finding[]): boolean {
  const kid = key.kid;
  if (hasPrivateMaterial(key.jwk)) {
    findings.push({ code: FindingCode.JwksInvalid, severity: 'error', kid, detail: `${at} publishes private or secret key material` });
  }
  if (key.problems.includes('not_an_object')) {
    findings.push({ code: FindingCode.JwksInvalid, severity: 'error', detail: `${at} is not a JSON object` });
    return false;
  }
  if (key.problems.includes('non_signing_key')) {
    findings.push({ code: FindingCode.NonSigningKey, severity: 'info', kid, detail: `${at} is not a signing key (use/key_ops)` });
    return false;
  }
  if (key.problems.includes('missing_kid')) {
    findings.push({ code: FindingCode.MissingKid, severity: 'error', detail: `${at} has no kid: tokens signed with it cannot name it` });
  }
  if (key.problems.includes('unsupported_key') || key.problems.includes('alg_inconsistent')) {
    findings.push({
      code: FindingCode.DisallowedAlg,
      severity: 'error',
      kid,
      detail: `${at} (kty ${String(key.jwk.kty)}, alg ${String(key.jwk.alg ?? '-')}) is not bound to an accepted signature algorithm`,
    });
  } else if (key.alg !== undefined && !settings.allowed.includes(key.alg)) {
    findings.push({
      code: FindingCode.DisallowedAlg,
      severity: 'error',
      kid,
      detail: `${at} is bound to ${key.alg}, which is not allowed`,
    });
  }
  if (key.problems.includes('weak_key')) {
    findings.push({
      code: FindingCode.WeakKey,
      severity: 'error',
      kid,
      detail: `${at} is ${key.bits}-bit RSA, under ${settings.minRsaBits}`,
    });
  }
  if (key.problems.includes('invalid_key')) {
    findings.push({ code: FindingCode.JwksInvalid, severity: 'error', kid, detail: `${at} is not a valid public key` });
  }
  return true;
}

/** A summary of each key in the report, with when its kid was first seen (recorded now if new) and a finding when it is too old. */
function summarizeKeys(
  inspected: readonly InspectedKey[],
  usable: readonly InspectedKey[],
  settings: AuditSettings,
  report: AuditReport,
): void {
  const nowMs = settings.now();
  const maxAgeMs = settings.maxKeyAgeDays * DAY_MS;
  const firstSeen = report.firstSeen;
  for (const key of inspected) {
    let seen: string | undefined;
    let ageDays: number | undefined;
    if (key.kid !== undefined && !key.problems.includes('non_signing_key')) {
      firstSeen[key.kid] ??= new Date(nowMs).toISOString();
      seen = firstSeen[key.kid];
      const ageMs = nowMs - Date.parse(seen as string);
      ageDays = Math.floor(ageMs / DAY_MS);
      if (ageMs > maxAgeMs) {
        report.findings.push({
          code: FindingCode.KeyAgeExceeded,
          severity: 'warning',
          kid: key.kid,
          detail: `${key.kid} was first seen ${ageDays} days ago, over ${settings.maxKeyAgeDays}`,
        });
      }
    }
    report.keys.push({
      kid: key.kid,
      kty: key.kty,
      alg: key.alg,
      bits: key.bits,
      usable: usable.includes(key),
      firstSeen: seen,
      ageDays,
    });
  }
}

/**
 * Whether a rotation can happen without an outage: at least one usable key, and a second one
 * published ahead. Sets `verifiedJwks` to the usable keys whenever there is one: a key the
 * audit refuses is left out (its finding stays), never a reason to keep publishing a key set
 * the issuer has moved on from.
 */
function checkRotationReadiness(usable: readonly InspectedKey[], report: AuditReport): void {
  const findings = report.findings;
  if (usable.length === 0) {
    findings.push({ code: FindingCode.JwksInvalid, severity: 'error', detail: 'the key set holds no usable signing key' });
  } else if (usable.length === 1) {
    findings.push({
      code: FindingCode.NoNextKey,
      severity: 'warning',
      kid: usable[0]?.kid,
      detail: 'only one signing key is published: the next key cannot be pre-published before a rotation',
    });
  }
  if (usable.length > 0) report.verifiedJwks = { keys: usable.map((k) => publicJwk(k.jwk)) };
}

/** Whether the mirror serves the issuer's verified key set; a finding when it does not or cannot be read. */
async function compareMirror(get: AuditSettings['get'], mirrorUri: string, report: AuditReport): Promise<void> {
  try {
    const mirror = await readJson(get, mirrorUri);
    const mirrorKeys = readKeySet(mirror.json).filter(isJsonObject);
    if (report.verifiedJwks !== undefined) {
      report.mirrorInSync = keySetFingerprint(mirrorKeys) === keySetFingerprint(report.verifiedJwks.keys);
      if (!report.mirrorInSync) {
        const mirrorKids = mirrorKeys.map((k) => String(k.kid)).sort();
        const issuerKids = report.verifiedJwks.keys.map((k) => String(k.kid)).sort();
        report.findings.push({
          code: FindingCode.MirrorStale,
          severity: 'warning',
          detail: `the mirror serves [${mirrorKids.join(', ')}], the issuer [${issuerKids.join(', ')}]`,
        });
      }
    }
  } catch (error) {
    report.mirrorInSync = false;
    report.findings.push({ code: FindingCode.MirrorStale, severity: 'warning', detail: `the mirror cannot be read: ${describe(error)}` });
  }
}

/** Whether a report holds an error finding (the CLI's exit status 1, the alarm). */
export function hasErrors(report: AuditReport): boolean {
  return report.findings.some((f) => f.severity === 'error');
}

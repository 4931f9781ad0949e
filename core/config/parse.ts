/** The top-level validation of the authorizer's configuration document. */
import { assertJsonObject } from '../assert';
import { ConfigError } from '../errors';
import { jsonErrorPosition } from '../json';
import { ENFORCEMENTS, Enforcement, UNROUTED_VALUES, Unrouted } from './enums';
import { assertObject, int, oneOf, rejectUnknown } from './fields';
import { checkIntrospectionRouting, parseIssuer } from './issuers';
import { parseRoute } from './routes';
import type { ParsedConfig } from './types';

/**
 * Validate a configuration (already parsed from JSON) into an {@link AuthorizerConfig}.
 * Throws a {@link ConfigError} naming the first bad field; returns warnings for scope names
 * that are broad or not of the `resource:action` shape.
 */
export function parseConfig(raw: unknown): ParsedConfig {
  const warnings: string[] = [];
  assertJsonObject(raw, () => new ConfigError('(root)', 'the configuration must be a JSON object'));
  rejectUnknown(raw, '', [
    'issuers',
    'routes',
    'clockToleranceSeconds',
    'maxTokenBytes',
    'policyCacheTtlSeconds',
    'minRsaBits',
    'jwks',
    'enforcement',
    'unrouted',
  ]);
  if (!Array.isArray(raw.issuers) || raw.issuers.length === 0) throw new ConfigError('issuers', 'must be a non-empty list');
  const issuers = raw.issuers.map((item, i) => parseIssuer(item, `issuers[${i}]`, warnings));
  const seenIssuers = new Map<string, number>();
  issuers.forEach((item, i) => {
    const before = seenIssuers.get(item.issuer);
    if (before !== undefined) throw new ConfigError(`issuers[${i}].issuer`, `duplicates issuers[${before}].issuer`);
    seenIssuers.set(item.issuer, i);
  });
  checkIntrospectionRouting(issuers);
  const topEnforcement = oneOf(raw.enforcement, 'enforcement', ENFORCEMENTS, Enforcement.ENFORCE);
  if (!Array.isArray(raw.routes)) throw new ConfigError('routes', 'must be a list');
  const routes = raw.routes.map((item, i) => parseRoute(item, `routes[${i}]`, warnings, topEnforcement));
  const seenRoutes = new Map<string, number>();
  routes.forEach((route, i) => {
    const key = `${route.method} ${route.template.key}`;
    const before = seenRoutes.get(key);
    if (before !== undefined) throw new ConfigError(`routes[${i}]`, `${route.method} ${route.path} is the same route as routes[${before}]`);
    seenRoutes.set(key, i);
  });
  if (routes.length === 0) warnings.push('routes: empty, every request will be denied');
  const policyCacheTtlSeconds = int(raw.policyCacheTtlSeconds, 'policyCacheTtlSeconds', 0, 0, 3600);
  // A cached policy answers later requests without a log line: report-only needs every request.
  if (policyCacheTtlSeconds > 0) {
    const field =
      raw.enforcement === 'report-only' ? 'enforcement' : `routes[${routes.findIndex((r) => r.enforcement === 'report-only')}].enforcement`;
    if (topEnforcement === 'report-only' || routes.some((r) => r.enforcement === 'report-only')) {
      throw new ConfigError(
        field,
        `"report-only" needs policyCacheTtlSeconds 0 (it is ${policyCacheTtlSeconds}): a cached policy would let later requests through unlogged`,
      );
    }
  }
  routes.forEach((route, i) => {
    if (route.maxAuthAgeSeconds !== undefined && route.maxAuthAgeSeconds <= policyCacheTtlSeconds) {
      warnings.push(
        `routes[${i}].maxAuthAgeSeconds: not above policyCacheTtlSeconds (${policyCacheTtlSeconds}), so the route is never allowed`,
      );
    }
  });
  const jwksRaw = raw.jwks ?? {};
  assertObject(jwksRaw, 'jwks');
  rejectUnknown(jwksRaw, 'jwks', ['maxBytes', 'timeoutMs', 'minRefetchIntervalSeconds', 'maxAgeSeconds']);
  return {
    warnings,
    config: {
      issuers,
      routes,
      clockToleranceSeconds: int(raw.clockToleranceSeconds, 'clockToleranceSeconds', 30, 0, 300),
      maxTokenBytes: int(raw.maxTokenBytes, 'maxTokenBytes', 8192, 256, 65536),
      policyCacheTtlSeconds,
      enforcement: topEnforcement,
      unrouted: oneOf(raw.unrouted, 'unrouted', UNROUTED_VALUES, Unrouted.DENY),
      minRsaBits: int(raw.minRsaBits, 'minRsaBits', 2048, 2048, 16384),
      jwks: {
        maxBytes: int(jwksRaw.maxBytes, 'jwks.maxBytes', 65536, 1024, 1_048_576),
        timeoutMs: int(jwksRaw.timeoutMs, 'jwks.timeoutMs', 2500, 100, 9000),
        minRefetchIntervalSeconds: int(jwksRaw.minRefetchIntervalSeconds, 'jwks.minRefetchIntervalSeconds', 10, 0, 3600),
        maxAgeSeconds: int(jwksRaw.maxAgeSeconds, 'jwks.maxAgeSeconds', 3600, 60, 86400),
      },
    },
  };
}

/**
 * Parse configuration JSON text; a syntax error is a {@link ConfigError} too. Its message
 * gives the position only: V8's `JSON.parse` messages quote the text, which may hold secrets.
 */
export function parseConfigJson(text: string): ParsedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError('(root)', `not valid JSON: syntax error at ${jsonErrorPosition(text)}`);
  }
  return parseConfig(raw);
}

/** `line L, column C (offset O)` of the first JSON syntax error in `text` (which JSON.parse refused). */

/** Validation of the configuration's `routes`: method, path template, the scopes required, step-up and enforcement. */
import { ConfigError } from '../errors';
import { parseRouteTemplate, type RouteTemplate } from '../routes';
import { isScopeToken } from '../scopes';
import { DEFAULT_ROUTE_PATH, ENFORCEMENTS, type Enforcement, HTTP_METHODS, type HttpMethod } from './enums';
import { assertObject, bool, int, oneOf, rejectUnknown, str, stringList } from './fields';
import type { RouteConfig } from './types';

const BROAD_SCOPES = new Set(['admin', 'root', 'all', '*', 'superuser', 'full_access', 'full-access', 'write', 'read']);
/**
 * Granular scope shapes that draw no warning: `resource:action` (RFC 9068 style), Cognito's
 * custom scopes `resourceServer/scope` (the resource server identifier may be a URL), and
 * Entra's `Resource.Operation[.Constraint]` (`Orders.Read.All`).
 */
const SCOPE_SHAPE =
  /^(?:[A-Za-z0-9_.-]+:[A-Za-z0-9_.*-]+(?::[A-Za-z0-9_.*-]+)*|\S+\/[A-Za-z0-9_.*-]+|[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)+)$/;
function scopeList(value: unknown, field: string, warnings: string[]): string[] {
  const scopes = stringList(value, field, true);
  scopes.forEach((scope, i) => {
    if (!isScopeToken(scope))
      throw new ConfigError(`${field}[${i}]`, `${JSON.stringify(scope)} is not a valid scope token (RFC 6749 §3.3)`);
    if (BROAD_SCOPES.has(scope.toLowerCase())) {
      warnings.push(`${field}[${i}]: "${scope}" is a broad scope; prefer granular resource:action scopes`);
    } else if (!SCOPE_SHAPE.test(scope)) {
      warnings.push(`${field}[${i}]: "${scope}" is not of a granular shape (resource:action, resource/action, Resource.Action)`);
    }
  });
  return [...new Set(scopes)];
}

/** Validate `routes[i]` (`field`); `fallback` is the top-level enforcement; scope warnings go to `warnings`. */
export function parseRoute(value: unknown, field: string, warnings: string[], fallback: Enforcement): RouteConfig {
  assertObject(value, field);
  rejectUnknown(value, field, ['method', 'path', 'scopes', 'anyOf', 'maxAuthAgeSeconds', 'enforcement', 'acceptOverDeny']);
  const rawMethod = str(value.method, `${field}.method`).toUpperCase();
  const method = rawMethod === 'ANY' ? '*' : rawMethod;
  if (method !== '*' && !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new ConfigError(`${field}.method`, `must be one of ${HTTP_METHODS.join(', ')} or "*"`);
  }
  const path = str(value.path, `${field}.path`);
  let template: RouteTemplate;
  if (path === DEFAULT_ROUTE_PATH) {
    if (method !== '*') throw new ConfigError(`${field}.method`, 'must be "*" for the $default route (it catches every method)');
    template = { segments: [], key: DEFAULT_ROUTE_PATH };
  } else {
    try {
      template = parseRouteTemplate(path);
    } catch (error) {
      throw new ConfigError(`${field}.path`, (error as Error).message);
    }
  }
  let scopes: string[] = [];
  let anyOf: string[][];
  if (value.anyOf !== undefined) {
    if (value.scopes !== undefined) throw new ConfigError(`${field}.anyOf`, 'a route has scopes or anyOf, not both');
    if (!Array.isArray(value.anyOf) || value.anyOf.length === 0) {
      throw new ConfigError(`${field}.anyOf`, 'must be a non-empty list of scope lists');
    }
    anyOf = value.anyOf.map((set, i) => {
      if (!Array.isArray(set)) throw new ConfigError(`${field}.anyOf[${i}]`, 'must be a list of scopes');
      return scopeList(set, `${field}.anyOf[${i}]`, warnings);
    });
  } else {
    scopes = scopeList(value.scopes ?? [], `${field}.scopes`, warnings);
    anyOf = [scopes];
  }
  const maxAuthAgeSeconds =
    value.maxAuthAgeSeconds === undefined ? undefined : int(value.maxAuthAgeSeconds, `${field}.maxAuthAgeSeconds`, 0, 1, 31_536_000);
  return {
    method: method as HttpMethod | '*',
    path,
    template,
    scopes,
    anyOf,
    maxAuthAgeSeconds,
    enforcement: oneOf(value.enforcement, `${field}.enforcement`, ENFORCEMENTS, fallback),
    acceptOverDeny: bool(value.acceptOverDeny, `${field}.acceptOverDeny`),
  };
}

import { readFileSync } from 'node:fs';
import { type AuthorizerConfig, parseConfig } from '../core/config';
import { isJsonObject } from '../core/json';
import { parseOpenApiText, readOpenApiRoutes } from '../core/openapi';

/** Stands in for the issuers of a file that holds only routes: the proof reads no issuer. */
const PLACEHOLDER_ISSUER = { issuer: 'https://issuer.invalid', jwksUri: 'https://issuer.invalid/jwks.json', audience: 'verify' };

/** Read a configuration, or a bare route table, into a validated configuration (field errors name the field). */
export function readRouteConfig(raw: unknown): AuthorizerConfig {
  if (Array.isArray(raw)) return parseConfig({ issuers: [PLACEHOLDER_ISSUER], routes: raw }).config;
  if (isJsonObject(raw) && !('issuers' in raw)) {
    return parseConfig({ ...raw, issuers: [PLACEHOLDER_ISSUER] }).config;
  }
  return parseConfig(raw).config;
}

/** The route rows of an OpenAPI document, as the construct records them (public operations with no scopes). */
export function openApiRouteRows(file: string): Record<string, unknown>[] {
  return readOpenApiRoutes(parseOpenApiText(readFileSync(file, 'utf8'), file)).map((r) =>
    r.anyOf !== undefined && r.anyOf.length > 0
      ? { method: r.method, path: r.path, anyOf: r.anyOf }
      : { method: r.method, path: r.path, scopes: r.scopes ?? [] },
  );
}

/** A route table file as read: the document (for what it says explicitly) and the validated configuration. */
export interface RouteSource {
  /** The file's JSON, or the route rows of the OpenAPI document. */
  readonly raw: unknown;
  /** The configuration, with placeholder issuers when the file has none. */
  readonly config: AuthorizerConfig;
}

/**
 * Read the file of `--config` (a configuration or a bare route table, JSON) or of `--openapi`
 * (exactly one is given). Throws with the reason; a JSON syntax error says where, never what
 * (the parser's message quotes the text, which may hold a secret).
 */
export function readRouteSource(config: string | undefined, openapi: string | undefined): RouteSource {
  let raw: unknown;
  try {
    raw = openapi !== undefined ? openApiRouteRows(openapi) : JSON.parse(readFileSync(config as string, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const at = /position \d+/.exec(error.message)?.[0];
    throw new Error(`not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  return { raw, config: readRouteConfig(raw) };
}

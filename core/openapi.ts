/**
 * The route table of an OpenAPI 3 document, read from its `security` requirements, and the
 * same document with the scopegate authorizer written into it, so that the deployed API
 * (a `SpecRestApi`) and the scope table come from one source.
 *
 * Pure: used by the CDK construct at synth and by `scopegate routes`; never imported by a
 * Lambda handler, so it stays out of the bundles.
 */
import { parse as parseYaml } from 'yaml';
import { ENFORCEMENTS, type Enforcement, type HttpMethod } from './config';
import { ScopegateError } from './errors';
import { isJsonObject, type JsonObject } from './json';
import { Reason } from './reasons';
import { parseRouteTemplate } from './routes';

/** One route an OpenAPI document yields. */
export interface OpenApiRoute {
  /** Upper case, or `*` for `x-amazon-apigateway-any-method`. */
  method: HttpMethod | '*';
  /** API Gateway's template form, e.g. `/pets/{petId}`, `/files/{proxy+}`. */
  path: string;
  /** All of these are required (one security requirement). Absent when `anyOf` is set. */
  scopes?: string[];
  /** Alternatives (several security requirements): any one set, all of its scopes. */
  anyOf?: string[][];
  /** `security: []`: no token asked; API Gateway does not call the authorizer. */
  public: boolean;
  /** From the operation's `x-scopegate-enforcement` (`enforce` or `report-only`), when set. */
  enforcement?: Enforcement;
}

/** What a document says that scopegate cannot enforce, or cannot read; names the operation. */
export class OpenApiError extends ScopegateError {
  /** A document that cannot become a configuration. */
  readonly reason = Reason.ConfigUnavailable;

  constructor(
    /** `"GET /pets/{petId}"`, or the document field concerned. */
    readonly location: string,
    message: string,
  ) {
    super(`${location}: ${message}`);
    this.name = 'OpenApiError';
  }
}

/** The operation extension that sets a route's enforcement (a report-only rollout of some operations). */
export const ENFORCEMENT_EXTENSION = 'x-scopegate-enforcement';

/**
 * API Gateway's own authorization type of an operation (`NONE`, `AWS_IAM`). How it combines
 * with a `security` requirement on import is not documented, so an operation may not have both.
 */
export const AUTH_EXTENSION = 'x-amazon-apigateway-auth';

/** The extension API Gateway reads for an operation on every method. */
export const ANY_METHOD_EXTENSION = 'x-amazon-apigateway-any-method';

const OPERATION_KEYS: Record<string, HttpMethod | '*'> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  delete: 'DELETE',
  options: 'OPTIONS',
  head: 'HEAD',
  patch: 'PATCH',
  [ANY_METHOD_EXTENSION]: '*',
};

/** The operations of a path item, keyed as in the document (`get`, `x-amazon-apigateway-any-method`…). */
function operationsOf(pathItem: JsonObject, path: string): [key: string, method: HttpMethod | '*', operation: JsonObject][] {
  const out: [string, HttpMethod | '*', JsonObject][] = [];
  for (const [key, value] of Object.entries(pathItem)) {
    const method = OPERATION_KEYS[key];
    if (method === undefined) {
      if (key === 'trace') throw new OpenApiError(`TRACE ${path}`, 'API Gateway does not route TRACE');
      continue;
    }
    if (!isJsonObject(value)) throw new OpenApiError(`${method} ${path}`, 'the operation must be an object');
    out.push([key, method, value]);
  }
  return out;
}

/** How one security scheme reads: a scope-bearing OAuth scheme, or why it cannot be enforced. */
function schemeKind(schemes: JsonObject, name: string, where: string): 'oauth' {
  const scheme = schemes[name];
  if (!isJsonObject(scheme)) throw new OpenApiError(where, `security scheme "${name}" is not defined in components.securitySchemes`);
  if (typeof scheme.$ref === 'string') throw new OpenApiError(where, `security scheme "${name}" is a $ref; inline it`);
  const type = scheme.type;
  if (type === 'oauth2' || type === 'openIdConnect') return 'oauth';
  if (type === 'apiKey') {
    const place = scheme.in === 'cookie' ? 'cookie authentication' : 'an API key';
    throw new OpenApiError(
      where,
      `security scheme "${name}" is ${place} (apiKey in ${String(scheme.in)}); scopegate enforces OAuth 2.0 scopes only`,
    );
  }
  if (type === 'http') {
    throw new OpenApiError(
      where,
      `security scheme "${name}" is HTTP ${String(scheme.scheme)} authentication; scopegate enforces OAuth 2.0 access tokens: declare it as oauth2 or openIdConnect`,
    );
  }
  throw new OpenApiError(
    where,
    `security scheme "${name}" has type ${JSON.stringify(type)}; scopegate enforces oauth2 and openIdConnect schemes only`,
  );
}

/**
 * Read one operation's effective security (operation level over the document's) into
 * alternatives: `[]` is public, `[[...]]` one set of scopes, more sets alternatives.
 */
function readSecurity(security: unknown, schemes: JsonObject, where: string): string[][] | 'public' {
  if (security === undefined) {
    throw new OpenApiError(
      where,
      'no security requirement (neither on the operation nor at the top level); write `security: []` to make it public',
    );
  }
  if (!Array.isArray(security)) throw new OpenApiError(where, 'security must be a list of security requirements');
  if (security.length === 0) return 'public';
  const alternatives: string[][] = [];
  let anonymous = false;
  security.forEach((requirement, i) => {
    if (!isJsonObject(requirement)) throw new OpenApiError(where, `security[${i}] must be an object`);
    const names = Object.keys(requirement);
    if (names.length === 0) {
      anonymous = true;
      return;
    }
    if (names.length > 1) {
      throw new OpenApiError(
        where,
        `security[${i}] requires the schemes ${names.join(' and ')} together; scopegate checks one bearer token, so schemes cannot be combined`,
      );
    }
    const name = names[0] as string;
    schemeKind(schemes, name, where);
    const scopes = requirement[name];
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new OpenApiError(where, `security[${i}].${name} must be a list of scope names`);
    }
    alternatives.push([...new Set(scopes as string[])]);
  });
  if (anonymous) {
    if (alternatives.length === 0) return 'public';
    throw new OpenApiError(
      where,
      'security makes authentication optional ({} beside other requirements); API Gateway calls the authorizer for every request of a guarded method, so write `security: []` or drop the {}',
    );
  }
  // Equal alternatives say the same thing once.
  const seen = new Set<string>();
  return alternatives.filter((set) => {
    const key = [...set].sort().join(' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function openApiVersion(document: unknown): JsonObject {
  if (!isJsonObject(document)) throw new OpenApiError('(document)', 'must be an object');
  if (typeof document.openapi !== 'string' || !/^3\.[01]\./.test(document.openapi)) {
    const was = document.swagger !== undefined ? `swagger ${String(document.swagger)}` : `openapi ${JSON.stringify(document.openapi)}`;
    throw new OpenApiError('openapi', `an OpenAPI 3.0 or 3.1 document is required (this one is ${was})`);
  }
  if (!isJsonObject(document.paths)) throw new OpenApiError('paths', 'must be an object');
  return document;
}

/**
 * The route table an OpenAPI 3 document's `security` requirements yield: one route per
 * operation, with its scopes (one requirement), its alternatives (several, as `anyOf`), or
 * public (`security: []`). Operation-level `security` overrides the document's.
 * Throws an {@link OpenApiError} naming the operation for what scopegate cannot enforce:
 * API keys, cookie or HTTP authentication, schemes required together, optional
 * authentication, operations without any security requirement, an operation with both an
 * OAuth requirement and `x-amazon-apigateway-auth`, paths API Gateway cannot route.
 */
export function readOpenApiRoutes(document: unknown): OpenApiRoute[] {
  const doc = openApiVersion(document);
  const components = isJsonObject(doc.components) ? doc.components : {};
  const schemes = isJsonObject(components.securitySchemes) ? components.securitySchemes : {};
  const routes: OpenApiRoute[] = [];
  for (const [path, pathItem] of Object.entries(doc.paths as JsonObject)) {
    if (!isJsonObject(pathItem)) throw new OpenApiError(`paths.${path}`, 'must be an object');
    if (typeof pathItem.$ref === 'string') throw new OpenApiError(`paths.${path}`, 'is a $ref; inline the path item');
    for (const [, method, operation] of operationsOf(pathItem, path)) {
      const where = `${method} ${path}`;
      try {
        parseRouteTemplate(path);
      } catch (error) {
        throw new OpenApiError(where, `the path ${(error as Error).message}`);
      }
      const security = readSecurity(operation.security !== undefined ? operation.security : doc.security, schemes, where);
      if (operation[AUTH_EXTENSION] !== undefined && security !== 'public') {
        const type = isJsonObject(operation[AUTH_EXTENSION]) ? (operation[AUTH_EXTENSION] as JsonObject).type : undefined;
        throw new OpenApiError(
          where,
          `has ${AUTH_EXTENSION} (type ${JSON.stringify(type ?? null)}) and an OAuth security requirement: API Gateway does not document which one applies on import, so the operation could go unguarded; remove ${AUTH_EXTENSION}, or write \`security: []\` to make the operation public`,
        );
      }
      const mode = operation[ENFORCEMENT_EXTENSION];
      if (mode !== undefined && !(ENFORCEMENTS as readonly unknown[]).includes(mode))
        throw new OpenApiError(where, `${ENFORCEMENT_EXTENSION} must be "enforce" or "report-only"`);
      const enforcement = mode === undefined ? {} : { enforcement: mode as Enforcement };
      if (security === 'public') routes.push({ method, path, scopes: [], public: true, ...enforcement });
      else if (security.length === 1) routes.push({ method, path, scopes: security[0] as string[], public: false, ...enforcement });
      else routes.push({ method, path, anyOf: security, public: false, ...enforcement });
    }
  }
  return routes;
}

/** The `x-amazon-apigateway-authorizer` object of a Lambda authorizer (API Gateway's OpenAPI extension). */
export interface OpenApiAuthorizer {
  type: 'token' | 'request';
  /** `arn:PARTITION:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations` */
  authorizerUri: string;
  authorizerResultTtlInSeconds: number;
  /** TOKEN: a regex the Authorization value must match before the function is called. */
  identityValidationExpression?: string;
  /** REQUEST: the comma-separated identity sources, e.g. `method.request.header.Authorization`. */
  identitySource?: string;
}

/** The security scheme name scopegate writes into a document. */
export const SCOPEGATE_SCHEME = 'scopegate';

/**
 * A copy of `document` whose secured operations are guarded by the scopegate authorizer:
 * `components.securitySchemes.scopegate` holds the `x-amazon-apigateway-authorizer`, every
 * secured operation's `security` names it, public operations keep `security: []`, and the
 * OAuth schemes it replaces (which API Gateway does not enforce) are removed. Read the route
 * table from the original with {@link readOpenApiRoutes} first.
 */
export function withScopegateAuthorizer(document: unknown, authorizer: OpenApiAuthorizer): JsonObject {
  const routes = readOpenApiRoutes(document);
  const copy = structuredClone(document) as JsonObject;
  const components = isJsonObject(copy.components) ? copy.components : {};
  copy.components = components;
  const schemes = isJsonObject(components.securitySchemes) ? components.securitySchemes : {};
  components.securitySchemes = schemes;
  for (const [name, scheme] of Object.entries(schemes)) {
    if (isJsonObject(scheme) && (scheme.type === 'oauth2' || scheme.type === 'openIdConnect')) delete schemes[name];
  }
  schemes[SCOPEGATE_SCHEME] = {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': authorizer,
  };
  delete copy.security;
  const byOperation = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  for (const [path, pathItem] of Object.entries(copy.paths as JsonObject)) {
    for (const [, method, operation] of operationsOf(pathItem as JsonObject, path)) {
      const route = byOperation.get(`${method} ${path}`) as OpenApiRoute;
      operation.security = route.public ? [] : [{ [SCOPEGATE_SCHEME]: [] }];
    }
  }
  return copy;
}

/** Parse an OpenAPI document from YAML or JSON text (JSON is YAML 1.2); a syntax error is an {@link OpenApiError}. */
export function parseOpenApiText(text: string, source = '(document)'): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 1000 });
  } catch (error) {
    throw new OpenApiError(source, `not valid YAML or JSON: ${(error as Error).message}`);
  }
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BEARER_VALIDATION_REGEX } from '../core/authorization';
import { parseRouteTemplate, resolveRoute, splitPath } from '../core/routes';
import { decide, type EvaluablePolicy } from './iam';

/** The authorizer as the gateway calls it: a TOKEN event in, a policy out or a throw. */
export type TokenAuthorizerHandler = (event: {
  type: 'TOKEN';
  authorizationToken: string;
  methodArn: string;
}) => Promise<{ principalId: string; policyDocument: EvaluablePolicy; context?: Record<string, unknown> }>;

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  authorizer: TokenAuthorizerHandler;
  /** The API's resources and methods (the route table). */
  routes: { method: string; path: string }[];
  /** Authorizer result cache TTL by token, in seconds. */
  cacheTtlSeconds: number;
  port: number;
  /** The Bearer validation regex of the CDK construct. */
  validationRegex?: RegExp;
}

/** The method ARN prefix the sandbox's API answers as. */
export const SANDBOX_ARN_PREFIX = 'arn:aws:execute-api:local:123456789012:sandbox/local/';

/**
 * API Gateway REST's own answers, as AWS documents them: the status, the body its default
 * gateway response template gives (`{"message": $context.error.messageString}`), the
 * `x-amzn-ErrorType` header naming the error ("How do I troubleshoot HTTP 403 errors from API
 * Gateway?" and "… 401 Unauthorized errors after I create a Lambda authorizer?", AWS
 * Knowledge Center), and the headers the `ScopeAuthorizer` construct's gateway responses add
 * (lib/scope-authorizer.ts: UNAUTHORIZED and ACCESS_DENIED with `WWW-Authenticate`,
 * AUTHORIZER_CONFIGURATION_ERROR as 503 with `Retry-After`). MISSING_AUTHENTICATION_TOKEN is
 * left at API Gateway's default.
 */
const GATEWAY_ANSWERS = {
  /** No resource and method match (REST answers 403, not 404, before any authorizer). */
  missingAuthenticationToken: {
    status: 403,
    errorType: 'MissingAuthenticationTokenException',
    message: 'Missing Authentication Token',
    headers: {},
  },
  /** No Authorization header, a value the validation regex refuses, or the function threw `Unauthorized`. */
  unauthorized: {
    status: 401,
    errorType: 'UnauthorizedException',
    message: 'Unauthorized',
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  },
  /** The policy denies the request with a Deny statement. */
  explicitDeny: {
    status: 403,
    errorType: 'AccessDeniedException',
    message: 'User is not authorized to access this resource with an explicit deny',
    headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' },
  },
  /** No statement of the policy allows the request. */
  implicitDeny: {
    status: 403,
    errorType: 'AccessDeniedException',
    message: 'User is not authorized to access this resource',
    headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' },
  },
  /** The function failed otherwise (any other error, a malformed answer): no message. */
  authorizerConfigurationError: {
    status: 503,
    errorType: 'AuthorizerConfigurationException',
    message: null,
    headers: { 'retry-after': '5' },
  },
} as const;

type GatewayAnswer = (typeof GATEWAY_ANSWERS)[keyof typeof GATEWAY_ANSWERS];

/** Every answer, API Gateway's own or the backend's, carries a request id. */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function answer(res: ServerResponse, a: GatewayAnswer, extra: Record<string, string> = {}) {
  send(res, a.status, { message: a.message }, { 'x-amzn-errortype': a.errorType, ...a.headers, ...extra });
}

/**
 * A local stand-in for API Gateway REST with a TOKEN authorizer: it matches the request to
 * a resource and method (else 403 "Missing Authentication Token", before any authorizer),
 * checks the Authorization header against the validation regex, caches the authorizer's
 * answer by token for the TTL, evaluates the policy for the request as IAM does, answers
 * 401/403/503 as API Gateway does with the CDK stack's gateway responses
 * ({@link GATEWAY_ANSWERS}), and otherwise calls the demo backend.
 *
 * Paths: the request path is used as sent (no URL normalization, `%2F` stays three
 * characters) in the method ARN. API Gateway routes `/x/` as `/x` (documented); what it does
 * with other empty segments (`/a//b`) is not, and the sandbox takes the case that leaves the
 * most to the policy: it routes the path without its empty segments and gives the authorizer
 * the path as sent, so only the policy stands between such a request and the backend.
 */
export async function startGateway(options: GatewayOptions): Promise<{ url: string; server: Server; stats: { invocations: number } }> {
  const table = options.routes.map((r) => ({
    method: r.method === 'ANY' ? '*' : r.method,
    template: parseRouteTemplate(r.path),
    path: r.path,
  }));
  const regex = options.validationRegex ?? new RegExp(BEARER_VALIDATION_REGEX);
  const cache = new Map<string, { at: number; result: Awaited<ReturnType<TokenAuthorizerHandler>> }>();
  const stats = { invocations: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // The request target as sent: `new URL` would read `//x` as a host and resolve `..`.
    const path = (req.url ?? '/').split('?')[0] || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const segments = splitPath(path).filter((s) => s.length > 0);
    const index = resolveRoute(table, method, segments);
    if (index < 0) {
      answer(res, GATEWAY_ANSWERS.missingAuthenticationToken);
      return;
    }
    const authorization = req.headers.authorization;
    if (authorization === undefined || !regex.test(authorization)) {
      answer(res, GATEWAY_ANSWERS.unauthorized);
      return;
    }
    const methodArn = `${SANDBOX_ARN_PREFIX}${method}${path}`;
    let cached = cache.get(authorization);
    const hit = cached !== undefined && Date.now() - cached.at < options.cacheTtlSeconds * 1000;
    if (!hit) {
      stats.invocations++;
      try {
        cached = { at: Date.now(), result: await options.authorizer({ type: 'TOKEN', authorizationToken: authorization, methodArn }) };
        if (options.cacheTtlSeconds > 0) cache.set(authorization, cached);
      } catch (error) {
        answer(
          res,
          (error as Error).message === 'Unauthorized' ? GATEWAY_ANSWERS.unauthorized : GATEWAY_ANSWERS.authorizerConfigurationError,
        );
        return;
      }
    }
    const result = (cached as NonNullable<typeof cached>).result;
    const cacheHeader = { 'x-scopegate-authorizer-cache': hit ? 'hit' : 'miss' };
    const effect = decide(result.policyDocument, methodArn);
    if (effect !== 'Allow') {
      answer(res, effect === 'ExplicitDeny' ? GATEWAY_ANSWERS.explicitDeny : GATEWAY_ANSWERS.implicitDeny, cacheHeader);
      return;
    }
    const route = table[index] as (typeof table)[number];
    send(
      res,
      200,
      { route: `${route.method} ${route.path}`, principalId: result.principalId, scope: result.context?.scope ?? '' },
      cacheHeader,
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, stats };
}

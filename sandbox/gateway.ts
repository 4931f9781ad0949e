import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRouteTemplate, resolveRoute, splitPath } from '../functions/authorizer/routes';
import { BEARER_VALIDATION_REGEX } from '../functions/shared/authorization';
import { type EvaluablePolicy, evaluate } from './iam';

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

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

/**
 * A local stand-in for API Gateway REST with a TOKEN authorizer: it matches the request to
 * a resource and method (else 403 "Missing Authentication Token", before any authorizer),
 * checks the Authorization header against the validation regex, caches the authorizer's
 * answer by token for the TTL, evaluates the policy for the request as IAM does, answers
 * 401/403/503 with the CDK stack's headers, and otherwise calls the demo backend.
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const segments = splitPath(url.pathname);
    const index = resolveRoute(table, method, segments);
    if (index < 0) {
      send(res, 403, { message: 'Missing Authentication Token' });
      return;
    }
    const authorization = req.headers.authorization;
    if (authorization === undefined || !regex.test(authorization)) {
      send(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const methodArn = `${SANDBOX_ARN_PREFIX}${method}${url.pathname}`;
    let cached = cache.get(authorization);
    const hit = cached !== undefined && Date.now() - cached.at < options.cacheTtlSeconds * 1000;
    if (!hit) {
      stats.invocations++;
      try {
        cached = { at: Date.now(), result: await options.authorizer({ type: 'TOKEN', authorizationToken: authorization, methodArn }) };
        if (options.cacheTtlSeconds > 0) cache.set(authorization, cached);
      } catch (error) {
        if ((error as Error).message === 'Unauthorized') {
          send(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        } else {
          send(res, 503, { message: 'Service Unavailable' }, { 'retry-after': '5' });
        }
        return;
      }
    }
    const result = (cached as NonNullable<typeof cached>).result;
    const cacheHeader = { 'x-scopegate-authorizer-cache': hit ? 'hit' : 'miss' };
    if (evaluate(result.policyDocument, methodArn) !== 'Allow') {
      send(
        res,
        403,
        { message: 'User is not authorized to access this resource with an explicit deny' },
        { 'www-authenticate': 'Bearer error="insufficient_scope"', ...cacheHeader },
      );
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

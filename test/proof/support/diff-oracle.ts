import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createHandler } from '../../../functions/authorizer/handler';
import type { AccessChange } from '../../../proof/diff';
import { ARN, rawConfig } from '../../support/fixtures';
import { gatewayRoute } from '../../support/iam';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';

/**
 * The real authorizer as the oracle of `scopegate diff`: its handler configured with a table
 * (AUTHZ_CONFIG), asked with real signed tokens, its decision read from its decision record.
 * Where API Gateway would not call it (a request no route matches, under `"unrouted":
 * "unreachable"`), API Gateway answers itself: denied. Routing for that is the tests' own
 * model (test/support/iam.ts), apart from the proof's and the authorizer's.
 */

/** A route table as a configuration holds it. */
export interface OracleTable {
  routes: Record<string, unknown>[];
  unrouted?: 'deny' | 'unreachable';
  enforcement?: 'enforce' | 'report-only';
  policyCacheTtlSeconds?: number;
}

const key = makeKey('RS256', 'diff-oracle-1');
/** A fixed clock, so that an authentication `age` seconds old is exactly that old to the authorizer. */
const NOW_SECONDS = Math.floor(Date.now() / 1000);
const tokens = new Map<string, string>();

/** A real signed access token holding exactly `scopes`, its user authenticated `authAgeSeconds` ago (none: no `auth_time`). */
export function tokenFor(scopes: readonly string[], authAgeSeconds?: number): string {
  const id = `${scopes.join(' ')}|${authAgeSeconds ?? ''}`;
  let token = tokens.get(id);
  if (token === undefined) {
    const extra = authAgeSeconds === undefined ? {} : { auth_time: NOW_SECONDS - authAgeSeconds };
    token = signJwt(key, claims({ scope: scopes.join(' '), ...extra }, NOW_SECONDS));
    tokens.set(id, token);
  }
  return token;
}

export type Effect = 'allow' | 'deny';

/** One table's authorizer. */
export class AuthorizerOracle {
  private readonly telemetry = captureTelemetry();
  private readonly handler: ReturnType<typeof createHandler>;
  /** The routes API Gateway has as resources (HTTP API's `$default` is no resource path). */
  private readonly resources: { method: string; path: string }[];
  private readonly hasDefault: boolean;

  constructor(readonly table: OracleTable) {
    this.handler = createHandler({
      env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({ ...table })) },
      fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
      telemetry: this.telemetry,
      now: () => NOW_SECONDS * 1000,
    });
    this.resources = table.routes.filter((r) => r.path !== '$default') as { method: string; path: string }[];
    this.hasDefault = table.routes.length > this.resources.length;
  }

  /** What a request (`GET /a/b`) gets with a token holding exactly `scopes`: the authorizer's decided effect. */
  async effect(request: string, scopes: readonly string[], authAgeSeconds?: number): Promise<Effect> {
    const space = request.indexOf(' ');
    const method = request.slice(0, space);
    const path = request.slice(space + 1);
    const segments = path === '/' ? [] : path.slice(1).split('/');
    const routed = gatewayRoute(this.resources, method, segments);
    const token = tokenFor(scopes, authAgeSeconds);
    if (this.hasDefault) {
      // An HTTP API: API Gateway names the route it matched (`$default` when none), and the authorizer decides for it.
      const routeKey = routed === 'any' ? undefined : routed === -1 ? '$default' : this.routeKey(routed);
      if (routeKey === undefined) throw new Error(`the oracle does not route ${request} for an HTTP API`);
      await this.handler(httpEvent(token, routeKey, method, path));
    } else {
      if (routed === -1 && this.table.unrouted === 'unreachable') return 'deny';
      await this.handler({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: `${ARN}${method}${path}` });
    }
    const record = this.telemetry.decisions.at(-1);
    if (record?.effect !== 'allow' && record?.effect !== 'deny')
      throw new Error(`${request}: the authorizer answered ${record?.effect} (${record?.reason}: ${record?.detail})`);
    return record.effect;
  }

  private routeKey(index: number): string {
    const r = this.resources[index] as { method: string; path: string };
    return `${r.method === '*' ? 'ANY' : r.method} ${r.path}`;
  }
}

function httpEvent(token: string, routeKey: string, method: string, path: string): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `${ARN}${method}${path}`,
    identitySource: [`Bearer ${token}`],
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}` },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8' },
      requestId: 'r1',
      routeKey,
      stage: 'prod',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

/**
 * Confirm a reported change with the real authorizers of both tables: the witness request,
 * with a token holding exactly the reported scopes (authenticated as reported), is allowed by
 * the head and denied by the base (a gain), or the other way round (a loss). Throws saying
 * what the authorizers decided otherwise.
 */
export async function confirmChange(change: AccessChange, gained: boolean, base: AuthorizerOracle, head: AuthorizerOracle): Promise<void> {
  const [was, is] = await Promise.all([
    base.effect(change.request, change.scopes, change.authAgeSeconds),
    head.effect(change.request, change.scopes, change.authAgeSeconds),
  ]);
  const expected = gained ? ['deny', 'allow'] : ['allow', 'deny'];
  if (was !== expected[0] || is !== expected[1]) {
    throw new Error(`${gained ? 'gain' : 'loss'} ${JSON.stringify(change)} not confirmed: base authorizer ${was}, head authorizer ${is}`);
  }
}

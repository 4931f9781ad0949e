import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import fc from 'fast-check';
import { Unrouted } from '../../../core/config';
import { compilePolicy, renderPolicy } from '../../../core/policy';
import { parseRouteTemplate } from '../../../core/routes';
import { missingAnyOf, satisfiesAnyOf } from '../../../core/scopes';
import { createHandler } from '../../../functions/authorizer/handler';
import { ARN, rawConfig } from '../../support/fixtures';
import { evaluate, gatewayRoute } from '../../support/iam';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';

const key = makeKey('ES256', 'any-1');

const ROUTES = [
  { method: 'GET', path: '/telemetry', anyOf: [['telemetry:read'], ['Telemetry.Read.All']] },
  { method: 'POST', path: '/telemetry', anyOf: [['telemetry:write', 'telemetry:read'], ['Telemetry.ReadWrite.All']] },
  { method: 'GET', path: '/health', scopes: [] },
];

function handler() {
  const telemetry = captureTelemetry();
  const h = createHandler({
    env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({ routes: ROUTES })) },
    fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
    telemetry,
  });
  return { h, telemetry };
}

const event = (scope: string, route: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken: `Bearer ${signJwt(key, claims({ scope }))}`,
  methodArn: `${ARN}${route}`,
});

describe('routes with alternatives (anyOf)', () => {
  it('allows a route to a token holding any one of its scope sets (a delegated scope or an app role)', async () => {
    const { h } = handler();
    for (const scope of ['telemetry:read', 'Telemetry.Read.All']) {
      const result = (await h(event(scope, 'GET/telemetry'))) as APIGatewayAuthorizerResult;
      expect(evaluate(result.policyDocument, `${ARN}GET/telemetry`)).toBe('Allow');
    }
  });

  it('needs all the scopes of one set: two halves of different sets do not add up', async () => {
    const { h, telemetry } = handler();
    const result = (await h(event('telemetry:write', 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}POST/telemetry`)).toBe('Deny');
    expect(telemetry.decisions[0]).toMatchObject({
      reason: 'insufficient_scope',
      missingAnyOf: [['telemetry:read'], ['Telemetry.ReadWrite.All']],
    });
    expect(telemetry.decisions[0]?.missingScopes).toBeUndefined();
    const both = (await h(event('telemetry:write telemetry:read', 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(both.policyDocument, `${ARN}POST/telemetry`)).toBe('Allow');
  });

  it('gives one policy for the whole API that reflects every anyOf route', async () => {
    const { h } = handler();
    const result = (await h(event('Telemetry.Read.All', 'GET/health'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}GET/telemetry`)).toBe('Allow');
    expect(evaluate(result.policyDocument, `${ARN}POST/telemetry`)).toBe('Deny');
    expect(evaluate(result.policyDocument, `${ARN}GET/health`)).toBe('Allow');
  });

  it('names the missing scopes of each alternative in order', () => {
    expect(missingAnyOf([['a:b', 'c:d'], ['e:f']], new Set(['c:d']))).toEqual([['a:b'], ['e:f']]);
  });
});

// --- property: anyOf verdicts, compiled and evaluated as IAM does, give the table's answer ---

const SCOPES = ['s:1', 's:2', 's:3', 's:4'];
const setArb = fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 3 });
const routeArb = fc.record({
  method: fc.constantFrom('GET', 'POST', '*' as const),
  path: fc.constantFrom('/a', '/a/{p}', '/b', '/b/{p}/c', '/{p}', '/a/{rest+}'),
  anyOf: fc.array(setArb, { minLength: 1, maxLength: 3 }),
});
const tableArb = fc.uniqueArray(routeArb, { minLength: 1, maxLength: 6, selector: (r) => `${r.method} ${parseRouteTemplate(r.path).key}` });

describe('anyOf routes against an IAM evaluator (property)', () => {
  it('allows a route exactly when the token holds every scope of one of its sets, and never a route it does not', () => {
    fc.assert(
      fc.property(tableArb, fc.uniqueArray(fc.constantFrom(...SCOPES)), (rows, scopes) => {
        const granted = new Set(scopes);
        // The definition, written independently: some set whose every scope is granted.
        const expected = rows.map((r) => r.anyOf.some((set) => set.filter((s) => !granted.has(s)).length === 0));
        expect(rows.map((r) => satisfiesAnyOf(r.anyOf, granted))).toEqual(expected);
        const table = rows.map((r) => ({ method: r.method, template: parseRouteTemplate(r.path) }));
        const compiled = compilePolicy(table, (i) => satisfiesAnyOf(rows[i]?.anyOf ?? [], granted), { unrouted: Unrouted.DENY });
        const policy = renderPolicy(compiled, ARN);
        for (const [i, row] of rows.entries()) {
          for (const method of row.method === '*' ? ['GET', 'POST', 'PUT'] : [row.method]) {
            const segments = row.path
              .slice(1)
              .split('/')
              .map((s) => (s.startsWith('{') ? 'x' : s));
            if (gatewayRoute(rows, method, segments) !== i) continue;
            const actual = evaluate(policy, `${ARN}${method}/${segments.join('/')}`);
            if (!expected[i] && actual === 'Allow') throw new Error(`allowed ${method} ${row.path} without any of its sets`);
            if (expected[i] && actual === 'Deny' && !compiled.overDenied.includes(i))
              throw new Error(`denied ${method} ${row.path} with one of its sets`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

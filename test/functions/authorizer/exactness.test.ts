import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import fc from 'fast-check';
import { createHandler } from '../../../functions/authorizer/handler';
import { ARN, rawConfig } from '../../support/fixtures';
import { evaluate, gatewayRoute } from '../../support/iam';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { routeMethodArb, routePathArb, routeTableArb } from '../../support/route-shapes';
import { captureTelemetry } from '../../support/telemetry';

/**
 * The authorizer, end to end through its handler with real signed tokens, on route tables of
 * the shapes real APIs have: the policy it returns for a request gives that request the effect
 * it decided, and wherever API Gateway would reuse that policy for another request of the
 * same token (its cache), the policy agrees with the decision the authorizer itself makes for
 * that other request. A policy that cannot be exact is returned for the one request alone.
 */

const key = makeKey('ES256', 'exact-1');
const SCOPES = ['s:a', 's:b', 's:c'];

const routeArb = fc.record({
  method: routeMethodArb,
  path: routePathArb(),
  scopes: fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 2 }),
  acceptOverDeny: fc.constantFrom(false, false, false, false, true),
});
const tableArb = routeTableArb(routeArb, { minLength: 1, maxLength: 6 });

/** Requests worth asking about: each route instantiated, one and two segments deeper, with a trailing slash, and other methods. */
function probes(rows: { method: string; path: string }[]): string[] {
  const out = new Set<string>(['GET/', 'GET/zz', 'HEAD/items/x']);
  for (const row of rows) {
    const base = row.path
      .split('/')
      .slice(1)
      .filter((s) => s.length > 0)
      .map((s) => (s.startsWith('{') ? 'x' : s));
    for (const method of row.method === '*' ? ['GET', 'POST', 'HEAD'] : [row.method, 'HEAD']) {
      for (const segments of [base, [...base, 'y'], [...base, 'y', 'z']]) {
        out.add(`${method}/${segments.join('/')}`);
        if (segments.length > 0) out.add(`${method}/${segments.join('/')}/`);
      }
    }
  }
  return [...out];
}

describe('the returned policy against the authorizer’s own decisions (property, real tokens)', () => {
  for (const unrouted of ['deny', 'unreachable'] as const) {
    it(`gives the asked request its decided effect, and every cached replay the decision the authorizer makes (unrouted: ${unrouted})`, async () => {
      let replays = 0;
      await fc.assert(
        fc.asyncProperty(tableArb, fc.uniqueArray(fc.constantFrom(...SCOPES)), async (rows, scopes) => {
          const telemetry = captureTelemetry();
          const h = createHandler({
            env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({ routes: rows, unrouted, policyCacheTtlSeconds: 300 })) },
            fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
            telemetry,
          });
          const token = `Bearer ${signJwt(key, claims({ scope: scopes.join(' ') }))}`;
          const requests = probes(rows);
          const decided = new Map<string, { effect: string; policy: APIGatewayAuthorizerResult['policyDocument']; single: boolean }>();
          for (const request of requests) {
            const result = (await h({
              type: 'TOKEN',
              authorizationToken: token,
              methodArn: `${ARN}${request}`,
            })) as APIGatewayAuthorizerResult;
            const record = telemetry.decisions.at(-1);
            const single = (record?.policyInexact ?? []).some((note) => note.includes('single-request'));
            decided.set(request, { effect: record?.effect as string, policy: result.policyDocument, single });
            const effect = evaluate(result.policyDocument, `${ARN}${request}`) === 'Allow' ? 'allow' : 'deny';
            if (effect !== record?.effect)
              throw new Error(`${request}: decided ${record?.effect} (${record?.reason}), its own policy says ${effect}`);
          }
          for (const [a, answer] of decided) {
            // A policy for one request alone is never reused (the authorizer must be uncached for such route sets).
            if (answer.single) continue;
            for (const [b, other] of decided) {
              const [method, ...rest] = b.split('/');
              const segments = rest.length === 1 && rest[0] === '' ? [] : rest;
              // Under `unreachable`, API Gateway answers a request no route matches itself.
              if (unrouted === 'unreachable' && gatewayRoute(rows, method as string, segments) === -1) continue;
              replays++;
              const replay = evaluate(answer.policy, `${ARN}${b}`) === 'Allow' ? 'allow' : 'deny';
              if (replay !== other.effect)
                throw new Error(`the policy returned for ${a} says ${replay} for ${b}; the authorizer decides ${other.effect}`);
            }
          }
        }),
        { numRuns: 60 },
      );
      expect(replays).toBeGreaterThan(1000);
    }, 120_000);
  }

  it('answers a token whose route set has no exact policy with a policy for the asked request alone', async () => {
    const telemetry = captureTelemetry();
    const routes = [
      { method: 'GET', path: '/telemetry/{id}', scopes: ['s:a'] },
      { method: 'GET', path: '/telemetry/{id}/history', scopes: ['s:b'] },
    ];
    const h = createHandler({
      env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({ routes, policyCacheTtlSeconds: 0 })) },
      fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
      telemetry,
    });
    const token = `Bearer ${signJwt(key, claims({ scope: 's:a s:b' }))}`;
    const ask = async (request: string) =>
      ((await h({ type: 'TOKEN', authorizationToken: token, methodArn: `${ARN}${request}` })) as APIGatewayAuthorizerResult).policyDocument;
    const policy = await ask('GET/telemetry/t1');
    expect(policy.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${ARN}GET/telemetry/t1`] }]);
    expect(telemetry.decisions.at(-1)?.policyInexact).toEqual(['over_deny:GET /telemetry/{id} (single-request policy)']);
    // The unrouted request the whole-API policy could not deny is denied by the decision and its own policy.
    expect(evaluate(await ask('GET/telemetry/t1/export'), `${ARN}GET/telemetry/t1/export`)).toBe('Deny');
    expect(telemetry.decisions.at(-1)?.reason).toBe('no_route');
  });
});

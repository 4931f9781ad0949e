import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { MetricName } from '../../../core/metrics';
import { createHandler } from '../../../functions/authorizer/handler';
import { lambdaTelemetry } from '../../../functions/authorizer/telemetry';
import { ARN, rawConfig } from '../../support/fixtures';
import { evaluate } from '../../support/iam';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';

const key = makeKey('ES256', 'ro-1');

function handler(overrides: Record<string, unknown>) {
  const telemetry = captureTelemetry();
  const h = createHandler({
    env: { AUTHZ_CONFIG: JSON.stringify(rawConfig(overrides)) },
    fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) },
    telemetry,
  });
  return { h, telemetry };
}

const event = (token: string, route: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken: `Bearer ${token}`,
  methodArn: `${ARN}${route}`,
});

describe('enforcement: report-only', () => {
  const readOnly = signJwt(key, claims({ scope: 'telemetry:read' }));

  it('lets a valid token through a route it lacks the scopes for, logging the would-be decision with enforced: false', async () => {
    const { h, telemetry } = handler({ enforcement: 'report-only' });
    const result = (await h(event(readOnly, 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}POST/telemetry`)).toBe('Allow');
    expect(telemetry.decisions[0]).toMatchObject({
      reason: 'insufficient_scope',
      effect: 'allow',
      enforced: false,
      missingScopes: ['telemetry:write'],
    });
  });

  it('allows the would-be denied request only, not the rest of the API', async () => {
    const { h } = handler({ enforcement: 'report-only' });
    const result = (await h(event(readOnly, 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}POST/system/reboot`)).toBe('Deny');
    expect(evaluate(result.policyDocument, `${ARN}PUT/config/x`)).toBe('Deny');
  });

  it('lets a request no route matches through too, logged as no_route', async () => {
    const { h, telemetry } = handler({ enforcement: 'report-only' });
    const result = (await h(event(readOnly, 'DELETE/nowhere'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}DELETE/nowhere`)).toBe('Allow');
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'no_route', enforced: false });
  });

  it('refuses invalid tokens with 401 in report-only as in every mode', async () => {
    const { h, telemetry } = handler({ enforcement: 'report-only' });
    const expired = signJwt(key, claims({ exp: Math.floor(Date.now() / 1000) - 3600 }));
    await expect(h(event(expired, 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    await expect(h(event('not-a-token', 'GET/telemetry'))).rejects.toThrow(/^Unauthorized$/);
    expect(telemetry.decisions.map((d) => d.effect)).toEqual(['unauthorized', 'unauthorized']);
  });

  it('reports only on the routes that say so, and enforces the others', async () => {
    const routes = [
      { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'], enforcement: 'report-only' },
      { method: 'PUT', path: '/config/{name}', scopes: ['config:update'] },
    ];
    const { h, telemetry } = handler({ routes });
    const passed = (await h(event(readOnly, 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(passed.policyDocument, `${ARN}POST/telemetry`)).toBe('Allow');
    const denied = (await h(event(readOnly, 'PUT/config/x'))) as APIGatewayAuthorizerResult;
    expect(evaluate(denied.policyDocument, `${ARN}PUT/config/x`)).toBe('Deny');
    expect(telemetry.decisions.map((d) => [d.reason, d.effect, d.enforced])).toEqual([
      ['insufficient_scope', 'allow', false],
      ['insufficient_scope', 'deny', true],
    ]);
  });

  it('lets a route enforce under a report-only configuration', async () => {
    const routes = [{ method: 'POST', path: '/telemetry', scopes: ['telemetry:write'], enforcement: 'enforce' }];
    const { h } = handler({ routes, enforcement: 'report-only' });
    const result = (await h(event(readOnly, 'POST/telemetry'))) as APIGatewayAuthorizerResult;
    expect(evaluate(result.policyDocument, `${ARN}POST/telemetry`)).toBe('Deny');
  });

  it('answers an HTTP API event with isAuthorized: true and the would-be reason in the context', async () => {
    const { h, telemetry } = handler({ enforcement: 'report-only' });
    const answer = await h({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:h7tp4p1/dev/POST/dev/telemetry',
      routeKey: 'POST /telemetry',
      rawPath: '/dev/telemetry',
      identitySource: [`Bearer ${readOnly}`],
      headers: { authorization: `Bearer ${readOnly}` },
      requestContext: { domainName: 'h7tp4p1.execute-api.eu-west-1.amazonaws.com', http: { method: 'POST', path: '/dev/telemetry' } },
    } as never);
    expect(answer).toMatchObject({ isAuthorized: true, context: { reason: 'insufficient_scope' } });
    expect(telemetry.decisions[0]).toMatchObject({ enforced: false });
  });

  it('counts a would-be deny in the WouldDeny metric, and an enforced deny not', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const telemetry = lambdaTelemetry('report-only-test');
      const base = { method: 'POST', path: '/telemetry', latencyMs: 1 } as const;
      telemetry.decision({ ...base, reason: 'insufficient_scope', effect: 'allow', enforced: false });
      telemetry.decision({ ...base, reason: 'insufficient_scope', effect: 'deny', enforced: true });
      telemetry.decision({ ...base, reason: 'allow', effect: 'allow', enforced: false });
    } finally {
      spy.mockRestore();
    }
    const emf = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"'));
    expect(emf).toHaveLength(3);
    expect(emf.map((l) => MetricName.WouldDeny in JSON.parse(l))).toEqual([true, false, false]);
  });
});

import { Authorizer, type Decision, type DecisionTarget } from '../../../functions/authorizer/authorize';
import { KeyStore } from '../../../functions/authorizer/key-store';
import { ARN, config } from '../../support/fixtures';
import { evaluate } from '../../support/iam';
import { claims, makeKey, signJwt } from '../../support/jwt';

/**
 * The decision core on its own (functions/authorizer/authorize.ts): which outcome a request
 * gets (401, 500, or a policy with its reason), and which policy API Gateway is given, the
 * token's whole-API policy or one for the asked request alone, in both `unrouted` modes.
 * Real signed tokens; the key set comes from an in-memory fetcher.
 */

const key = makeKey('ES256', 'authorize-1');
const held = () => new KeyStore({ fetcher: { fetch: async () => ({ keys: [key.publicJwk] }) } });

function authorizer(overrides: Record<string, unknown> = {}, keys: KeyStore = held()): Authorizer {
  return new Authorizer({ config: config(overrides), keys });
}

function bearer(claimOverrides: Record<string, unknown> = {}): string {
  return `Bearer ${signJwt(key, claims(claimOverrides))}`;
}

async function policyDecision(az: Authorizer, authorization: string, target: DecisionTarget) {
  const decision = await az.decide(authorization, target);
  if (decision.outcome !== 'policy') throw new Error(`expected a policy, got ${decision.outcome} (${decision.record.reason})`);
  return decision;
}

/** Two routes that need no scope: any valid token may call both. */
const OPEN_ROUTES = [
  { method: 'GET', path: '/a', scopes: [] },
  { method: 'GET', path: '/b', scopes: [] },
];

describe('decide: a refused token is a 401, an unverifiable one a 500, and neither gets a policy', () => {
  const az = authorizer();
  const nowSeconds = Math.floor(Date.now() / 1000);

  it.each([
    ['no Authorization value', undefined, 'invalid_token.missing'],
    ['another scheme', `Basic ${Buffer.from('u:p').toString('base64')}`, 'invalid_token.scheme'],
    ['an expired token', bearer({ iat: nowSeconds - 900, exp: nowSeconds - 600 }), 'invalid_token.expired'],
    ['a token for another audience', bearer({ aud: 'https://other.example' }), 'invalid_token.audience'],
    ['a token of an issuer not configured', bearer({ iss: 'https://idp.test/realms/other' }), 'invalid_token.issuer'],
  ])('answers %s with 401 and its reason', async (_case, authorization, reason) => {
    const decision = await az.decide(authorization, `${ARN}GET/telemetry`);
    expect(decision.outcome).toBe('unauthorized');
    expect(decision.record).toMatchObject({ reason, effect: 'unauthorized' });
    expect('result' in decision).toBe(false);
  });

  it('answers 500 (keys_unavailable), not 401, when the key set cannot be had: a valid token must not be refused as invalid', async () => {
    const down = new KeyStore({ fetcher: { fetch: () => Promise.reject(new Error('connect ECONNREFUSED')) } });
    const decision = await authorizer({}, down).decide(bearer(), `${ARN}GET/telemetry`);
    expect(decision.outcome).toBe('error');
    expect(decision.record).toMatchObject({ reason: 'keys_unavailable', effect: 'error' });
  });

  it.each([
    ['the key set is still to be fetched (a promise)', false],
    ['the key is held (no promise)', true],
  ])('comes back with an error decision, never a throw nor a rejection, for a malformed method ARN while %s', async (_case, warm) => {
    const az = authorizer();
    if (warm) await az.decide(bearer(), `${ARN}GET/telemetry`);
    let decision: Decision | Promise<Decision> | undefined;
    expect(() => {
      decision = az.decide(bearer(), 'arn:aws:lambda:not-an-execute-api-arn');
    }).not.toThrow();
    expect(decision instanceof Promise).toBe(!warm);
    await expect(Promise.resolve(decision)).resolves.toMatchObject({
      outcome: 'error',
      record: { reason: 'internal_error', effect: 'error' },
    });
  });
});

describe('decide: the reason of a policy decision', () => {
  it('denies a route the token lacks a scope for with insufficient_scope, in the whole-API policy that still allows its other routes', async () => {
    const decision = await policyDecision(authorizer(), bearer({ scope: 'telemetry:read' }), `${ARN}PUT/config/site`);
    expect(decision.allowed).toBe(false);
    expect(decision.record).toMatchObject({
      reason: 'insufficient_scope',
      effect: 'deny',
      enforced: true,
      route: 'PUT /config/{name}',
      missingScopes: ['config:update'],
    });
    const policy = decision.result.policyDocument;
    expect(evaluate(policy, `${ARN}PUT/config/site`)).toBe('Deny');
    expect(evaluate(policy, `${ARN}GET/telemetry/t1`)).toBe('Allow');
  });

  it('answers step_up_required, not insufficient_scope, when the scopes suffice but the authentication is too old', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const stale = bearer({ scope: 'system:reboot', auth_time: nowSeconds - 3600 });
    const decision = await policyDecision(authorizer(), stale, `${ARN}POST/system/reboot`);
    expect(decision.record).toMatchObject({ reason: 'step_up_required', effect: 'deny', route: 'POST /system/reboot' });
    expect(decision.record.missingScopes).toBeUndefined();
    expect(evaluate(decision.result.policyDocument, `${ARN}POST/system/reboot`)).toBe('Deny');
  });

  it('denies with over_deny a request that the accepted, over-denying whole-API policy denies, and returns that policy', async () => {
    const az = authorizer({
      routes: [
        { method: 'GET', path: '/telemetry/{id}', scopes: ['s:a'], acceptOverDeny: true },
        { method: 'GET', path: '/telemetry/{id}/history', scopes: ['s:b'] },
      ],
      unrouted: 'deny',
    });
    const token = bearer({ scope: 's:a s:b' });
    const overDenied = await policyDecision(az, token, `${ARN}GET/telemetry/t1`);
    expect(overDenied.allowed).toBe(false);
    expect(overDenied.record).toMatchObject({ reason: 'over_deny', effect: 'deny', route: 'GET /telemetry/{id}' });
    expect(overDenied.record.policyInexact).toEqual(['over_deny:GET /telemetry/{id}']);
    // The whole-API policy, not one for this request: it answers the token's other route too.
    const policy = overDenied.result.policyDocument;
    expect(evaluate(policy, `${ARN}GET/telemetry/t1`)).toBe('Deny');
    expect(evaluate(policy, `${ARN}GET/telemetry/t1/history`)).toBe('Allow');
    const other = await policyDecision(az, token, `${ARN}GET/telemetry/t1/history`);
    expect(other.record.reason).toBe('allow');
    expect(other.result.policyDocument).toEqual(policy);
  });
});

describe('decide: one whole-API policy per token, for the stage asked', () => {
  it('gives every request of a token the same policy, so that what API Gateway caches for one answers the others as decided', async () => {
    const az = authorizer();
    const token = bearer({ scope: 'telemetry:read' });
    const first = await policyDecision(az, token, `${ARN}GET/telemetry`);
    const second = await policyDecision(az, token, `${ARN}POST/telemetry`);
    expect(second.result.policyDocument).toEqual(first.result.policyDocument);
    expect(evaluate(first.result.policyDocument, `${ARN}POST/telemetry`)).toBe('Deny');
    expect(evaluate(second.result.policyDocument, `${ARN}GET/telemetry/t1`)).toBe('Allow');
  });

  it("names the stage asked in the policy, never another stage's copy of the same token's policy", async () => {
    const az = authorizer();
    const token = bearer({ scope: 'telemetry:read' });
    const dev = ARN.replace('/prod/', '/dev/');
    await policyDecision(az, token, `${ARN}GET/telemetry`);
    const onDev = await policyDecision(az, token, `${dev}GET/telemetry`);
    expect(evaluate(onDev.result.policyDocument, `${dev}GET/telemetry/t1`)).toBe('Allow');
    expect(evaluate(onDev.result.policyDocument, `${ARN}GET/telemetry/t1`)).not.toBe('Allow');
  });
});

describe('decide: a request no route matches (no_route), in both unrouted modes', () => {
  it('under unrouted deny, answers it with the whole-API policy, which denies it and nothing else of the token', async () => {
    const az = authorizer({ routes: OPEN_ROUTES, unrouted: 'deny' });
    const token = bearer();
    const routed = await policyDecision(az, token, `${ARN}GET/a`);
    const unrouted = await policyDecision(az, token, `${ARN}GET/c`);
    expect(unrouted.allowed).toBe(false);
    expect(unrouted.record).toMatchObject({ reason: 'no_route', effect: 'deny', path: '/c' });
    expect(unrouted.record.route).toBeUndefined();
    expect(unrouted.result.policyDocument).toEqual(routed.result.policyDocument);
    expect(evaluate(unrouted.result.policyDocument, `${ARN}GET/c`)).toBe('Deny');
  });

  it('under unrouted unreachable, adds one that reached the authorizer anyway to the Deny of the whole-API policy', async () => {
    const az = authorizer({ routes: OPEN_ROUTES, unrouted: 'unreachable' });
    const token = bearer();
    const routed = await policyDecision(az, token, `${ARN}GET/a`);
    // The exact policy of an API with no other resources may allow beyond the table (GET/?*).
    expect(evaluate(routed.result.policyDocument, `${ARN}GET/c`)).toBe('Allow');
    const unrouted = await policyDecision(az, token, `${ARN}GET/c`);
    expect(unrouted.record).toMatchObject({ reason: 'no_route', effect: 'deny' });
    const policy = unrouted.result.policyDocument;
    expect(evaluate(policy, `${ARN}GET/c`)).toBe('Deny');
    expect(evaluate(policy, `${ARN}GET/a`)).toBe('Allow');
    expect(evaluate(policy, `${ARN}GET/b`)).toBe('Allow');
    // The routed request's policy is left as it was: the addition is for the unrouted request's answer only.
    expect(evaluate((await policyDecision(az, token, `${ARN}GET/a`)).result.policyDocument, `${ARN}GET/c`)).toBe('Allow');
  });

  it('under unrouted unreachable, denies the whole stage to one whose path holds an IAM wildcard, which no Resource can name alone', async () => {
    const az = authorizer({ routes: OPEN_ROUTES, unrouted: 'unreachable' });
    const decision = await policyDecision(az, bearer(), `${ARN}GET/c*d`);
    expect(decision.record).toMatchObject({ reason: 'no_route', effect: 'deny' });
    expect(decision.result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${ARN}*`] }]);
  });

  it.each(['deny', 'unreachable'])('under unrouted %s, denies a path with an empty segment as no_route, saying why', async (mode) => {
    const az = authorizer({ routes: OPEN_ROUTES, unrouted: mode });
    const decision = await policyDecision(az, bearer(), `${ARN}GET/a/`);
    expect(decision.record).toMatchObject({ reason: 'no_route', effect: 'deny' });
    expect(decision.record.detail).toMatch(/empty segment/);
    expect(evaluate(decision.result.policyDocument, `${ARN}GET/a/`)).toBe('Deny');
  });
});

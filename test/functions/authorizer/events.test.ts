import type { Decision } from '../../../functions/authorizer/authorize';
import { type AuthorizerEvent, answerOf, requestOf } from '../../../functions/authorizer/events';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/telemetry';
const tokenEvent = { type: 'TOKEN', authorizationToken: 'Bearer t', methodArn: METHOD_ARN } as AuthorizerEvent;
const httpEvent = {
  version: '2.0',
  type: 'REQUEST',
  routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:h7tp4p1/dev/GET/dev/admin',
  routeKey: 'GET /admin',
  rawPath: '/dev/admin',
  headers: { Authorization: 'Bearer t', DPoP: 'proof' },
  requestContext: { domainName: 'api.example.com', http: { method: 'GET' } },
} as unknown as AuthorizerEvent;

const policy: Decision = {
  outcome: 'policy',
  allowed: false,
  result: { principalId: 'u1', policyDocument: { Version: '2012-10-17', Statement: [] }, context: { sub: 'u1' } },
  record: { reason: 'insufficient_scope', effect: 'deny', latencyMs: 1 },
};

describe('answerOf: every outcome becomes API Gateway answer in one place', () => {
  it('a REST policy decision answers the policy', () => {
    expect(answerOf(tokenEvent, policy)).toBe((policy as Extract<Decision, { outcome: 'policy' }>).result);
  });

  it('an HTTP API policy decision answers isAuthorized with the context and the reason', () => {
    expect(answerOf(httpEvent, policy)).toEqual({ isAuthorized: false, context: { sub: 'u1', reason: 'insufficient_scope' } });
  });

  it('an unauthorized decision throws exactly "Unauthorized", the message API Gateway turns into a 401', () => {
    const decision: Decision = {
      outcome: 'unauthorized',
      record: { reason: 'invalid_token.expired', effect: 'unauthorized', latencyMs: 1 },
    };
    expect(() => answerOf(tokenEvent, decision)).toThrow(/^Unauthorized$/);
  });

  it('throws the 401 and the 500 as plain Errors without a stack trace, for the Lambda runtime to log and report cheaply', () => {
    const thrown = (decision: Decision) => {
      try {
        answerOf(tokenEvent, decision);
      } catch (error) {
        return error as Error;
      }
      throw new Error('answerOf did not throw');
    };
    const limit = Error.stackTraceLimit;
    const unauthorized = thrown({
      outcome: 'unauthorized',
      record: { reason: 'invalid_token.signature', effect: 'unauthorized', latencyMs: 1 },
    });
    expect(unauthorized).toBeInstanceOf(Error);
    expect(unauthorized.constructor).toBe(Error);
    expect(unauthorized.message).toBe('Unauthorized');
    expect(unauthorized.stack).toBe('Error: Unauthorized');
    const failure = thrown({ outcome: 'error', record: { reason: 'keys_unavailable', effect: 'error', latencyMs: 1 } });
    expect(failure.stack).toBe('Error: Authorizer failure: keys_unavailable');
    // The process's own stack traces are untouched.
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('other').stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('an error decision is a deliberate 500 naming its reason', () => {
    const keys: Decision = { outcome: 'error', record: { reason: 'keys_unavailable', effect: 'error', latencyMs: 1 } };
    expect(() => answerOf(tokenEvent, keys)).toThrow('Authorizer failure: keys_unavailable');
    const config: Decision = { outcome: 'error', record: { reason: 'config_unavailable', effect: 'error', latencyMs: 1 } };
    expect(() => answerOf(httpEvent, config)).toThrow('Authorizer configuration unavailable');
  });
});

describe('requestOf: what a decision is asked about', () => {
  it('a TOKEN event: its authorizationToken and method ARN, no binding', () => {
    expect(requestOf(tokenEvent)).toEqual({ authorization: 'Bearer t', target: METHOD_ARN });
  });

  it('an HTTP API event: its routeKey (never rawPath), headers by any case, the URL called', () => {
    expect(requestOf(httpEvent)).toEqual({
      authorization: 'Bearer t',
      target: { routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:h7tp4p1/dev/GET/dev/admin', routeKey: 'GET /admin' },
      binding: { method: 'GET', url: 'https://api.example.com/dev/admin', dpop: 'proof', clientCertPem: undefined },
    });
  });
});

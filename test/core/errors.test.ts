import {
  ConfigError,
  FetchError,
  IntrospectionUnavailableError,
  InvalidTokenError,
  KeysUnavailableError,
  MalformedEventError,
  messageOf,
  reasonOf,
  ScopegateError,
} from '../../core/errors';
import { OpenApiError } from '../../core/openapi';
import { outcomeOf, Reason, type ReasonCode } from '../../core/reasons';
import { failure } from '../../functions/authorizer/authorize';
import { parseMethodArn } from '../../functions/authorizer/method-arn';

describe('every scopegate error carries its reason code', () => {
  it.each<[string, ScopegateError, ReasonCode]>([
    ['InvalidTokenError', new InvalidTokenError(Reason.Expired, 'the token has expired'), Reason.Expired],
    ['KeysUnavailableError', new KeysUnavailableError('https://idp.test/jwks', 'timeout'), Reason.KeysUnavailable],
    [
      'IntrospectionUnavailableError',
      new IntrospectionUnavailableError('https://idp.test/introspect', 'timeout'),
      Reason.IntrospectionUnavailable,
    ],
    ['ConfigError', new ConfigError('issuers[0].audience', 'must be a string'), Reason.ConfigUnavailable],
    ['OpenApiError', new OpenApiError('GET /pets', 'no security'), Reason.ConfigUnavailable],
    ['MalformedEventError', new MalformedEventError('not an execute-api method ARN'), Reason.Internal],
    ['FetchError', new FetchError('https://idp.test/jwks', 'timeout', 'late'), Reason.Internal],
  ])('%s', (name, error, reason) => {
    expect(error).toBeInstanceOf(ScopegateError);
    expect(error.name).toBe(name);
    expect(error.reason).toBe(reason);
    expect(reasonOf(error)).toBe(reason);
  });

  it('an InvalidTokenError carries no stack trace (a 401 is read by its reason and message), and leaves the limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = new InvalidTokenError(Reason.Malformed, 'the header is not JSON');
    expect(error.stack?.split('\n')).toHaveLength(1);
    expect(error).toMatchObject({ name: 'InvalidTokenError', reason: Reason.Malformed, message: 'the header is not JSON' });
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new KeysUnavailableError('https://idp.test/jwks', 'timeout').stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('anything else thrown is internal_error', () => {
    expect(reasonOf(new TypeError('x is undefined'))).toBe(Reason.Internal);
    expect(reasonOf('a string')).toBe(Reason.Internal);
    expect(messageOf('a string')).toBe('a string');
  });

  it('a method ARN API Gateway would never send is a MalformedEventError', () => {
    expect(() => parseMethodArn('arn:aws:s3:::bucket')).toThrow(MalformedEventError);
  });
});

describe('outcomeOf: the one mapping from reason to answer', () => {
  it.each(Object.values(Reason))('%s', (reason) => {
    const expected = reason.startsWith('invalid_token.')
      ? 'unauthorized'
      : ['allow', 'insufficient_scope', 'step_up_required', 'no_route', 'over_deny'].includes(reason)
        ? 'policy'
        : 'error';
    expect(outcomeOf(reason)).toBe(expected);
  });
});

describe('a failure is decided by its reason, not its class', () => {
  it('a new ScopegateError subclass is decided by the reason it carries', () => {
    class JwksRateLimited extends ScopegateError {
      readonly reason = Reason.KeysUnavailable;
    }
    expect(failure(new JwksRateLimited('429 from the IdP'), 1.5)).toEqual({
      outcome: 'error',
      record: { reason: 'keys_unavailable', effect: 'error', detail: '429 from the IdP', latencyMs: 1.5 },
    });
  });

  it('an invalid token is a 401 with its own reason', () => {
    expect(failure(new InvalidTokenError(Reason.Audience, 'the token is not for this audience'), 2)).toEqual({
      outcome: 'unauthorized',
      record: { reason: 'invalid_token.audience', effect: 'unauthorized', detail: 'the token is not for this audience', latencyMs: 2 },
    });
  });

  it('a bug (a plain Error) is a 500 internal_error', () => {
    expect(failure(new RangeError('index out of range'), 0)).toMatchObject({
      outcome: 'error',
      record: { reason: 'internal_error', effect: 'error', detail: 'index out of range' },
    });
  });
});

import fc from 'fast-check';
import { AUTHORIZATION_CREDENTIALS, BEARER_VALIDATION_REGEX } from '../../core/authorization';
import { extractCredentials } from '../../functions/authorizer/token';

const gateway = new RegExp(BEARER_VALIDATION_REGEX);
const B64TOKEN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/'.split('');

/** `Bearer` with each letter in either case. */
const scheme = fc
  .tuple(...'bearer'.split('').map((c) => fc.boolean().map((upper) => (upper ? c.toUpperCase() : c))))
  .map((cs) => cs.join(''));
const b64token = fc
  .tuple(fc.array(fc.constantFrom(...B64TOKEN), { minLength: 1, maxLength: 200 }), fc.nat({ max: 3 }))
  .map(([chars, pad]) => `${chars.join('')}${'='.repeat(pad)}`);

describe('the Authorization syntax', () => {
  it('reads every value API Gateway admits as the same bearer token', () => {
    fc.assert(
      fc.property(scheme, b64token, (s, token) => {
        const value = `${s} ${token}`;
        expect(gateway.test(value)).toBe(true);
        expect(extractCredentials(value, 8192)).toEqual({ scheme: 'bearer', token });
      }),
    );
  });

  it('leaves DPoP and blank-padded values, which the gateway regex refuses, to REQUEST and HTTP API authorizers', () => {
    for (const value of ['DPoP abc', 'Bearer  abc', 'Bearer\tabc', 'bearer abc ']) {
      expect(gateway.test(value)).toBe(false);
      expect(AUTHORIZATION_CREDENTIALS.test(value)).toBe(true);
    }
  });
});

import { parseConfig } from '../../../core/config';
import { InvalidTokenError } from '../../../core/errors';
import { checkAudience } from '../../../functions/authorizer/claims';
import { type IntrospectionAnswer, Introspector } from '../../../functions/authorizer/introspection';
import { KeyStore } from '../../../functions/authorizer/key-store';
import { TokenVerifier } from '../../../functions/authorizer/verify';

const reasonOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof InvalidTokenError ? error.reason : `not an InvalidTokenError: ${String(error)}`;
  }
  return undefined;
};

describe('checkAudience', () => {
  const audience = ['https://api.example.com'];

  it('accepts an aud string or list that contains one of the audience', () => {
    expect(reasonOf(() => checkAudience('https://api.example.com', audience))).toBeUndefined();
    expect(reasonOf(() => checkAudience(['other', 'https://api.example.com'], audience))).toBeUndefined();
  });

  it('refuses a missing aud and an aud for another API as invalid_token.audience', () => {
    expect(reasonOf(() => checkAudience(undefined, audience))).toBe('invalid_token.audience');
    expect(reasonOf(() => checkAudience('https://other.example.com', audience))).toBe('invalid_token.audience');
    expect(reasonOf(() => checkAudience([], audience))).toBe('invalid_token.audience');
  });

  it('refuses an aud that is not a string or a list of strings as invalid_token.claims, even beside a matching value', () => {
    expect(reasonOf(() => checkAudience(5, audience))).toBe('invalid_token.claims');
    expect(reasonOf(() => checkAudience([5, 'https://api.example.com'], audience))).toBe('invalid_token.claims');
    expect(reasonOf(() => checkAudience({ 0: 'https://api.example.com' }, audience))).toBe('invalid_token.claims');
  });

  it('checks nothing for an issuer configured by clientIds alone (no audience)', () => {
    expect(reasonOf(() => checkAudience(5, []))).toBeUndefined();
    expect(reasonOf(() => checkAudience(undefined, []))).toBeUndefined();
  });
});

describe('an introspection answer is held to the claim rules of a JWT', () => {
  const { config } = parseConfig({
    issuers: [
      {
        issuer: 'https://as.example.com',
        jwksUri: 'https://as.example.com/jwks',
        audience: 'https://api.example.com',
        introspection: { endpoint: 'https://as.example.com/introspect', clientId: 'scopegate', clientSecret: 's' },
      },
    ],
    routes: [],
  });
  const active = { active: true, token_type: 'Bearer', aud: 'https://api.example.com', scope: 'telemetry:read', client_id: 'c' };
  const verifierAnswering = (answer: IntrospectionAnswer) =>
    new TokenVerifier(
      config,
      new KeyStore({ fetcher: { fetch: () => Promise.reject(new Error('no key set is read for an opaque token')) } }),
      Date.now,
      new Introspector({ call: async () => answer }),
    );
  const reasonFor = async (answer: IntrospectionAnswer) =>
    verifierAnswering(answer)
      .verify('opaque-0123456789')
      .then(
        () => undefined,
        (error: unknown) => (error instanceof InvalidTokenError ? error.reason : String(error)),
      );

  it('grants the scopes of a well-formed answer', async () => {
    await expect(verifierAnswering(active).verify('opaque-0123456789')).resolves.toMatchObject({ scopes: ['telemetry:read'] });
  });

  it('refuses a scope that is not a string (RFC 7662 §2.2), as a JWT scope claim, instead of granting nothing', async () => {
    await expect(reasonFor({ ...active, scope: ['telemetry:read'] })).resolves.toBe('invalid_token.claims');
  });

  it('refuses an aud list holding a non-string, as a JWT aud, even when another element matches', async () => {
    await expect(reasonFor({ ...active, aud: [7, 'https://api.example.com'] })).resolves.toBe('invalid_token.claims');
  });

  it('refuses an answer for another audience', async () => {
    await expect(reasonFor({ ...active, aud: 'https://other.example.com' })).resolves.toBe('invalid_token.audience');
  });
});

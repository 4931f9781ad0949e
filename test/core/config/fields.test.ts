import { join } from 'node:path';
import { parseConfig } from '../../../core/config';
import { ConfigError, ConfigErrors } from '../../../core/errors';
import { readEnvironment } from '../../../lib/environment';

/** The same bad value, once in the authorizer's configuration and once in a cdk.json environment. */
const environment = {
  account: '123456789012',
  region: 'eu-west-1',
  issuers: [{ name: 'idp', issuer: 'https://idp.test', audience: 'api' }],
  routes: join(__dirname, '../../../examples/routes.json'),
};
const config = { issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks', audience: 'api' }], routes: [] };

const errorOf = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    // A cdk.json environment reports all its errors at once: here there is one.
    if (error instanceof ConfigErrors && error.errors.length === 1) return error.errors[0] as ConfigError;
    throw error;
  }
  throw new Error('no error');
};

describe('one set of field validators for the authorizer configuration and the cdk.json environments', () => {
  it.each([
    ['enforcement', 'audit', 'must be "enforce" or "report-only"'],
    ['clockToleranceSeconds', 301, 'must be an integer from 0 to 300'],
    ['clockToleranceSeconds', 1.5, 'must be an integer from 0 to 300'],
  ])('%s = %j: the same message, each naming its own field', (key, value, message) => {
    const fromConfig = errorOf(() => parseConfig({ ...config, [key]: value }));
    const fromEnvironment = errorOf(() => readEnvironment({ dev: { ...environment, [key]: value } }, 'dev'));
    expect(fromConfig.field).toBe(key);
    expect(fromEnvironment.field).toBe(`environments.dev.${key}`);
    expect(fromConfig.message).toBe(`${key}: ${message}`);
    expect(fromEnvironment.message).toBe(`environments.dev.${key}: ${message}`);
  });

  it('reads an issuer audience the same way: a string, or a list of non-empty strings', () => {
    const issuer = (audience: unknown) => ({ ...environment.issuers[0], audience });
    expect(readEnvironment({ dev: { ...environment, issuers: [issuer('api')] } }, 'dev').issuers[0]?.audience).toEqual(['api']);
    expect(errorOf(() => readEnvironment({ dev: { ...environment, issuers: [issuer(['api', ''])] } }, 'dev')).field).toBe(
      'environments.dev.issuers[0].audience[1]',
    );
    expect(errorOf(() => parseConfig({ ...config, issuers: [{ ...config.issuers[0], audience: ['api', ''] }] })).field).toBe(
      'issuers[0].audience[1]',
    );
  });
});

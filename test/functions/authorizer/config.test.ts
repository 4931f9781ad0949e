import { parseConfig, parseConfigJson } from '../../../functions/authorizer/config';
import { rawConfig } from '../../support/fixtures';

function issue(overrides: Record<string, unknown> = {}, issuer: Record<string, unknown> = {}) {
  try {
    parseConfig(rawConfig(overrides, issuer));
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('parseConfig', () => {
  it('accepts the contract example and fills defaults', () => {
    const { config } = parseConfig(rawConfig());
    expect(config.clockToleranceSeconds).toBe(30);
    expect(config.maxTokenBytes).toBe(8192);
    expect(config.issuers[0]?.tokenType).toBe('at+jwt');
    expect(config.routes).toHaveLength(7);
  });

  it('defaults algorithms to RS256, ES256 and EdDSA', () => {
    const raw = rawConfig();
    delete (raw.issuers[0] as Record<string, unknown>).algorithms;
    expect(parseConfig(raw).config.issuers[0]?.algorithms).toEqual(['RS256', 'ES256', 'EdDSA']);
  });

  it.each([
    [{}, { audience: [] }, 'issuers[0].audience'],
    [{}, { jwksUri: 'http://keys.test/jwks' }, 'issuers[0].jwksUri: must be an https URL'],
    [{}, { algorithms: ['HS256'] }, 'issuers[0].algorithms[0]: HS256 is refused'],
    [{}, { algorithms: ['none'] }, 'issuers[0].algorithms[0]: none is refused'],
    [{}, { algorithms: ['PS256'] }, 'issuers[0].algorithms[0]: PS256 is not supported'],
    [{}, { scopeClaim: 'scopes' }, 'issuers[0].scopeClaim'],
    [{}, { audiences: ['x'] }, 'issuers[0].audiences: unknown field'],
    [{ routes: [{ method: 'FETCH', path: '/a', scopes: [] }] }, {}, 'routes[0].method'],
    [{ routes: [{ method: 'GET', path: 'a', scopes: [] }] }, {}, 'routes[0].path'],
    [{ routes: [{ method: 'GET', path: '/a/{p+}/b', scopes: [] }] }, {}, 'routes[0].path'],
    [{ routes: [{ method: 'GET', path: '/a*', scopes: [] }] }, {}, 'routes[0].path'],
    [{ routes: [{ method: 'GET', path: '/a', scopes: ['has space'] }] }, {}, 'routes[0].scopes[0]'],
    [{ routes: [{ method: 'GET', path: '/a', scopes: [], maxAuthAgeSeconds: -1 }] }, {}, 'routes[0].maxAuthAgeSeconds'],
    [
      {
        routes: [
          { method: 'GET', path: '/a/{x}', scopes: [] },
          { method: 'GET', path: '/a/{y}', scopes: [] },
        ],
      },
      {},
      'routes[1]: GET /a/{y} is the same route as routes[0]',
    ],
    [{ clockToleranceSeconds: 'soon' }, {}, 'clockToleranceSeconds'],
    [{ maxTokenBytes: 10 }, {}, 'maxTokenBytes'],
    [{ issuers: [] }, {}, 'issuers: must be a non-empty list'],
  ])('names the bad field: %j %j → %s', (overrides, issuer, message) => {
    expect(issue(overrides, issuer)).toContain(message);
  });

  it('refuses two issuers with the same iss', () => {
    const raw = rawConfig();
    raw.issuers.push({ ...(raw.issuers[0] as Record<string, unknown>) } as never);
    expect(() => parseConfig(raw)).toThrow('issuers[1].issuer: duplicates issuers[0].issuer');
  });

  it('warns on broad scopes and scopes not of the resource:action shape', () => {
    const { warnings } = parseConfig(rawConfig({ routes: [{ method: 'GET', path: '/a', scopes: ['admin', 'readstuff', 'a:b'] }] }));
    expect(warnings).toEqual([
      'routes[0].scopes[0]: "admin" is a broad scope; prefer granular resource:action scopes',
      'routes[0].scopes[1]: "readstuff" is not of the resource:action shape',
    ]);
  });

  it('reports JSON syntax errors as configuration errors', () => {
    expect(() => parseConfigJson('{"issuers": [')).toThrow(/\(root\): not valid JSON/);
  });
});

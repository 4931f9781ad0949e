import { parseConfig, parseConfigJson } from '../../../core/config';
import { AUDIENCE, rawConfig } from '../../support/fixtures';

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
    [{}, { scopeClaim: 'my scopes' }, 'issuers[0].scopeClaim[0]: "my scopes" is not a claim name'],
    [{}, { scopeClaim: [] }, 'issuers[0].scopeClaim: must be a string or a non-empty list'],
    [{}, { profile: 'ping' }, 'issuers[0].profile: must be one of rfc9068, cognito, entra, okta, auth0, keycloak, oidc'],
    [{}, { audience: undefined }, "issuers[0].audience: is required (the API's identifier"],
    [{}, { audience: undefined, profile: 'cognito', clientIds: [] }, 'issuers[0].clientIds: must be a string or a non-empty list'],
    [{}, { audience: undefined, profile: 'cognito' }, 'issuers[0].clientIds: is required with the cognito profile'],
    [{}, { clientClaim: 7 }, 'issuers[0].clientClaim'],
    [{}, { jwksUri: undefined, issuer: 'urn:idp' }, 'issuers[0].jwksUri: is required when the issuer is not an https URL'],
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
    [
      { routes: [{ method: 'GET', path: '/a', scopes: ['a:b'], anyOf: [['c:d']] }] },
      {},
      'routes[0].anyOf: a route has scopes or anyOf, not both',
    ],
    [{ routes: [{ method: 'GET', path: '/a', anyOf: [] }] }, {}, 'routes[0].anyOf: must be a non-empty list'],
    [{ routes: [{ method: 'GET', path: '/a', anyOf: ['a:b'] }] }, {}, 'routes[0].anyOf[0]: must be a list of scopes'],
    [{ routes: [{ method: 'GET', path: '/a', anyOf: [['a:b'], ['c d']] }] }, {}, 'routes[0].anyOf[1][0]'],
    [{ routes: [{ method: 'GET', path: '$default', scopes: [] }] }, {}, 'routes[0].method: must be "*" for the $default route'],
    [{ enforcement: 'audit' }, {}, 'enforcement: must be "enforce" or "report-only"'],
    [{ routes: [{ method: 'GET', path: '/a', scopes: [], enforcement: 'off' }] }, {}, 'routes[0].enforcement'],
    [{ enforcement: 'report-only', policyCacheTtlSeconds: 300 }, {}, 'enforcement: "report-only" needs policyCacheTtlSeconds 0'],
    [
      { policyCacheTtlSeconds: 60, routes: [{ method: 'GET', path: '/a', scopes: [], enforcement: 'report-only' }] },
      {},
      'routes[0].enforcement: "report-only" needs policyCacheTtlSeconds 0',
    ],
    [
      {},
      { introspection: { endpoint: 'https://as.test/i', clientId: 'c', clientSecret: 's', omitsAudience: 'yes' } },
      'issuers[0].introspection.omitsAudience',
    ],
    [
      {},
      { introspection: { endpoint: 'https://as.test/i', clientId: 'c', clientSecret: 's', accessTokenTypes: [] } },
      'issuers[0].introspection.accessTokenTypes',
    ],
    [
      {},
      { introspection: { endpoint: 'https://as.test/i', clientId: 'c', clientSecret: 's', tokenPrefix: '' } },
      'issuers[0].introspection.tokenPrefix',
    ],
  ])('names the bad field: %j %j → %s', (overrides, issuer, message) => {
    expect(issue(overrides, issuer)).toContain(message);
  });

  it('refuses two issuers with the same iss', () => {
    const raw = rawConfig();
    raw.issuers.push({ ...(raw.issuers[0] as Record<string, unknown>) } as never);
    expect(() => parseConfig(raw)).toThrow('issuers[1].issuer: duplicates issuers[0].issuer');
  });

  it('warns on broad scopes and scopes of no granular shape', () => {
    const { warnings } = parseConfig(rawConfig({ routes: [{ method: 'GET', path: '/a', scopes: ['admin', 'readstuff', 'a:b'] }] }));
    expect(warnings).toEqual([
      'routes[0].scopes[0]: "admin" is a broad scope; prefer granular resource:action scopes',
      'routes[0].scopes[1]: "readstuff" is not of a granular shape (resource:action, resource/action, Resource.Action)',
    ]);
  });

  it("takes Cognito's resourceServer/scope and Entra's Resource.Action.Constraint scopes without a warning", () => {
    const scopes = ['orders/read', 'https://api.example.com/orders.read', 'Orders.Read.All', 'Files.Read'];
    const { warnings } = parseConfig(rawConfig({ routes: [{ method: 'GET', path: '/a', scopes }] }));
    expect(warnings).toEqual([]);
  });

  it('takes clientIds beside an audience, and a list of scope claims', () => {
    const issuer = parseConfig(rawConfig({}, { clientIds: ['app-1'], scopeClaim: ['scp', 'roles'] })).config.issuers[0];
    expect(issuer).toMatchObject({ audience: [AUDIENCE], clientIds: ['app-1'], scopeClaims: ['scp', 'roles'], profile: 'rfc9068' });
  });

  it.each(['rfc9068', 'entra', 'okta', 'auth0', 'keycloak', 'oidc'])(
    'refuses an issuer of profile %s with clientIds and no audience, naming issuers[i].audience (only cognito goes without)',
    (profile) => {
      const raw = rawConfig({}, { profile, audience: undefined, clientIds: ['app-1'] });
      raw.issuers.unshift({ ...raw.issuers[0], issuer: 'https://other.test/', audience: ['https://api.example.internal'] } as never);
      expect(() => parseConfig(raw)).toThrow(/^issuers\[1\]\.audience: is required/);
    },
  );

  it('takes a cognito issuer by its clientIds without audience (its access tokens carry no aud)', () => {
    const issuer = parseConfig(rawConfig({}, { profile: 'cognito', audience: undefined, clientIds: ['app-1'] })).config.issuers[0];
    expect(issuer).toMatchObject({ audience: [], clientIds: ['app-1'], profile: 'cognito' });
  });

  it("fills the profile's client and permission claims unless clientClaim or scopeClaim override them", () => {
    const entra = parseConfig(rawConfig({}, { profile: 'entra' })).config.issuers[0];
    expect(entra).toMatchObject({ clientClaims: ['azp', 'appid'], scopeClaims: ['scp', 'roles'] });
    const overridden = parseConfig(rawConfig({}, { profile: 'entra', clientClaim: 'appid', scopeClaim: 'roles' })).config.issuers[0];
    expect(overridden).toMatchObject({ clientClaims: ['appid'], scopeClaims: ['roles'] });
  });

  it('derives the key set URL of Cognito and Entra issuers, and leaves others to discovery', () => {
    const jwks = (issuer: Record<string, unknown>) =>
      parseConfig(rawConfig({}, { jwksUri: undefined, ...issuer })).config.issuers[0]?.jwksUri;
    expect(jwks({ profile: 'cognito', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123' })).toBe(
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
    );
    expect(jwks({ profile: 'entra', issuer: 'https://login.microsoftonline.com/7f1c2d3e-0000-4000-8000-000000000001/v2.0' })).toBe(
      'https://login.microsoftonline.com/7f1c2d3e-0000-4000-8000-000000000001/discovery/v2.0/keys',
    );
    expect(jwks({ profile: 'entra', issuer: 'https://sts.windows.net/7f1c2d3e-0000-4000-8000-000000000001/' })).toBe(
      'https://login.microsoftonline.com/7f1c2d3e-0000-4000-8000-000000000001/discovery/keys',
    );
    expect(jwks({ profile: 'keycloak', issuer: 'https://idp.test/realms/ops' })).toBeUndefined();
    expect(
      jwks({
        profile: 'cognito',
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
        jwksUri: 'https://m.test/k.json',
      }),
    ).toBe('https://m.test/k.json');
  });

  it('warns on an Auth0 issuer without its trailing slash, an Okta org server, and Cognito with audience', () => {
    const warn = (issuer: Record<string, unknown>) =>
      parseConfig(rawConfig({ routes: [] }, issuer)).warnings.filter((w) => w.startsWith('issuers'));
    expect(warn({ profile: 'auth0', issuer: 'https://tenant.eu.auth0.com' })[0]).toContain('trailing slash');
    expect(warn({ profile: 'auth0', issuer: 'https://tenant.eu.auth0.com/' })).toEqual([]);
    expect(warn({ profile: 'okta', issuer: 'https://acme.okta.com' })[0]).toContain('org authorization server');
    expect(warn({ profile: 'okta', issuer: 'https://acme.okta.com/oauth2/default' })).toEqual([]);
    expect(warn({ profile: 'cognito', clientIds: ['c1'] })[0]).toContain('no aud claim');
    expect(warn({ profile: 'cognito', audience: undefined, clientIds: ['c1'] })).toEqual([]);
  });

  it('reports JSON syntax errors as configuration errors', () => {
    expect(() => parseConfigJson('{"issuers": [')).toThrow(/\(root\): not valid JSON/);
  });

  it.each([
    ['an unquoted value', '{"issuers": [{"clientSecret": s3cr3t-Pr3fix}]}', 'line 1, column 31 (offset 30)'],
    ['a trailing comma', '{\n  "clientSecret": "s3cr3t-Pr3fix",\n}', 'line 3, column 1 (offset 37)'],
    ['an unterminated string', '{"clientSecret": "s3cr3t-Pr3fix', 'line 1, column 32 (offset 31)'],
    ['a control character in a string', '{"clientSecret": "s3cr3t-Pr3fix\u0001"}', 'line 1, column 32 (offset 31)'],
  ])('gives the position of a JSON syntax error, never the text (%s)', (_name, text, position) => {
    let message = '';
    try {
      parseConfigJson(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`(root): not valid JSON: syntax error at ${position}`);
    expect(message).not.toContain('s3cr3t');
  });

  it('reads anyOf routes as alternatives, and scopes routes as one set', () => {
    const { config } = parseConfig(
      rawConfig({
        routes: [
          { method: 'GET', path: '/a', anyOf: [['telemetry:read'], ['Telemetry.Read.All']] },
          { method: 'GET', path: '/b', scopes: ['telemetry:read'] },
        ],
      }),
    );
    expect(config.routes[0]).toMatchObject({ scopes: [], anyOf: [['telemetry:read'], ['Telemetry.Read.All']] });
    expect(config.routes[1]).toMatchObject({ scopes: ['telemetry:read'], anyOf: [['telemetry:read']] });
  });

  it('takes the route enforcement over the top-level one, which defaults to enforce', () => {
    const routes = [
      { method: 'GET', path: '/a', scopes: [] },
      { method: 'GET', path: '/b', scopes: [], enforcement: 'enforce' },
    ];
    expect(parseConfig(rawConfig({ routes })).config.routes.map((r) => r.enforcement)).toEqual(['enforce', 'enforce']);
    const reportOnly = parseConfig(rawConfig({ routes, enforcement: 'report-only' })).config;
    expect(reportOnly.enforcement).toBe('report-only');
    expect(reportOnly.routes.map((r) => r.enforcement)).toEqual(['report-only', 'enforce']);
  });
});

describe('issuers[].jwksFallbackUris', () => {
  it('reads keys from jwksUri first, then the fallbacks in order', () => {
    const fallbacks = ['https://idp.test/realms/ops/.well-known/openid-configuration'];
    const parsed = parseConfig(rawConfig({}, { jwksFallbackUris: fallbacks })).config;
    expect(parsed.issuers[0]?.jwksUris).toEqual(['https://keys.test/ops/jwks.json', ...fallbacks]);
  });

  it('names the fallback that is not an https URL', () => {
    expect(issue({}, { jwksFallbackUris: ['http://idp.test/jwks'] })).toMatch(/^issuers\[0\]\.jwksFallbackUris\[0\]: must be an https URL/);
  });
});

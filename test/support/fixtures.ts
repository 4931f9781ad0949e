import { parseConfig } from '../../core/config';

/** The contract's example routes, with `PUT /config/{name}/secrets` beside `PUT /config/{name}`. */
export const EXAMPLE_ROUTES = [
  { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
  { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
  { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'] },
  { method: 'POST', path: '/system/reboot', scopes: ['system:reboot'], maxAuthAgeSeconds: 300 },
  { method: 'PUT', path: '/config/{name}', scopes: ['config:update'] },
  { method: 'PUT', path: '/config/{name}/secrets', scopes: ['config:update', 'config:secrets'] },
  { method: 'GET', path: '/health', scopes: [] },
];

export const ISSUER = 'https://idp.test/realms/ops';
export const AUDIENCE = 'https://api.example.internal';
export const JWKS_URI = 'https://keys.test/ops/jwks.json';
export const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';

/** A raw configuration object for the tests' issuer; `overrides` are merged at the top. */
export function rawConfig(overrides: Record<string, unknown> = {}, issuer: Record<string, unknown> = {}) {
  return {
    issuers: [
      {
        issuer: ISSUER,
        jwksUri: JWKS_URI,
        audience: [AUDIENCE],
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        tokenType: 'at+jwt',
        ...issuer,
      },
    ],
    routes: EXAMPLE_ROUTES,
    ...overrides,
  };
}

/** The validated configuration of {@link rawConfig}. */
export function config(overrides: Record<string, unknown> = {}, issuer: Record<string, unknown> = {}) {
  return parseConfig(rawConfig(overrides, issuer)).config;
}

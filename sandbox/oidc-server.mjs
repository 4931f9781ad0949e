// A real OAuth 2.0 authorization server (oidc-provider) on loopback over HTTPS, issuing
// RFC 9068 JWT access tokens by the client-credentials grant with resource indicators.
// Used by the integration tests and by `npm start`. oidc-provider is ESM-only, so it runs
// in its own process; the parent talks to it over IPC:
//   {cmd:'rotate'}            put a new signing key first (the old one stays published)
//   {cmd:'jwks', mode}        make the JWKS endpoint answer 'ok', 'fail' (503) or 'hang'
//   {cmd:'introspection', mode} the same for the introspection endpoint
//   {cmd:'stats'}             reply {jwksFetches, introspections}
//   {cmd:'refreshToken', clientId, scope} reply {refreshToken}: a refresh token of a grant
//                             to that client (as the authorization-code flow with
//                             offline_access would issue), for introspection tests
// Environment: TLS_CERT, TLS_KEY (paths), PORT (default 0), AUDIENCE, TOKEN_TTL.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Provider, { errors } from 'oidc-provider';

const AUDIENCE = process.env.AUDIENCE ?? 'https://api.example.internal';
// Tokens for this resource are opaque, for introspection (RFC 7662).
const OPAQUE_AUDIENCE = process.env.OPAQUE_AUDIENCE ?? 'https://opaque.example.internal';
const TOKEN_TTL = Number(process.env.TOKEN_TTL ?? 300);
const ALL_SCOPES = 'telemetry:read telemetry:write system:reboot config:update config:secrets';

export const CLIENTS = [
  { client_id: 'sensor-node-01', client_secret: 'sensor-node-01-secret', scope: 'telemetry:read telemetry:write' },
  { client_id: 'ops-console', client_secret: 'ops-console-secret', scope: 'telemetry:read system:reboot config:update' },
  { client_id: 'dashboard', client_secret: 'dashboard-secret', scope: 'telemetry:read' },
  // The resource server itself: it only introspects.
  { client_id: 'scopegate-authorizer', client_secret: 'scopegate-authorizer-secret' },
];

function newKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: `es-${randomUUID().slice(0, 8)}`, alg: 'ES256', use: 'sig' };
}

let keys = [newKey()];
let jwksMode = 'ok';
let jwksFetches = 0;
let introspectionMode = 'ok';
let introspections = 0;
const hanging = new Set();

const server = createServer({ cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) });
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

function makeProvider() {
  const provider = new Provider(issuer, {
    scopes: ['openid', 'offline_access', ...ALL_SCOPES.split(' ')],
    clients: CLIENTS.map((c) => ({
      ...c,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      // A client that sends a DPoP proof to the token endpoint gets a DPoP-bound token (cnf.jkt).
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource === OPAQUE_AUDIENCE) {
            return { scope: ALL_SCOPES, audience: OPAQUE_AUDIENCE, accessTokenTTL: TOKEN_TTL, accessTokenFormat: 'opaque' };
          }
          if (resource !== AUDIENCE) throw new errors.InvalidTarget();
          return {
            scope: ALL_SCOPES,
            audience: AUDIENCE,
            accessTokenTTL: TOKEN_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  provider.proxy = false;
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error:', error));
  return provider;
}

let provider = makeProvider();
let callback = provider.callback();

async function refreshToken(clientId, scope) {
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId: 'user-1', clientId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(OPAQUE_AUDIENCE, scope);
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    accountId: 'user-1',
    client,
    grantId,
    gty: 'authorization_code',
    scope: `openid offline_access ${scope}`,
    resource: OPAQUE_AUDIENCE,
  });
  return token.save();
}
server.on('request', (req, res) => {
  if (req.url === '/token/introspection') {
    introspections++;
    if (introspectionMode === 'fail') {
      res.writeHead(503).end('unavailable');
      return;
    }
    if (introspectionMode === 'hang') {
      hanging.add(res);
      return;
    }
  }
  if (req.url === '/jwks') {
    jwksFetches++;
    if (jwksMode === 'fail') {
      res.writeHead(503).end('unavailable');
      return;
    }
    if (jwksMode === 'hang') {
      hanging.add(res);
      return;
    }
  }
  callback(req, res);
});

process.on('message', (msg) => {
  if (msg.cmd === 'rotate') {
    keys = [newKey(), ...keys].slice(0, 2);
    provider = makeProvider();
    callback = provider.callback();
    process.send({ ok: true, kid: keys[0].kid });
  } else if (msg.cmd === 'jwks') {
    jwksMode = msg.mode;
    if (jwksMode !== 'hang') for (const res of hanging) res.destroy();
    process.send({ ok: true });
  } else if (msg.cmd === 'introspection') {
    introspectionMode = msg.mode;
    if (introspectionMode !== 'hang') for (const res of hanging) res.destroy();
    process.send({ ok: true });
  } else if (msg.cmd === 'refreshToken') {
    refreshToken(msg.clientId, msg.scope).then(
      (value) => process.send({ refreshToken: value }),
      (error) => process.send({ error: String(error) }),
    );
  } else if (msg.cmd === 'stats') {
    process.send({ jwksFetches, introspections });
  }
});
process.on('disconnect', () => process.exit(0));

const info = {
  issuer,
  jwksUri: `${issuer}/jwks`,
  tokenEndpoint: `${issuer}/token`,
  introspectionEndpoint: `${issuer}/token/introspection`,
  revocationEndpoint: `${issuer}/token/revocation`,
  audience: AUDIENCE,
  opaqueAudience: OPAQUE_AUDIENCE,
  clients: CLIENTS.filter((c) => c.scope !== undefined),
};
if (process.send) process.send({ ready: true, ...info });
else console.log(JSON.stringify(info));

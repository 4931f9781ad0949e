/**
 * `npm start`: the whole flow on one machine, no AWS account. A real OAuth server
 * (oidc-provider) issues RFC 9068 access tokens by client credentials; a local gateway that
 * behaves as API Gateway REST with a TOKEN authorizer runs the real authorizer bundle (the one
 * the constructs deploy and the package ships, built by `npm run build:functions`, which
 * `npm start` runs first) in front of a demo API.
 *
 * Environment: PORT (gateway, default 3000), AS_PORT (OAuth server, default PORT+1),
 * CACHE_TTL (authorizer cache, seconds, default 60).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import exampleRoutes from '../examples/routes.json';
import { BUNDLE_FILE, BUNDLES_DIR } from '../lib/bundle-options';
import { startGateway, type TokenAuthorizerHandler } from './gateway';

const ROOT = join(__dirname, '..');
const CERT = join(__dirname, 'tls', 'cert.pem');
const KEY = join(__dirname, 'tls', 'key.pem');
const AUDIENCE = 'https://api.example.internal';

async function main() {
  // Node reads NODE_EXTRA_CA_CERTS only at start-up: restart with it so that the bundled
  // authorizer trusts the sandbox's self-signed OAuth server, as it would a real CA.
  if (process.env.NODE_EXTRA_CA_CERTS !== CERT) {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: CERT },
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  const port = Number(process.env.PORT ?? 3000);
  const asPort = Number(process.env.AS_PORT ?? port + 1);
  const cacheTtlSeconds = Number(process.env.CACHE_TTL ?? 60);

  const as: ChildProcess = fork(join(__dirname, 'oidc-server.mjs'), [], {
    env: { ...process.env, TLS_CERT: CERT, TLS_KEY: KEY, PORT: String(asPort), AUDIENCE, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const info = await new Promise<{
    issuer: string;
    jwksUri: string;
    tokenEndpoint: string;
    clients: { client_id: string; client_secret: string; scope: string }[];
  }>((resolve, reject) => {
    as.once('message', (m) => resolve(m as never));
    as.once('exit', (code) => reject(new Error(`the OAuth server exited (${code}); is port ${asPort} free?`)));
  });
  const stop = () => {
    as.kill();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const outdir = join(ROOT, 'sandbox', '.build');
  mkdirSync(outdir, { recursive: true });
  const bundle = join(ROOT, BUNDLES_DIR, 'authorizer', BUNDLE_FILE);
  if (!existsSync(bundle)) throw new Error(`the authorizer bundle ${bundle} is missing: npm start builds it (npm run build:functions)`);
  process.env.AUTHZ_CONFIG = JSON.stringify({
    issuers: [{ issuer: info.issuer, jwksUri: info.jwksUri, audience: AUDIENCE, algorithms: ['ES256'], tokenType: 'at+jwt' }],
    routes: exampleRoutes,
    policyCacheTtlSeconds: cacheTtlSeconds,
    // The gateway's resources are exactly the route table, as where the construct creates them.
    unrouted: 'unreachable',
  });
  const configFile = join(outdir, 'config.json');
  writeFileSync(configFile, `${process.env.AUTHZ_CONFIG}\n`);
  const { handler } = (await import(bundle)) as { handler: TokenAuthorizerHandler };
  const gateway = await startGateway({ authorizer: handler, routes: exampleRoutes, cacheTtlSeconds, port });

  const curlToken = (c: { client_id: string; client_secret: string; scope: string }) =>
    `curl -s --cacert sandbox/tls/cert.pem -u ${c.client_id}:${c.client_secret} -d grant_type=client_credentials -d resource=${AUDIENCE} -d "scope=${c.scope}" ${info.tokenEndpoint}`;
  const lines = [
    '',
    `scopegate sandbox ready on ${gateway.url}`,
    `  OAuth server (oidc-provider): ${info.issuer}   JWKS: ${info.jwksUri}`,
    `  authorizer: the Lambda bundle ${bundle}, cache TTL ${cacheTtlSeconds} s`,
    '',
    'Get a token (client credentials; clients and their scopes):',
    ...info.clients.map((c) => `  # ${c.client_id}: ${c.scope}\n  ${curlToken(c)}`),
    '',
    'Call the API with it:',
    `  TOKEN=$(${curlToken(info.clients[0] as never)} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    ...exampleRoutes.map((r) => {
      const path = r.path.replace(/\{[^}]+\}/g, 'x1');
      return `  curl -si -X ${r.method} -H "Authorization: Bearer $TOKEN" ${gateway.url}${path}    # needs ${r.scopes.join(' ') || 'no scope'}`;
    }),
    '',
    'Why 401 and not 403?',
    '  npx scopegate explain --token "$TOKEN" --config sandbox/.build/config.json --ca sandbox/tls/cert.pem',
    '',
    'Does the gateway answer as the model predicts? (after a deploy, the same against the stage URL)',
    `  npx scopegate probe --url ${gateway.url} --token "$TOKEN" --config sandbox/.build/config.json`,
    '',
    'Each decision is logged below as one JSON line with its reason code. Ctrl-C stops.',
    '',
  ];
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(`scopegate sandbox: ${(error as Error).message}`);
  process.exit(1);
});

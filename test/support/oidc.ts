import { type ChildProcess, fork } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { TLS } from './tls';

/** A running oidc-provider child process and what it told about itself. */
export interface OidcServer {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  audience: string;
  /** Ask the child something over IPC and wait for its answer. */
  send(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A fresh access token by client credentials. */
  token(clientId: string, scope?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Start sandbox/oidc-server.mjs on a free loopback port with the test certificate. */
export async function startOidcServer(env: Record<string, string> = {}): Promise<OidcServer> {
  const child: ChildProcess = fork(join(__dirname, '..', '..', 'sandbox', 'oidc-server.mjs'), [], {
    env: { ...process.env, TLS_CERT: TLS.certPath, TLS_KEY: TLS.keyPath, NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const info = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, string>));
    child.once('exit', (code) => reject(new Error(`oidc-server exited with ${code}`)));
  });
  let queue = Promise.resolve<unknown>(undefined);
  const send = (message: Record<string, unknown>) => {
    const next = queue.then(
      () =>
        new Promise<Record<string, unknown>>((resolve) => {
          child.once('message', (m) => resolve(m as Record<string, unknown>));
          child.send(message);
        }),
    );
    queue = next;
    return next;
  };
  const secrets: Record<string, string> = {
    'sensor-node-01': 'sensor-node-01-secret',
    'ops-console': 'ops-console-secret',
    dashboard: 'dashboard-secret',
  };
  const token = (clientId: string, scope?: string) =>
    new Promise<string>((resolve, reject) => {
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        resource: info.audience as string,
        ...(scope ? { scope } : {}),
      }).toString();
      const req = request(
        info.tokenEndpoint as string,
        {
          method: 'POST',
          ca: TLS.cert,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${clientId}:${secrets[clientId]}`).toString('base64')}`,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            const json = JSON.parse(text) as { access_token?: string };
            if (json.access_token) resolve(json.access_token);
            else reject(new Error(`token endpoint: ${res.statusCode} ${text}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    issuer: info.issuer as string,
    jwksUri: info.jwksUri as string,
    tokenEndpoint: info.tokenEndpoint as string,
    audience: info.audience as string,
    send,
    token,
    stop: async () => {
      child.disconnect();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}

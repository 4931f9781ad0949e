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
  opaqueAudience: string;
  introspectionEndpoint: string;
  /** POST a form to the server as a client (Basic auth); resolves to status and JSON body. */
  post(path: string, clientId: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Ask the child something over IPC and wait for its answer. */
  send(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A fresh access token by client credentials (for `resource`, default the JWT audience). */
  token(clientId: string, scope?: string, resource?: string): Promise<string>;
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
  // Each demo client's secret is its id followed by "-secret" (sandbox/oidc-server.mjs).
  const post = (path: string, clientId: string, form: Record<string, string>) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const body = new URLSearchParams(form).toString();
      const req = request(
        `${info.issuer}${path}`,
        {
          method: 'POST',
          ca: TLS.cert,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${clientId}:${clientId}-secret`).toString('base64')}`,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const token = async (clientId: string, scope?: string, resource?: string) => {
    const { status, json } = await post('/token', clientId, {
      grant_type: 'client_credentials',
      resource: resource ?? (info.audience as string),
      ...(scope ? { scope } : {}),
    });
    if (typeof json.access_token !== 'string') throw new Error(`token endpoint: ${status} ${JSON.stringify(json)}`);
    return json.access_token;
  };
  return {
    issuer: info.issuer as string,
    jwksUri: info.jwksUri as string,
    tokenEndpoint: info.tokenEndpoint as string,
    audience: info.audience as string,
    opaqueAudience: info.opaqueAudience as string,
    introspectionEndpoint: info.introspectionEndpoint as string,
    post,
    send,
    token,
    stop: async () => {
      child.disconnect();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}

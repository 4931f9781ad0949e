import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { TLS } from '../support/tls';

/**
 * End to end: `npm start` as a newcomer runs it, a token from the sandbox's OAuth server
 * over HTTP(S), and calls through the local gateway.
 */

const ROOT = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function call(url: string, method: string, token?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function token(endpoint: string, client: string, secret: string, scope: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://api.example.internal', scope }).toString();
    const req = httpsRequest(
      endpoint,
      {
        method: 'POST',
        ca: TLS.cert,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).access_token) : reject(new Error(text))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('npm start', () => {
  let child: ChildProcess;
  let output = '';
  let gateway: string;
  let tokenEndpoint: string;

  beforeAll(async () => {
    const port = await freePort();
    const asPort = await freePort();
    // Its own process group, so that the test can stop npm and everything it started.
    child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PORT: String(port), AS_PORT: String(asPort), CACHE_TTL: '60' },
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes('Ctrl-C stops')) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      child.once('exit', () => reject(new Error(`npm start exited:\n${output}`)));
    });
    gateway = /sandbox ready on (http:\/\/\S+)/.exec(output)?.[1] as string;
    tokenEndpoint = /(https:\/\/127\.0\.0\.1:\d+\/token)/.exec(output)?.[1] as string;
  }, 60000);

  afterAll(async () => {
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    process.kill(-(child.pid as number), 'SIGTERM');
    await exited;
  });

  it('prints how to get a token and call each route', () => {
    expect(output).toContain('curl -s --cacert sandbox/tls/cert.pem -u sensor-node-01:sensor-node-01-secret');
    expect(output).toMatch(/curl -si -X POST -H "Authorization: Bearer \$TOKEN" http:\/\/127\.0\.0\.1:\d+\/system\/reboot/);
  });

  it('allows, answers 403 with insufficient_scope, and 401 with invalid_token', async () => {
    const t = await token(tokenEndpoint, 'dashboard', 'dashboard-secret', 'telemetry:read');
    expect((await call(`${gateway}/telemetry/s1`, 'GET', t)).status).toBe(200);
    const denied = await call(`${gateway}/telemetry`, 'POST', t);
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    const refused = await call(`${gateway}/telemetry`, 'GET', `${t}x`);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect((await call(`${gateway}/telemetry`, 'GET')).status).toBe(401);
    expect(JSON.parse((await call(`${gateway}/nowhere`, 'GET', t)).body).message).toBe('Missing Authentication Token');
  });

  it('serves a second call with the same token from the authorizer cache, and the cached policy answers other routes right', async () => {
    const t = await token(tokenEndpoint, 'sensor-node-01', 'sensor-node-01-secret', 'telemetry:read telemetry:write');
    const first = await call(`${gateway}/telemetry`, 'GET', t);
    expect(first.headers['x-scopegate-authorizer-cache']).toBe('miss');
    const second = await call(`${gateway}/telemetry`, 'GET', t);
    expect(second.headers['x-scopegate-authorizer-cache']).toBe('hit');
    const post = await call(`${gateway}/telemetry`, 'POST', t);
    expect([post.status, post.headers['x-scopegate-authorizer-cache']]).toEqual([200, 'hit']);
    const reboot = await call(`${gateway}/system/reboot`, 'POST', t);
    expect([reboot.status, reboot.headers['x-scopegate-authorizer-cache']]).toEqual([403, 'hit']);
    const deeper = await call(`${gateway}/config/x`, 'PUT', t);
    expect([deeper.status, deeper.headers['x-scopegate-authorizer-cache']]).toEqual([403, 'hit']);
  });

  it('logs one decision line with its reason code per authorizer call', () => {
    const decisions = output.split('\n').filter((l) => l.includes('"message":"decision"'));
    expect(decisions.some((l) => l.includes('"reason":"allow"'))).toBe(true);
    expect(decisions.some((l) => l.includes('"reason":"invalid_token.signature"'))).toBe(true);
  });

  it('answers with the README curl lines as printed, where curl exists', () => {
    let hasCurl = true;
    try {
      execFileSync('curl', ['--version'], { stdio: 'ignore' });
    } catch {
      hasCurl = false;
    }
    if (!hasCurl) return;
    const tokenLine = output.split('\n').find((l) => l.trim().startsWith('TOKEN=$(')) as string;
    const callLine = output.split('\n').find((l) => l.includes('/telemetry    # needs telemetry:read')) as string;
    const script = `${tokenLine.trim()}\n${callLine.replace(/#.*$/, '').trim()} -o /dev/null -w '%{http_code}'`;
    expect(execFileSync('bash', ['-c', script], { cwd: ROOT }).toString()).toBe('200');
  });
});

import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLS } from './tls';

/** How the test key set server answers. */
export type JwksMode = 'ok' | 'fail' | 'hang' | 'huge' | 'html' | 'redirect';

/**
 * A real HTTPS key set server on 127.0.0.1 with the loopback test certificate. Its mode
 * can be switched while a test runs, and it counts the requests it gets.
 */
export class JwksServer {
  mode: JwksMode = 'ok';
  keys: Record<string, unknown>[] = [];
  headers: Record<string, string> = { 'cache-control': 'public, max-age=300' };
  fetches = 0;
  /** Served at /.well-known/openid-configuration when set. */
  discovery: Record<string, unknown> | undefined;
  private server: Server | undefined;
  private readonly hanging = new Set<import('node:http').ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      if (this.discovery !== undefined && req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.discovery));
        return;
      }
      this.fetches++;
      switch (this.mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/json', ...this.headers });
          res.end(JSON.stringify({ keys: this.keys }));
          return;
        case 'fail':
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('unavailable');
          return;
        case 'hang':
          this.hanging.add(res);
          return;
        case 'huge': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let sent = 0;
          const pump = () => {
            while (sent < 64 && res.write(chunk)) sent++;
            if (sent < 64) res.once('drain', pump);
            else res.end();
          };
          res.write('{"keys":[');
          pump();
          return;
        }
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html><body>Sign in</body></html>');
          return;
        case 'redirect':
          res.writeHead(302, { location: 'https://evil.example/jwks.json' });
          res.end();
          return;
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

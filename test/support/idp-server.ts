import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLS } from './tls';

/**
 * A real HTTPS server on 127.0.0.1 (the loopback test certificate) that serves JSON
 * documents at the paths an identity provider uses: its OIDC discovery document and its
 * key set, at the provider's own path shape. It counts the requests per path.
 */
export class IdpServer {
  /** JSON bodies by path; a path without one answers 404. */
  readonly documents = new Map<string, unknown>();
  readonly hits = new Map<string, number>();
  private server: Server | undefined;
  origin = '';

  async start(): Promise<string> {
    this.server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const body = this.documents.get(path);
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  /** Serve a key set at `path`. */
  serveKeys(path: string, keys: Record<string, unknown>[]): string {
    this.documents.set(path, { keys });
    return `${this.origin}${path}`;
  }

  /** Serve the discovery document of `issuer` (at its OIDC Discovery path), naming `jwksUri`. */
  serveDiscovery(issuer: string, jwksUri: string, extra: Record<string, unknown> = {}): void {
    const path = `${new URL(issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`;
    this.documents.set(path, { issuer, jwks_uri: jwksUri, ...extra });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

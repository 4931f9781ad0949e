import { httpGet, httpGetJson } from '../../../functions/shared/http';
import { JwksServer } from '../../support/jwks-server';
import { TLS } from '../../support/tls';

describe('httpGet', () => {
  const server = new JwksServer();
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.mode = 'ok';
    server.keys = [{ kty: 'EC' }];
  });

  it('fetches JSON over HTTPS from a server with a private CA', async () => {
    const { json } = await httpGetJson(url, { ca: TLS.cert });
    expect(json).toEqual({ keys: [{ kty: 'EC' }] });
  });

  it('refuses a server whose certificate is not trusted', async () => {
    await expect(httpGet(url)).rejects.toMatchObject({ kind: 'network' });
  });

  it('caps the body: a 4 MiB key set is cut off at maxBytes', async () => {
    server.mode = 'huge';
    await expect(httpGet(url, { ca: TLS.cert, maxBytes: 65536 })).rejects.toMatchObject({ kind: 'too_large' });
  });

  it('gives up on a hanging server at the deadline', async () => {
    server.mode = 'hang';
    const started = Date.now();
    await expect(httpGet(url, { ca: TLS.cert, timeoutMs: 300 })).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not follow redirects', async () => {
    server.mode = 'redirect';
    await expect(httpGet(url, { ca: TLS.cert })).rejects.toMatchObject({ kind: 'redirect', status: 302 });
  });

  it('rejects 5xx and non-JSON bodies', async () => {
    server.mode = 'fail';
    await expect(httpGet(url, { ca: TLS.cert })).rejects.toMatchObject({ kind: 'status', status: 503 });
    server.mode = 'html';
    await expect(httpGetJson(url, { ca: TLS.cert })).rejects.toMatchObject({ kind: 'content' });
  });

  it('tells onWaiting when it waits for the server (connected, then the request written), before the answer', async () => {
    const events: string[] = [];
    const answer = httpGet(url, { ca: TLS.cert, onWaiting: () => events.push('waiting') }).then(() => events.push('answered'));
    expect(events).toEqual([]);
    await answer;
    expect(events).toEqual(['waiting', 'waiting', 'answered']);
  });

  it('refuses plain http unless allowed', async () => {
    await expect(httpGet('http://127.0.0.1:1/jwks.json')).rejects.toThrow(/only https/);
  });
});

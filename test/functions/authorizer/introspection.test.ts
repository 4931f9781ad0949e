import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../../core/config';
import { FetchError, IntrospectionUnavailableError } from '../../../core/errors';
import {
  checkAccessTokenAnswer,
  httpsIntrospection,
  type IntrospectionAnswer,
  Introspector,
  introspectingIssuerFor,
} from '../../../functions/authorizer/introspection';
import { TLS } from '../../support/tls';

/** An issuer's introspection settings as the configuration validates them (defaults filled in). */
function settings(introspection: Record<string, unknown> = {}) {
  const { config } = parseConfig({
    issuers: [
      {
        issuer: 'https://idp.test',
        jwksUri: 'https://keys.test/jwks',
        audience: 'api',
        introspection: { endpoint: 'https://as.test/introspect', clientId: 'rs', clientSecret: 's', ...introspection },
      },
    ],
    routes: [],
  });
  return config.issuers[0]?.introspection as NonNullable<(typeof config.issuers)[0]['introspection']>;
}

const NOW_S = 1_800_000_000;

describe('Introspector', () => {
  function setup(answer: () => IntrospectionAnswer | Promise<IntrospectionAnswer>) {
    let clock = NOW_S * 1000;
    const tokens: string[] = [];
    const secretReads: string[] = [];
    const introspector = new Introspector({
      call: async (_config, token) => {
        tokens.push(token);
        return answer();
      },
      secrets: async (name) => {
        secretReads.push(name);
        return `secret-of-${name}`;
      },
      now: () => clock,
    });
    return { introspector, tokens, secretReads, advance: (ms: number) => (clock += ms) };
  }

  it('answers a repeated token from the cache for cacheMaxSeconds, then asks again', async () => {
    const { introspector, tokens, advance } = setup(() => ({ active: true, exp: NOW_S + 3600 }));
    const config = settings({ cacheMaxSeconds: 60 });
    await introspector.introspect(config, 'opaque-1');
    advance(59_999);
    await introspector.introspect(config, 'opaque-1');
    expect(tokens).toEqual(['opaque-1']);
    advance(1);
    await introspector.introspect(config, 'opaque-1');
    expect(tokens).toEqual(['opaque-1', 'opaque-1']);
    expect(introspector.calls).toBe(2);
  });

  it("never keeps an answer past the token's exp, even within cacheMaxSeconds", async () => {
    const { introspector, tokens, advance } = setup(() => ({ active: true, exp: NOW_S + 5 }));
    const config = settings({ cacheMaxSeconds: 60 });
    await introspector.introspect(config, 'opaque-1');
    advance(4_999);
    await introspector.introspect(config, 'opaque-1');
    expect(tokens).toHaveLength(1);
    advance(1);
    await introspector.introspect(config, 'opaque-1');
    expect(tokens).toHaveLength(2);
  });

  it('asks again for a token whose answer says its exp has passed', async () => {
    const { introspector, tokens } = setup(() => ({ active: false, exp: NOW_S - 1 }));
    await introspector.introspect(settings(), 'opaque-1');
    await introspector.introspect(settings(), 'opaque-1');
    expect(tokens).toHaveLength(2);
  });

  it('keeps the answers of different tokens and of different endpoints apart', async () => {
    let n = 0;
    const { introspector } = setup(() => ({ active: true, n: ++n }));
    const a = settings();
    const b = settings({ endpoint: 'https://other-as.test/introspect' });
    expect(await introspector.introspect(a, 'opaque-1')).toMatchObject({ n: 1 });
    expect(await introspector.introspect(a, 'opaque-2')).toMatchObject({ n: 2 });
    expect(await introspector.introspect(b, 'opaque-1')).toMatchObject({ n: 3 });
    expect(await introspector.introspect(a, 'opaque-1')).toMatchObject({ n: 1 });
  });

  it('shares one call among concurrent introspections of one token', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { introspector, tokens } = setup(async () => {
      await gate;
      return { active: true };
    });
    const pending = Array.from({ length: 50 }, () => introspector.introspect(settings(), 'opaque-1'));
    open();
    const answers = await Promise.all(pending);
    expect(tokens).toHaveLength(1);
    expect(new Set(answers).size).toBe(1);
  });

  it('fails closed with IntrospectionUnavailableError, its cause kept, and remembers no failure', async () => {
    let down = true;
    const { introspector, tokens } = setup(() => {
      if (down) throw new FetchError('https://as.test/introspect', 'timeout', 'no answer within 100 ms');
      return { active: true };
    });
    const failure = introspector.introspect(settings(), 'opaque-1');
    await expect(failure).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    await expect(failure).rejects.toMatchObject({
      reason: 'introspection_unavailable',
      message: 'introspection failed: no answer within 100 ms',
      cause: expect.objectContaining({ kind: 'timeout' }),
    });
    down = false;
    await expect(introspector.introspect(settings(), 'opaque-1')).resolves.toEqual({ active: true });
    expect(tokens).toHaveLength(2);
  });

  it('reads a secret parameter once for every call, and again only after a failed read', async () => {
    let fail = true;
    const reads: string[] = [];
    const sent: unknown[] = [];
    const introspector = new Introspector({
      call: async (_config, _token, credentials) => {
        sent.push(credentials);
        return { active: true, exp: 0 };
      },
      secrets: async (name) => {
        reads.push(name);
        if (fail) throw new Error('AccessDeniedException');
        return 'from-ssm';
      },
    });
    const config = settings({ clientSecret: undefined, clientSecretParameter: '/scopegate/as-secret' });
    await expect(introspector.introspect(config, 'opaque-1')).rejects.toMatchObject({
      message: 'introspection failed: AccessDeniedException',
    });
    expect(sent).toHaveLength(0);
    fail = false;
    await introspector.introspect(config, 'opaque-1');
    await introspector.introspect(config, 'opaque-2');
    await introspector.introspect(config, 'opaque-3');
    expect(reads).toEqual(['/scopegate/as-secret', '/scopegate/as-secret']);
    expect(sent).toEqual(Array(3).fill({ clientSecret: 'from-ssm', clientCertificate: undefined, clientKey: undefined }));
  });

  it('uses an inline secret without reading any parameter', async () => {
    const { introspector, secretReads } = setup(() => ({ active: true }));
    await introspector.introspect(settings({ clientSecret: 'inline' }), 'opaque-1');
    expect(secretReads).toEqual([]);
  });
});

describe('checkAccessTokenAnswer', () => {
  it('accepts an access token for the audience, token_type compared case-insensitively', () => {
    expect(() => checkAccessTokenAnswer(settings(), { active: true, token_type: 'bearer', aud: 'api' }, ['api'])).not.toThrow();
    expect(() => checkAccessTokenAnswer(settings(), { active: true, token_type: 'DPoP', aud: ['x', 'api'] }, ['api'])).not.toThrow();
  });

  it('refuses an answer without a listed token_type (a refresh token) as invalid_token.type', () => {
    expect(() => checkAccessTokenAnswer(settings(), { active: true, aud: 'api' }, ['api'])).toThrow(
      expect.objectContaining({ reason: 'invalid_token.type' }),
    );
    expect(() => checkAccessTokenAnswer(settings(), { active: true, token_type: 'refresh_token', aud: 'api' }, ['api'])).toThrow(
      expect.objectContaining({ reason: 'invalid_token.type' }),
    );
  });

  it('refuses an answer for another audience, or without aud unless the AS is configured to omit it', () => {
    expect(() => checkAccessTokenAnswer(settings(), { token_type: 'Bearer', aud: 'other' }, ['api'])).toThrow(
      expect.objectContaining({ reason: 'invalid_token.audience' }),
    );
    expect(() => checkAccessTokenAnswer(settings(), { token_type: 'Bearer' }, ['api'])).toThrow(
      expect.objectContaining({ reason: 'invalid_token.audience' }),
    );
    expect(() => checkAccessTokenAnswer(settings({ omitsAudience: true }), { token_type: 'Bearer' }, ['api'])).not.toThrow();
    // omitsAudience excuses a missing aud, never a wrong one.
    expect(() => checkAccessTokenAnswer(settings({ omitsAudience: true }), { token_type: 'Bearer', aud: 'other' }, ['api'])).toThrow(
      expect.objectContaining({ reason: 'invalid_token.audience' }),
    );
  });
});

describe('introspectingIssuerFor', () => {
  const a = { name: 'a', introspection: settings({ tokenPrefix: 'A-' }) };
  const b = { name: 'b', introspection: settings({ tokenPrefix: 'B-' }) };
  const catchAll = { name: 'catch-all', introspection: settings() };
  const jwtOnly = { name: 'jwt-only', introspection: undefined };

  it('picks the issuer whose tokenPrefix starts the token, wherever it is listed', () => {
    expect(introspectingIssuerFor('B-123', [catchAll, a, b])?.name).toBe('b');
    expect(introspectingIssuerFor('A-123', [a, catchAll])?.name).toBe('a');
  });

  it('gives a token no prefix claims to the introspecting issuer without a prefix, and to no one when there is none', () => {
    expect(introspectingIssuerFor('C-123', [a, catchAll, b, jwtOnly])?.name).toBe('catch-all');
    expect(introspectingIssuerFor('C-123', [a, b, jwtOnly])).toBeUndefined();
    expect(introspectingIssuerFor('anything', [jwtOnly])).toBeUndefined();
  });
});

describe('httpsIntrospection (a real HTTPS endpoint on loopback)', () => {
  type Seen = { method?: string; authorization?: string; contentType?: string; form: URLSearchParams };
  let server: Server;
  let endpoint: string;
  const seen: Seen[] = [];
  let reply: (res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({
          method: req.method,
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          form: new URLSearchParams(body),
        });
        reply(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ active: true, token_type: 'Bearer' }));
    };
  });

  it('POSTs the token with token_type_hint, authenticated by client_secret_basic with form-encoded id and secret', async () => {
    const call = httpsIntrospection(TLS.cert);
    const config = settings({ endpoint, clientId: 'rs:1 é', timeoutMs: 2000 });
    await expect(call(config, 'opaque+token/=', { clientSecret: 'p@ss:w rd' })).resolves.toEqual({ active: true, token_type: 'Bearer' });
    const [request] = seen;
    expect(request?.method).toBe('POST');
    expect(request?.contentType).toBe('application/x-www-form-urlencoded');
    expect(request?.form.get('token')).toBe('opaque+token/=');
    expect(request?.form.get('token_type_hint')).toBe('access_token');
    expect(request?.form.has('client_id')).toBe(false);
    // RFC 6749 §2.3.1: each part form-urlencoded, then Basic.
    const basic = Buffer.from(String(request?.authorization).replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(basic).toBe(`${encodeURIComponent('rs:1 é')}:${encodeURIComponent('p@ss:w rd')}`);
  });

  it('sends client_id in the form, and no Authorization header, without a secret', async () => {
    const call = httpsIntrospection(TLS.cert);
    await call(settings({ endpoint, clientId: 'rs', timeoutMs: 2000 }), 'opaque-1', {});
    expect(seen[0]?.authorization).toBeUndefined();
    expect(seen[0]?.form.get('client_id')).toBe('rs');
  });

  it('refuses an answer that is not a JSON object as a content error', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[true]');
    };
    const call = httpsIntrospection(TLS.cert);
    await expect(call(settings({ endpoint, timeoutMs: 2000 }), 'opaque-1', { clientSecret: 's' })).rejects.toMatchObject({
      name: 'FetchError',
      kind: 'content',
    });
  });

  it('gives up at timeoutMs and does not retry a timeout', async () => {
    reply = () => undefined; // never answers
    const call = httpsIntrospection(TLS.cert);
    const started = Date.now();
    await expect(call(settings({ endpoint, timeoutMs: 150 }), 'opaque-1', { clientSecret: 's' })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(seen).toHaveLength(1);
  });

  it('rejects an error status without retrying it', async () => {
    reply = (res) => {
      res.writeHead(401);
      res.end();
    };
    const call = httpsIntrospection(TLS.cert);
    await expect(call(settings({ endpoint, timeoutMs: 2000 }), 'opaque-1', { clientSecret: 'wrong' })).rejects.toMatchObject({
      kind: 'status',
      status: 401,
    });
    expect(seen).toHaveLength(1);
  });
});

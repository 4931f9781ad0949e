import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { FetchError } from '../../core/errors';

/** Options of {@link httpGet}. */
export interface HttpGetOptions {
  /** Deadline for the whole exchange, connect to last byte, in milliseconds. Default 3000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes; a larger one aborts the transfer. Default 65536. */
  maxBytes?: number;
  /** Extra trusted CA certificates (PEM), for a private PKI or tests on loopback. */
  ca?: string | string[];
  /** Allow plain `http:` URLs. Off by default: keys must come over TLS. */
  allowHttp?: boolean;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Abort the request early. */
  signal?: AbortSignal;
  /** Client certificate and key (PEM) for mutual TLS (RFC 8705). */
  cert?: string;
  key?: string;
  /**
   * Told each time the exchange waits for the server, a moment for the caller to do work of
   * its own (the authorizer's cold start uses it): once the connection is made (the TLS
   * handshake under way), and once the request is written.
   */
  onWaiting?: () => void;
}

/** Options of {@link httpSend}: a method and a body besides those of a GET. */
export interface HttpSendOptions extends HttpGetOptions {
  method?: 'GET' | 'POST';
  body?: string;
  /** A connection pool to reuse (keep-alive); default none, a fresh connection per call. */
  agent?: import('node:https').Agent;
}

/** A fetched response: status, headers and the whole (capped) body. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * GET a URL with a hard deadline and a hard body cap. Redirects are not followed (a
 * redirect for a key set is a finding, not a hop to take), and non-2xx statuses reject.
 * Built on node:http(s) so that neither a hanging server nor an endless body can hold
 * the caller past `timeoutMs` or `maxBytes`.
 */
export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
  return httpSend(url, { ...options, method: 'GET' });
}

/** {@link httpGet} for any method: the same deadline, cap, redirect and status rules. */
export function httpSend(url: string, options: HttpSendOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxBytes = options.maxBytes ?? 65536;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    return Promise.reject(new FetchError(url, 'network', `not a URL: ${url}`, { cause }));
  }
  if (parsed.protocol !== 'https:' && !(options.allowHttp && parsed.protocol === 'http:')) {
    return Promise.reject(new FetchError(url, 'network', `only https URLs are fetched: ${url}`));
  }
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: FetchError | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else if (response) {
        resolve(response);
      }
    };
    const onAbort = () => finish(new FetchError(url, 'network', `aborted: ${url}`));
    const req = send(
      parsed,
      {
        method: options.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        agent: options.agent ?? false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          finish(new FetchError(url, 'redirect', `redirect (${status}) to ${res.headers.location ?? '?'}`, { status }));
          return;
        }
        if (status < 200 || status >= 300) {
          res.resume();
          finish(new FetchError(url, 'status', `HTTP ${status} from ${url}`, { status }));
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          finish(new FetchError(url, 'too_large', `body of ${declared} bytes exceeds ${maxBytes}`, { status }));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            finish(new FetchError(url, 'too_large', `body exceeds ${maxBytes} bytes`, { status }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (cause) => finish(new FetchError(url, 'network', `read failed: ${cause.message}`, { cause })));
      },
    );
    const timer = setTimeout(
      () => finish(new FetchError(url, 'timeout', `no complete answer from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort);
    req.on('error', (cause) => finish(new FetchError(url, 'network', `request failed: ${cause.message}`, { cause })));
    const waiting = options.onWaiting;
    if (waiting !== undefined) {
      // Node starts the TLS handshake on 'connect' before this listener runs (it listens first).
      req.once('socket', (socket) => socket.once('connect', waiting));
      req.once('finish', waiting);
    }
    req.end(options.body);
  });
}

/** Parse a response body as JSON; a non-JSON body is a `content` error. */
export function parseJsonBody(url: string, response: HttpResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (cause) {
    throw new FetchError(url, 'content', `the body of ${url} is not JSON`, { cause, status: response.status });
  }
}

/** GET a URL and parse its body as JSON; a non-JSON body is a `content` error. */
export async function httpGetJson(url: string, options: HttpGetOptions = {}): Promise<{ json: unknown; response: HttpResponse }> {
  const response = await httpGet(url, options);
  return { json: parseJsonBody(url, response), response };
}

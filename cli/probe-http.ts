import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isJsonObject } from '../core/json';
import { type Observed, type Outcome, type Prediction, type Probe, type ProbeModel, type TokenFacts, WRITES } from './probe-plan';
import { predict } from './probe-predict';

/** `x-amzn-ErrorType` values of API Gateway's authorization answers. */
const AUTHORIZATION_ANSWERS: Record<string, Outcome> = {
  UnauthorizedException: 'unauthorized',
  AccessDeniedException: 'denied',
  MissingAuthenticationTokenException: 'no-route',
};

/** `x-amzn-ErrorType` values of answers API Gateway gives before the backend that are no authorization outcome. */
const BEFORE_BACKEND = new Set([
  'AuthorizerConfigurationException',
  'AuthorizerFailureException',
  'ForbiddenException',
  'TooManyRequestsException',
  'ThrottlingException',
  'LimitExceededException',
]);

/** An HTTP API's own answers carry no `x-amzn-ErrorType`: their status and body tell them. */
const HTTP_API_ANSWERS: Record<number, { message: string; outcome: Outcome }> = {
  401: { message: 'Unauthorized', outcome: 'unauthorized' },
  403: { message: 'Forbidden', outcome: 'denied' },
  404: { message: 'Not Found', outcome: 'no-route' },
  429: { message: 'Too Many Requests', outcome: 'gateway-error' },
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The authorization outcome of an answer. API Gateway REST names its own answers in
 * `x-amzn-ErrorType` (AWS Knowledge Center, "How do I troubleshoot HTTP 403 errors from API
 * Gateway?"): `UnauthorizedException` (401), `AccessDeniedException` (403, the policy),
 * `MissingAuthenticationTokenException` (403, no resource and method). An answer with an
 * `apigw-requestid` and no `x-amzn-ErrorType` is an HTTP API's, told by its status and body
 * (`{"message":"Forbidden"}`…). Anything else passed the authorizer: the backend's answer,
 * or an integration error after it. Pure.
 */
export function classifyAnswer(status: number, headers: IncomingHttpHeaders, body: string): Pick<Observed, 'outcome' | 'errorType'> {
  const type = header(headers, 'x-amzn-errortype')?.split(':')[0]?.trim();
  if (type) {
    const outcome = AUTHORIZATION_ANSWERS[type];
    if (outcome !== undefined) return { outcome, errorType: type };
    if (BEFORE_BACKEND.has(type) || status === 429) return { outcome: 'gateway-error', errorType: type };
    return { outcome: 'backend', errorType: type };
  }
  const httpApi = HTTP_API_ANSWERS[status];
  if (httpApi !== undefined && header(headers, 'apigw-requestid') !== undefined) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isJsonObject(parsed) && parsed.message === httpApi.message && Object.keys(parsed).length === 1)
        return { outcome: httpApi.outcome };
    } catch {
      // Not API Gateway's body: the backend's.
    }
  }
  return { outcome: 'backend' };
}

/** A probe, its prediction and what came back (or why it was not sent). */
export interface ProbeResult {
  probe: Probe;
  predicted: Prediction;
  observed?: Observed;
  agree?: boolean;
  /** Why the probe was not sent. */
  notSent?: string;
}

/** Send one request; resolves with what came back, never rejects. */
export type Sender = (probe: Probe) => Promise<Observed>;

const BODY_BYTES = 4096;

/** A sender to one stage: every request to `url`'s host, its path under the stage, one at a time, no redirects followed. */
export function httpSender(url: URL, authorization: string, timeoutMs: number): { send: Sender; close: () => void } {
  const secure = url.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const base = url.pathname.replace(/\/+$/, '');
  const send: Sender = (probe) =>
    new Promise((resolve) => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let settled = false;
      const done = (o: Omit<Observed, 'elapsedMs'>) => {
        if (settled) return;
        settled = true;
        resolve({ ...o, elapsedMs: elapsed() });
      };
      const req = (secure ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || undefined,
          path: `${base}${probe.path}`,
          method: probe.method,
          agent,
          headers: {
            authorization,
            'user-agent': 'scopegate-probe',
            accept: '*/*',
            ...(WRITES.has(probe.method) ? { 'content-length': '0' } : {}),
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < BODY_BYTES) body += chunk;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            done({ status, ...classifyAnswer(status, res.headers, body) });
          });
          res.on('error', (error) => done({ outcome: 'no-answer', detail: error.message }));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => done({ outcome: 'no-answer', detail: error.message }));
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/**
 * Predict each probe, send those it is safe to send (a write predicted to reach the backend
 * only with `allowWrites`), one at a time, and compare.
 */
export async function runBattery(
  model: ProbeModel,
  token: TokenFacts,
  probes: readonly Probe[],
  send: Sender,
  options: { allowWrites: boolean; now?: () => number },
): Promise<ProbeResult[]> {
  const now = options.now ?? Date.now;
  const results: ProbeResult[] = [];
  for (const probe of probes) {
    const predicted = predict(model, token, probe, now() / 1000);
    const reaches = predicted.outcome === 'backend' || predicted.also.includes('backend');
    if (WRITES.has(probe.method) && reaches && !options.allowWrites) {
      results.push({ probe, predicted, notSent: `${probe.method} predicted to reach the backend: --allow-writes sends it` });
      continue;
    }
    const observed = await send(probe);
    const agree = observed.outcome === predicted.outcome || predicted.also.includes(observed.outcome);
    results.push({ probe, predicted, observed, agree });
  }
  return results;
}

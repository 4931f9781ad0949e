import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { type AuthorizerConfig, DEFAULT_ROUTE_PATH, type IssuerConfig, type RouteConfig, Unrouted } from '../core/config';
import { isJsonObject } from '../core/json';
import { clientCredentialsMarker, isProfileName, PROFILE_NAMES, PROFILES, type ProfileName } from '../core/profiles';
import { grantedScopes, missingScopes, satisfiesAnyOf, scopeClaimOf } from '../core/scopes';
import { checkAudience, checkClient, checkTimes, clientOf, optionalNumber } from '../functions/authorizer/claims';
import { decodeJwt } from '../functions/authorizer/token';
import { type GatewayRoute, gatewayRouteOf, requestShape } from '../proof/gateway-model';
import { commandArgs } from './args';
import { openApiRouteRows, readRouteConfig } from './verify';

export const PROBE_HELP = `Usage: scopegate probe --url https://API_HOST/STAGE --token TOKEN (--config FILE | --openapi FILE) [options]

Checks a deployed API against the model, after "cdk deploy": sends a bounded set of requests
with the token (each route with its parameters filled in; "/x/", "//", "%2F" inside a
parameter, a literal segment in another case, HEAD and OPTIONS, a path no route matches, one
segment deeper than a {name} route) and compares each answer's authorization outcome with
what the route table, the token's scopes and the proof's model of API Gateway predict:
  backend      passed to the backend (any answer that is not API Gateway's own, below)
  denied       403 AccessDeniedException: the authorizer's policy denied it
  no-route     403 MissingAuthenticationTokenException: no resource and method match
  unauthorized 401 UnauthorizedException: the token was refused
API Gateway's own answers are told by their x-amzn-ErrorType header. Each difference is
printed with the request, the prediction, the answer and the assumption it tests.

Options:
  --url URL          the stage's URL (https; http only to a loopback address)
  --token TOKEN      a JWT access token (with or without "Bearer "); its claims are read, not
                     verified, and it is sent to the --url host only
  --config FILE      the authorizer configuration (or a file of routes only)
  --openapi FILE     an OpenAPI 3 document (a SpecRestApi: "unrouted": "unreachable")
  --profile NAME     the issuer profile that reads the token's scopes when the file names no
                     issuer (${PROFILE_NAMES.join(', ')}; default rfc9068)
  --max N            send at most N requests (default 200, at most 1000)
  --timeout-ms MS    per-request deadline (default 10000)
  --allow-writes     also send POST, PUT, PATCH and DELETE requests the model predicts reach
                     the backend (by default they are listed, not sent)
  --json             machine-readable output
  -h, --help         this text

Requests go one at a time, without a body. A request predicted to be refused is sent whatever
its method: if the API lets it through, that is the difference to find, and the backend saw it.

Exit status: 0 every answer agrees with the prediction; 1 a difference; 2 a usage or
configuration error, or a token API Gateway would refuse outright.`;

/** What became of a request, as far as authorization goes. */
export type Outcome = 'backend' | 'denied' | 'no-route' | 'unauthorized' | 'gateway-error' | 'no-answer';

/** What each probe is made to test. */
export type ProbeKind = 'route' | 'unrouted' | 'deeper' | 'trailing-slash' | 'double-slash' | 'encoded-slash' | 'case' | 'head' | 'options';

/** One request of the battery. */
export interface Probe {
  method: string;
  /** The path below the stage, as sent (`/telemetry/scopegate-probe`, `/a//b`, `/x/a%2Fb`). */
  path: string;
  kind: ProbeKind;
  /** The route (`METHOD /template`) the probe was made from, when one was. */
  from?: string;
}

/** What the model predicts for a probe. */
export interface Prediction {
  outcome: Outcome;
  /** Other outcomes that also agree (an accepted over-deny; an undocumented path). */
  also: Outcome[];
  /** The route the model sends the request to, `METHOD /template`. */
  route?: string;
  /** Why, in a sentence. */
  why: string;
}

/** An answer, read. */
export interface Observed {
  outcome: Outcome;
  status?: number;
  /** API Gateway's `x-amzn-ErrorType`, without any `:…` suffix. */
  errorType?: string;
  /** For `no-answer`: what went wrong. */
  detail?: string;
  elapsedMs: number;
}

/** What the prediction reads of the token: its scopes, and for step-up when its user authenticated. */
export interface TokenFacts {
  scopes: ReadonlySet<string>;
  /** `auth_time`, unless missing or the token is a client-credentials token (seconds since the epoch). */
  authTime: number | undefined;
}

/** The model a battery is predicted with: the route table and the settings that change an answer. */
export interface ProbeModel {
  routes: readonly RouteConfig[];
  unrouted: `${Unrouted}`;
  /** The top-level enforcement (it also governs requests no route matches). */
  enforcement: 'enforce' | 'report-only';
  policyCacheTtlSeconds: number;
}

/** The assumption each kind of probe tests, for the output. */
export const PROBE_TESTS: Record<ProbeKind, { tests: string; assumption: boolean }> = {
  route: {
    tests: 'the route table and the token: API Gateway routes the request to the route, and the policy decides by its scopes',
    assumption: false,
  },
  unrouted: {
    tests: 'unrouted: a path no route matches is answered as the "unrouted" setting says (API Gateway itself, or a denying policy)',
    assumption: false,
  },
  deeper: {
    tests: '{name} is one segment: one segment deeper is not that route\'s request (a policy\'s "*" spans "/", its Deny must take it back)',
    assumption: false,
  },
  'trailing-slash': {
    tests: 'trailing slash: API Gateway routes /x/ as /x, and the authorizer sees /x/, which every policy denies',
    assumption: false,
  },
  'double-slash': {
    tests: 'an empty segment: where API Gateway routes "//" is not documented; wherever it goes, the policy denies it',
    assumption: true,
  },
  'encoded-slash': {
    tests: '%2F inside a parameter: API Gateway keeps it in one segment, and the method ARN carries it encoded (so {name} still matches)',
    assumption: false,
  },
  case: {
    tests: 'case: resource paths match case-sensitively, so a literal segment in another case is not that route',
    assumption: false,
  },
  head: {
    tests: 'HEAD is a method of its own in REST: only a HEAD or ANY method routes it (a GET-only resource has none)',
    assumption: false,
  },
  options: {
    tests: 'OPTIONS is a method of its own: only an OPTIONS or ANY method routes it (a CORS preflight outside the table shows here)',
    assumption: false,
  },
};

/** Methods a probe never sends where the model predicts the backend sees them, unless told to. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a path parameter is filled in with. */
const VALUE = 'scopegate-probe';

const ASSUMPTION_ORDER: ProbeKind[] = ['unrouted', 'deeper', 'trailing-slash', 'double-slash', 'encoded-slash', 'case', 'head', 'options'];

function routeName(r: { method: string; path: string }): string {
  return `${r.method} ${r.path}`;
}

/** The routes that have a resource path (the HTTP API `$default` row has none). */
function pathRoutes(model: ProbeModel): RouteConfig[] {
  return model.routes.filter((r) => r.path !== DEFAULT_ROUTE_PATH);
}

function gatewayRoutes(routes: readonly RouteConfig[]): GatewayRoute[] {
  return routes.map((r) => ({ method: r.method, path: r.path }));
}

/** A route's path with its parameters filled in (`{proxy+}` with two segments), `value` for each `{name}`. */
function instantiate(path: string, value = VALUE): string {
  return path.replace(/\{[^}/]+\+\}/g, `${VALUE}/${VALUE}-2`).replace(/\{[^}/+]+\}/g, value);
}

/** The first literal segment with a letter, in another case; `undefined` when there is none. */
function caseChanged(path: string): string | undefined {
  const parts = path.split('/');
  const at = parts.findIndex((p) => !p.startsWith('{') && /[A-Za-z]/.test(p));
  if (at < 0) return undefined;
  const part = parts[at] as string;
  const i = part.search(/[A-Za-z]/);
  const c = part[i] as string;
  const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  parts[at] = part.slice(0, i) + flipped + part.slice(i + 1);
  return parts.join('/');
}

/**
 * The battery for a route table: each route first (its method, `GET` for `ANY`; its
 * parameters filled in), then the probes of the model's assumptions taken in turn, one of
 * each kind before a second of any, so that a small `max` still covers every kind. Requests
 * are distinct. Pure.
 */
export function buildBattery(model: ProbeModel, max: number): { probes: Probe[]; dropped: Probe[] } {
  const routes = pathRoutes(model);
  const table = gatewayRoutes(routes);
  const first: Probe[] = [];
  const byKind = new Map<ProbeKind, Probe[]>(ASSUMPTION_ORDER.map((k) => [k, []]));
  const add = (probe: Probe) => (byKind.get(probe.kind) as Probe[]).push(probe);
  const paths = new Map<string, RouteConfig>();

  routes.forEach((route, i) => {
    const method = route.method === '*' ? 'GET' : route.method;
    // A parameter value the model routes to this route (not to a literal sibling).
    let path = instantiate(route.path);
    for (let n = 2; n < 5 && gatewayRouteOf(table, method, path) !== i; n++) path = instantiate(route.path, `${VALUE}-${n}`);
    const name = routeName(route);
    first.push({ method, path, kind: 'route', from: name });
    if (!paths.has(path)) paths.set(path, route);
    if (route.path !== '/') {
      add({ method, path: `${path}/`, kind: 'trailing-slash', from: name });
      const parts = path.split('/');
      parts.splice(parts.length - 1, 0, '');
      add({ method, path: parts.join('/'), kind: 'double-slash', from: name });
    }
    if (/\{[^}+]+\}/.test(route.path)) {
      const encoded = route.path.replace(/\{[^}+]+\}/, `${VALUE}%2F${VALUE}`);
      add({ method, path: instantiate(encoded), kind: 'encoded-slash', from: name });
    }
    if (/\{[^}+]+\}$/.test(route.path)) add({ method, path: `${path}/${VALUE}`, kind: 'deeper', from: name });
    const cased = caseChanged(path);
    if (cased !== undefined) add({ method, path: cased, kind: 'case', from: name });
  });
  for (const [path, route] of paths) {
    add({ method: 'HEAD', path, kind: 'head', from: routeName(route) });
    add({ method: 'OPTIONS', path, kind: 'options', from: routeName(route) });
  }
  // A path no route matches, unless every path is routed (a {proxy+} at the root).
  for (const candidate of ['/scopegate-probe-no-such-path', '/scopegate-probe-no-such-path/x']) {
    if (gatewayRouteOf(table, 'GET', candidate) === -1) {
      add({ method: 'GET', path: candidate, kind: 'unrouted' });
      break;
    }
  }

  const ordered: Probe[] = [...first];
  const queues = ASSUMPTION_ORDER.map((k) => [...(byKind.get(k) as Probe[])]);
  while (queues.some((q) => q.length > 0)) for (const q of queues) if (q.length > 0) ordered.push(q.shift() as Probe);
  const seen = new Set<string>();
  const distinct = ordered.filter((p) => {
    const key = `${p.method} ${p.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { probes: distinct.slice(0, max), dropped: distinct.slice(max) };
}

/** Whether the token meets a route: its scopes, and for step-up an authentication that stays fresh for the policy cache. */
function satisfies(route: RouteConfig, token: TokenFacts, ttlSeconds: number, nowSeconds: number): { ok: boolean; why: string } {
  if (!satisfiesAnyOf(route.anyOf, token.scopes)) {
    const missing =
      route.anyOf.length === 1
        ? missingScopes(route.anyOf[0] as string[], token.scopes).join(' ')
        : route.anyOf.map((set) => missingScopes(set, token.scopes).join(' ')).join(', or ');
    return { ok: false, why: `the token lacks ${missing}` };
  }
  if (route.maxAuthAgeSeconds === undefined) {
    return { ok: true, why: route.anyOf.some((s) => s.length === 0) ? 'it needs no scope' : 'the token has its scopes' };
  }
  if (token.authTime === undefined) return { ok: false, why: 'step-up: the token shows no user authentication (auth_time)' };
  const age = Math.round(nowSeconds - token.authTime);
  const ok = nowSeconds - token.authTime + ttlSeconds <= route.maxAuthAgeSeconds;
  const cache = ttlSeconds > 0 ? ` minus the ${ttlSeconds} s policy cache` : '';
  return { ok, why: `step-up: authenticated ${age} s ago, the route allows ${route.maxAuthAgeSeconds} s${cache}` };
}

/**
 * What the model predicts for a request: routed by the proof's model of API Gateway
 * (proof/gateway-model.ts), then decided as the contract says: a route the token meets passes
 * to the backend, one it does not meet is denied by the policy (403), a request no route
 * matches is answered by API Gateway itself under `"unrouted": "unreachable"` and denied by the
 * policy otherwise, and one with an empty segment is denied by every policy. Pure.
 */
export function predict(model: ProbeModel, token: TokenFacts, probe: Pick<Probe, 'method' | 'path'>, nowSeconds: number): Prediction {
  const routes = pathRoutes(model);
  const reportOnly = model.enforcement === 'report-only';
  const passed = (p: Prediction): Prediction => (reportOnly ? { ...p, also: [...p.also, 'backend'] } : p);
  const routed = gatewayRouteOf(gatewayRoutes(routes), probe.method, probe.path);
  if (routed === 'undocumented') {
    return passed({
      outcome: 'denied',
      also: ['no-route'],
      why: 'an empty segment: if API Gateway routes it anywhere, the policy denies it; else it answers itself',
    });
  }
  if (routed < 0) {
    const fallback = model.routes.find((r) => r.path === DEFAULT_ROUTE_PATH);
    if (fallback !== undefined) return decideRoute(model, token, fallback, nowSeconds, 'no route matches: the $default route governs it');
    if (model.unrouted === Unrouted.UNREACHABLE) {
      return { outcome: 'no-route', also: [], why: 'no route matches, and "unrouted": "unreachable": API Gateway answers itself' };
    }
    return passed({
      outcome: 'denied',
      also: [],
      why: 'no route matches; "unrouted": "deny" says such a request reaches the authorizer, whose policy denies it',
    });
  }
  const route = routes[routed] as RouteConfig;
  if (requestShape(probe.path).kind === 'trailing-slash') {
    return passed({
      outcome: 'denied',
      also: [],
      route: routeName(route),
      why: `routed to ${routeName(route)} as without its trailing slash; the policy denies the path the authorizer sees`,
    });
  }
  return decideRoute(model, token, route, nowSeconds);
}

function decideRoute(model: ProbeModel, token: TokenFacts, route: RouteConfig, nowSeconds: number, prefix?: string): Prediction {
  const name = routeName(route);
  const verdict = satisfies(route, token, model.policyCacheTtlSeconds, nowSeconds);
  const lead = prefix ? `${prefix}; ` : '';
  if (verdict.ok) {
    return route.acceptOverDeny
      ? {
          outcome: 'backend',
          also: ['denied'],
          route: name,
          why: `${lead}${name} allows it (${verdict.why}); acceptOverDeny: a cached policy may deny it`,
        }
      : { outcome: 'backend', also: [], route: name, why: `${lead}${name} allows it (${verdict.why})` };
  }
  if (route.enforcement === 'report-only') {
    return { outcome: 'backend', also: [], route: name, why: `${lead}${name} is report-only: let through (${verdict.why})` };
  }
  return { outcome: 'denied', also: [], route: name, why: `${lead}${name} denies it (${verdict.why})` };
}

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

const OUTCOME_TEXT: Record<Outcome, string> = {
  backend: 'passed to the backend',
  denied: '403 AccessDeniedException (the policy)',
  'no-route': '403 MissingAuthenticationTokenException (no resource and method)',
  unauthorized: '401 UnauthorizedException (the token refused)',
  'gateway-error': "another of API Gateway's own answers",
  'no-answer': 'no answer',
};

/** What a difference most likely means, by what was predicted and what came back. */
export function meaning(predicted: Outcome, observed: Observed, kind: ProbeKind): string {
  switch (observed.outcome) {
    case 'backend':
      return 'API Gateway let through a request the model says is refused: the deployed API or authorizer is not what the model says (another route table, another authorizer on the method, or a path API Gateway reads otherwise). Act on this one.';
    case 'denied':
      if (predicted === 'no-route') {
        return 'the request reached the authorizer: API Gateway has a resource and method for it that the route table lacks, so "unrouted": "unreachable" does not hold for this API (use "deny", or add the route)';
      }
      return kind === 'encoded-slash'
        ? 'the policy denied it: API Gateway gives the authorizer the parameter decoded (%2F as "/"), or routes it otherwise'
        : 'the policy denied a request the model allows: the deployed authorizer has another route table or scopes, or a policy cached before the last deploy still answers (docs/deploying.md, "After a deploy")';
    case 'no-route':
      return predicted === 'denied' &&
        (kind === 'unrouted' || kind === 'deeper' || kind === 'case' || kind === 'head' || kind === 'options')
        ? 'API Gateway answered itself: it has no resource and method for this request, which "unrouted": "unreachable" describes (the construct sets it where it created the resources)'
        : 'API Gateway has no resource and method for a request the model routes: the route is not deployed to this stage, or API Gateway routes this path otherwise';
    case 'unauthorized':
      return 'the token was refused (401): it expired during the run, or is not valid for this API (scopegate explain --token … says why)';
    case 'gateway-error':
      return `API Gateway answered ${observed.errorType ?? ''} (${observed.status}) itself, which is no authorization outcome (throttling, WAF, the authorizer failing): rerun, or read the authorizer's log`;
    default:
      return `no answer: ${observed.detail ?? 'unknown error'}`;
  }
}

function observedText(o: Observed): string {
  if (o.outcome === 'no-answer') return `no answer (${o.detail})`;
  const type = o.errorType ? ` ${o.errorType}` : '';
  return `${o.outcome} — ${o.status}${type}`;
}

/** How the probe was set up, for the text and the JSON. */
export interface ProbeSetting {
  url: string;
  routes: number;
  unrouted: `${Unrouted}`;
  unroutedFrom: 'configuration' | 'openapi';
  issuer: string | undefined;
  profile: ProfileName;
  scopeClaim: string | undefined;
  scopes: string[];
  /** Seconds since the user authenticated, when the token shows it. */
  authAgeSeconds: number | undefined;
  /** Seconds until the token expires. */
  expiresInSeconds: number;
  satisfied: string[];
  lacking: string[];
  dropped: number;
}

/** The report as text: the differences first, each with what it tests and means; then a line per agreeing probe. */
export function formatProbeReport(results: readonly ProbeResult[], setting: ProbeSetting): string {
  const sent = results.filter((r) => r.observed !== undefined);
  const differ = sent.filter((r) => !r.agree);
  const lines: string[] = [];
  lines.push(`scopegate probe: ${sent.length} requests to ${setting.url}, one at a time.`);
  const from = setting.scopeClaim ? `from ${setting.scopeClaim}` : 'no scope claim';
  const age = setting.authAgeSeconds === undefined ? '' : `; authenticated ${setting.authAgeSeconds} s ago`;
  const expires = `; expires in ${setting.expiresInSeconds} s`;
  lines.push(
    `Token: issuer ${setting.issuer ?? '(not checked)'}, profile ${setting.profile}; scopes (${from}): ${setting.scopes.join(' ') || '(none)'}${age}${expires}.`,
  );
  lines.push(`  satisfies: ${setting.satisfied.join(', ') || '(no route)'}`);
  lines.push(`  lacks:     ${setting.lacking.join(', ') || '(no route: no request of a route the token lacks was probed)'}`);
  const unrouted =
    setting.unrouted === Unrouted.UNREACHABLE
      ? `requests no route matches are answered by API Gateway itself (${setting.unroutedFrom === 'openapi' ? 'the document is the API' : '"unrouted": "unreachable"'})`
      : 'requests no route matches reach the authorizer and are denied ("unrouted": "deny")';
  lines.push(`Model: ${setting.routes} routes; ${unrouted}.`);
  for (const r of differ) {
    const o = r.observed as Observed;
    const t = PROBE_TESTS[r.probe.kind];
    lines.push(
      '',
      `DIFFERS  ${r.probe.method} ${r.probe.path}`,
      `  predicted: ${r.predicted.outcome} — ${OUTCOME_TEXT[r.predicted.outcome]}: ${r.predicted.why}`,
      `  observed:  ${observedText(o)}`,
      `  tests:     ${t.assumption ? '(assumption) ' : ''}${t.tests}${r.probe.from ? ` [from ${r.probe.from}]` : ''}`,
      `  means:     ${meaning(r.predicted.outcome, o, r.probe.kind)}`,
    );
  }
  const agreeing = sent.filter((r) => r.agree);
  if (agreeing.length > 0) {
    lines.push('', 'Agree:');
    const width = Math.max(...agreeing.map((r) => `${r.probe.method} ${r.probe.path}`.length));
    for (const r of agreeing) {
      const o = r.observed as Observed;
      const flag = PROBE_TESTS[r.probe.kind].assumption ? ' (assumption)' : '';
      lines.push(
        `  ${`${r.probe.method} ${r.probe.path}`.padEnd(width)}  ${o.outcome.padEnd(8)} ${String(o.status).padEnd(3)}  ${r.probe.kind}${flag}: ${r.predicted.why}`,
      );
    }
  }
  const skipped = results.filter((r) => r.notSent !== undefined);
  if (skipped.length > 0 || setting.dropped > 0) {
    lines.push('', 'Not sent:');
    for (const r of skipped) lines.push(`  ${r.probe.method} ${r.probe.path}: ${r.notSent}`);
    if (setting.dropped > 0) lines.push(`  ${setting.dropped} more requests of the battery: over --max`);
  }
  lines.push('');
  if (sent.length > 0 && sent.every((r) => r.observed?.outcome === 'unauthorized')) {
    lines.push('Every request was answered 401: the token itself is refused (scopegate explain --token … says why).');
  }
  lines.push(
    differ.length === 0
      ? `All ${sent.length} answers agree with the model.`
      : `${differ.length} of ${sent.length} answers differ from the model (exit 1).`,
  );
  return lines.join('\n');
}

/** The report as JSON (docs/deploying.md lists the fields). */
export function probeReportJson(results: readonly ProbeResult[], setting: ProbeSetting): Record<string, unknown> {
  const sent = results.filter((r) => r.observed !== undefined);
  return {
    agree: sent.every((r) => r.agree),
    url: setting.url,
    sent: sent.length,
    differences: sent.filter((r) => !r.agree).length,
    token: {
      issuer: setting.issuer ?? null,
      profile: setting.profile,
      scopeClaim: setting.scopeClaim ?? null,
      scopes: setting.scopes,
      authAgeSeconds: setting.authAgeSeconds ?? null,
      expiresInSeconds: setting.expiresInSeconds,
      satisfied: setting.satisfied,
      lacking: setting.lacking,
    },
    unrouted: setting.unrouted,
    probes: results.map((r) => ({
      request: `${r.probe.method} ${r.probe.path}`,
      kind: r.probe.kind,
      from: r.probe.from ?? null,
      tests: PROBE_TESTS[r.probe.kind].tests,
      assumption: PROBE_TESTS[r.probe.kind].assumption,
      predicted: r.predicted,
      observed: r.observed ?? null,
      agree: r.agree ?? null,
      ...(r.notSent ? { notSent: r.notSent } : {}),
      ...(r.observed && !r.agree ? { means: meaning(r.predicted.outcome, r.observed, r.probe.kind) } : {}),
    })),
    dropped: setting.dropped,
  };
}

/** Whether a URL may carry the token: HTTPS, or HTTP to a loopback address. */
export function checkStageUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('--url is not a URL');
  }
  if (url.username || url.password) throw new Error('--url must not carry credentials');
  if (url.search || url.hash) throw new Error('--url is the stage URL, without a query or fragment');
  if (url.protocol === 'https:') return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (url.protocol === 'http:' && loopback) return url;
  throw new Error(`refusing to send the token to ${url.protocol}//${url.host}: only https://, or http:// to a loopback address`);
}

class UsageError extends Error {}

/** The token's facts for the prediction, read as the authorizer reads them; throws a {@link UsageError} for a token API Gateway would refuse outright. */
function readToken(
  token: string,
  config: AuthorizerConfig,
  issuersGiven: boolean,
  profileName: ProfileName,
): { facts: TokenFacts; issuer: IssuerConfig | undefined; profile: ProfileName; scopeClaim: string | undefined; exp: number } {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = decodeJwt(token));
  } catch (error) {
    throw new UsageError(
      `the token is not a JWT (${(error as Error).message}): probe predicts from its claims, which an opaque token does not show`,
    );
  }
  const nowSeconds = Date.now() / 1000;
  let issuer: IssuerConfig | undefined;
  let exp: number;
  try {
    exp = checkTimes(payload, nowSeconds, config.clockToleranceSeconds, true) as number;
    if (issuersGiven) {
      issuer = config.issuers.find((i) => i.issuer === payload.iss);
      if (issuer === undefined) {
        throw new UsageError(
          `the token's iss ${JSON.stringify(String(payload.iss).slice(0, 200))} names no configured issuer (${config.issuers.map((i) => i.issuer).join(', ')})`,
        );
      }
      PROFILES[issuer.profile].checkTokenUse?.(payload);
      if (issuer.audience.length > 0) checkAudience(payload.aud, issuer.audience);
      checkClient(issuer, clientOf(payload, issuer.clientClaims));
    }
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`API Gateway would answer 401 to every request: ${error.message}`);
    throw new UsageError(
      `API Gateway would answer 401 to every request: ${(error as Error).message} (scopegate explain --token … says more)`,
    );
  }
  const profile = PROFILES[issuer?.profile ?? profileName];
  const claims = issuer ? issuer.scopeClaims : profile.scopeClaims;
  let scopes: string[];
  try {
    scopes = grantedScopes(payload, claims);
  } catch (error) {
    throw new UsageError(`API Gateway would answer 401 to every request: ${(error as Error).message}`);
  }
  const authTime = optionalNumber(payload, 'auth_time');
  const clientId = clientOf(payload, issuer?.clientClaims ?? profile.clientClaims);
  const userAuth = authTime !== undefined && clientCredentialsMarker(profile, payload, clientId) === undefined ? authTime : undefined;
  return {
    facts: { scopes: new Set(scopes), authTime: userAuth },
    issuer,
    profile: profile.name,
    scopeClaim: scopeClaimOf(payload, claims),
    exp,
  };
}

function readModel(config: string | undefined, openapi: string | undefined): { parsed: AuthorizerConfig; issuersGiven: boolean } {
  let raw: unknown;
  try {
    raw = openapi !== undefined ? openApiRouteRows(openapi) : JSON.parse(readFileSync(config as string, 'utf8'));
  } catch (error) {
    // The parser's message quotes the text, which may hold a secret: say where, not what.
    if (!(error instanceof SyntaxError)) throw error;
    const at = /position \d+/.exec(error.message)?.[0];
    throw new Error(`not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  return { parsed: readRouteConfig(raw), issuersGiven: isJsonObject(raw) && 'issuers' in raw };
}

/** What a JWT looks like in text: three base64url runs joined by dots. */
const JWT_SHAPE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

/**
 * `out` that never prints the token: the `--token` value, and anything shaped like a JWT (a
 * token given as a stray argument comes back in the parser's message).
 */
function redacting(argv: readonly string[], out: (text: string) => void): (text: string) => void {
  const secrets = argv.flatMap((arg, i) => {
    if (arg.startsWith('--token=')) return [arg.slice('--token='.length)];
    return arg === '--token' && argv[i + 1] !== undefined ? [argv[i + 1] as string] : [];
  });
  return (text) => {
    let safe = text;
    for (const secret of secrets) if (secret.length > 0) safe = safe.split(secret).join('[token]');
    out(safe.replace(JWT_SHAPE, '[token]'));
  };
}

/** `scopegate probe`: returns the exit status. `send` replaces the HTTP client (tests). */
export async function probeCommand(argv: string[], print: (text: string) => void = console.log, send?: Sender): Promise<number> {
  const out = redacting(argv, print);
  const values = commandArgs(
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      config: { type: 'string' },
      openapi: { type: 'string' },
      profile: { type: 'string' },
      max: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'allow-writes': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    PROBE_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  const usage = (message: string) => {
    out(`scopegate probe: ${message}\n\n${PROBE_HELP}`);
    return 2;
  };
  const config = typeof values.config === 'string' ? values.config : undefined;
  const openapi = typeof values.openapi === 'string' ? values.openapi : undefined;
  if ((config === undefined) === (openapi === undefined)) return usage('give one of --config FILE and --openapi FILE');
  if (typeof values.url !== 'string') return usage('--url is required');
  const token = String(values.token ?? '')
    .replace(/^bearer\s+/i, '')
    .trim();
  if (token.length === 0) return usage('--token is required');
  const max = values.max === undefined ? 200 : Number(values.max);
  if (!Number.isInteger(max) || max < 1 || max > 1000) return usage('--max is a whole number from 1 to 1000');
  const timeoutMs = values['timeout-ms'] === undefined ? 10000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60000) return usage('--timeout-ms is a whole number from 1 to 60000');
  const profileName = values.profile ?? 'rfc9068';
  if (!isProfileName(profileName)) return usage(`--profile is one of ${PROFILE_NAMES.join(', ')}`);

  let url: URL;
  try {
    url = checkStageUrl(values.url);
  } catch (error) {
    return usage((error as Error).message);
  }
  let parsed: AuthorizerConfig;
  let issuersGiven: boolean;
  try {
    ({ parsed, issuersGiven } = readModel(config, openapi));
  } catch (error) {
    out(`scopegate probe: ${openapi ?? config}: ${(error as Error).message}`);
    return 2;
  }
  const model: ProbeModel = {
    routes: parsed.routes,
    // A SpecRestApi imported from the document has exactly its paths as resources.
    unrouted: openapi !== undefined ? Unrouted.UNREACHABLE : parsed.unrouted,
    enforcement: parsed.enforcement,
    policyCacheTtlSeconds: parsed.policyCacheTtlSeconds,
  };
  let read: ReturnType<typeof readToken>;
  try {
    read = readToken(token, parsed, issuersGiven && openapi === undefined, profileName);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    out(`scopegate probe: ${error.message}`);
    return 2;
  }
  const nowSeconds = Date.now() / 1000;
  const verdicts = pathRoutes(model).concat(model.routes.filter((r) => r.path === DEFAULT_ROUTE_PATH));
  const met = verdicts.map((r) => ({ name: routeName(r), ok: satisfies(r, read.facts, model.policyCacheTtlSeconds, nowSeconds).ok }));
  const { probes, dropped } = buildBattery(model, max);
  const setting: ProbeSetting = {
    url: url.href.replace(/\/$/, ''),
    routes: model.routes.length,
    unrouted: model.unrouted,
    unroutedFrom: openapi !== undefined ? 'openapi' : 'configuration',
    issuer: read.issuer?.issuer,
    profile: read.profile,
    scopeClaim: read.scopeClaim,
    scopes: [...read.facts.scopes],
    authAgeSeconds: read.facts.authTime === undefined ? undefined : Math.round(nowSeconds - read.facts.authTime),
    expiresInSeconds: Math.round(read.exp - nowSeconds),
    satisfied: met.filter((m) => m.ok).map((m) => m.name),
    lacking: met.filter((m) => !m.ok).map((m) => m.name),
    dropped: dropped.length,
  };
  const sender = send ? { send, close: () => undefined } : httpSender(url, `Bearer ${token}`, timeoutMs);
  let results: ProbeResult[];
  try {
    results = await runBattery(model, read.facts, probes, sender.send, { allowWrites: values['allow-writes'] === true });
  } finally {
    sender.close();
  }
  out(values.json ? JSON.stringify(probeReportJson(results, setting), null, 2) : formatProbeReport(results, setting));
  return results.every((r) => r.observed === undefined || r.agree) ? 0 : 1;
}

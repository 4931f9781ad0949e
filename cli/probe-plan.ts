import { DEFAULT_ROUTE_PATH, type RouteConfig, type Unrouted } from '../core/config';
import { type GatewayRoute, gatewayRouteOf } from '../proof/gateway-model';

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
export const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a path parameter is filled in with. */
const VALUE = 'scopegate-probe';

const ASSUMPTION_ORDER: ProbeKind[] = ['unrouted', 'deeper', 'trailing-slash', 'double-slash', 'encoded-slash', 'case', 'head', 'options'];

export function routeName(r: { method: string; path: string }): string {
  return `${r.method} ${r.path}`;
}

/** The routes that have a resource path (the HTTP API `$default` row has none). */
export function pathRoutes(model: ProbeModel): RouteConfig[] {
  return model.routes.filter((r) => r.path !== DEFAULT_ROUTE_PATH);
}

export function gatewayRoutes(routes: readonly RouteConfig[]): GatewayRoute[] {
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

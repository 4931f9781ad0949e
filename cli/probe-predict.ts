import { DEFAULT_ROUTE_PATH, type RouteConfig, Unrouted } from '../core/config';
import { missingScopes, satisfiesAnyOf } from '../core/scopes';
import { gatewayRouteOf, requestShape } from '../proof/gateway-model';
import { gatewayRoutes, type Prediction, type Probe, type ProbeModel, pathRoutes, routeName, type TokenFacts } from './probe-plan';

/** Whether the token meets a route: its scopes, and for step-up an authentication that stays fresh for the policy cache. */
export function satisfies(route: RouteConfig, token: TokenFacts, ttlSeconds: number, nowSeconds: number): { ok: boolean; why: string } {
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

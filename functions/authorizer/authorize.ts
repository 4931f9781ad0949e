import { type AuthorizerConfig, DEFAULT_ROUTE_PATH, Enforcement, type RouteConfig } from '../../core/config';
import { InvalidTokenError, MalformedEventError, messageOf, reasonOf } from '../../core/errors';
import {
  type CompiledPolicy,
  compilePolicy,
  type PolicyDocument,
  type PolicyRoute,
  patternsAllow,
  renderPolicy,
  singleRequestPolicy,
} from '../../core/policy';
import { analysisOf } from '../../core/policy-analysis';
import { outcomeOf, Reason, type ReasonCode } from '../../core/reasons';
import { parseRouteTemplate, resolveRoute } from '../../core/routes';
import { missingAnyOf, missingScopes, satisfiesAnyOf, scopeKey } from '../../core/scopes';
import { BoundedMap } from '../shared/bounded-map';
import type { JwksUriResolver } from './discovery';
import type { Introspector } from './introspection';
import type { KeyStore } from './key-store';
import { parseMethodArn } from './method-arn';
import { type RequestBinding, SenderConstraintChecker } from './sender-constraint';
import { extractCredentials } from './token';
import { TokenVerifier, type VerifiedToken } from './verify';

/** What API Gateway gets back for a token that verified. */
export interface AuthorizerResult {
  principalId: string;
  policyDocument: PolicyDocument;
  context: Record<string, string | number | boolean>;
}

/** One decision, as logged: every field but the token. */
export interface DecisionRecord {
  reason: ReasonCode;
  /** `allow` / `deny` for a policy returned, `unauthorized` for a 401, `error` for a 500. */
  effect: 'allow' | 'deny' | 'unauthorized' | 'error';
  method?: string;
  path?: string;
  route?: string;
  issuer?: string;
  sub?: string;
  clientId?: string;
  kid?: string;
  alg?: string;
  /** The one claim the token's scopes came from (`scope`, `scp`, `permissions`…). */
  scopeClaim?: string;
  /** What the route's only set of scopes lacks. */
  missingScopes?: string[];
  /** For a route with alternatives (`anyOf`): what each alternative lacks, in the route's order. */
  missingAnyOf?: string[][];
  /**
   * `false` when the decision was only reported (`report-only`): the request was let
   * through whatever `reason` says. Set on every policy decision.
   */
  enforced?: boolean;
  policyBytes?: number;
  /**
   * When the token's whole-API policy is not exact: the routes it over-denies (`METHOD /path`),
   * and whether it was returned (their over-deny accepted) or replaced by a policy for this
   * request alone (`single-request`).
   */
  policyInexact?: string[];
  detail?: string;
  latencyMs: number;
}

/**
 * What a decision is asked about: a REST method ARN (TOKEN and REQUEST events), or an HTTP
 * API route (payload 2.0): the `routeKey` API Gateway matched (`GET /admin`,
 * `ANY /{proxy+}`, `$default`) under the API and stage of `routeArn`. A string is a method ARN.
 */
export type DecisionTarget = string | { routeArn: string; routeKey: string };

/**
 * The outcome of {@link Authorizer.decide}: a policy to return, a 401, or a 500; which one
 * follows from `record.reason` ({@link outcomeOf}). `allowed` says whether API Gateway lets
 * this request through (an HTTP API's `isAuthorized`).
 */
export type Decision =
  | { outcome: 'policy'; result: AuthorizerResult; record: DecisionRecord; allowed: boolean }
  | { outcome: 'unauthorized' | 'error'; record: DecisionRecord };

/** Options of {@link Authorizer}. */
export interface AuthorizerOptions {
  config: AuthorizerConfig;
  keys: KeyStore;
  /** Introspects opaque tokens for issuers with `introspection`. */
  introspector?: Introspector;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Resolves key set URLs by OIDC discovery for issuers without `jwksUri`. Default HTTPS with the configured bounds. */
  discovery?: JwksUriResolver;
}

const MAX_MEMO = 512;
const STAGE_PREFIX = /^(arn:[^:]+:execute-api:[^:]+:\d+:[^/]+\/[^/]+\/)/;

/** The route a decision is for, found from a method ARN or a route key. */
interface Asked {
  /** `arn:…:API_ID/STAGE/`. */
  stagePrefix: string;
  method: string;
  path: string;
  /** Index in the configuration's routes, or -1. */
  index: number;
  /** The method ARN (REST) or route ARN (HTTP API) of this request. */
  requestArn: string;
  /** An HTTP API route (payload 2.0). */
  http: boolean;
  detail?: string;
}

/**
 * Turns (Authorization value, method ARN or HTTP API route) into a decision. Pure apart from
 * the key store: no logging, no AWS; the handler shapes the answer and writes the log line.
 */
export class Authorizer {
  private readonly verifier: TokenVerifier;
  private readonly config: AuthorizerConfig;
  private readonly now: () => number;
  private readonly compiled = new BoundedMap<string, CompiledPolicy>(MAX_MEMO);
  /** Per-route scope verdicts by the token's scope list (before step-up). */
  private readonly scopeVerdicts = new BoundedMap<string, boolean[]>(MAX_MEMO);
  /** Indexes of the routes with `maxAuthAgeSeconds`. */
  private readonly stepUp: number[];
  private readonly senders: SenderConstraintChecker;
  private readonly rendered = new BoundedMap<string, { policy: PolicyDocument; bytes: number }>(MAX_MEMO);
  /** The routes with a resource path (all but `$default`), as the compiler and REST routing see them. */
  private readonly restRoutes: PolicyRoute[];
  /** Index in `config.routes` of each of {@link restRoutes}. */
  private readonly restIndex: number[];
  /** Route index by `METHOD TEMPLATE_KEY` (`* $default` for the catch-all), for HTTP API route keys. */
  private readonly byRouteKey = new Map<string, number>();
  /** Route index by the raw `routeKey` of an event, memoized. */
  private readonly routeKeys = new BoundedMap<string, number>(MAX_MEMO);
  private readonly anyReportOnly: boolean;
  /** Per compiler route, whether the configuration accepts its over-deny. */
  private readonly mayOverDeny: (index: number) => boolean;
  /** Per route, its name in the log (`METHOD /path`), made once. */
  private readonly routeNames: string[];
  /** The route asked by a REST method ARN, memoized (an {@link Asked} is never changed once made). */
  private readonly askedByArn = new BoundedMap<string, Asked>(MAX_MEMO);
  /** Per scope verdicts, those of a token without `auth_time`: every step-up route refused. */
  private readonly withoutAuthTime = new WeakMap<readonly boolean[], boolean[]>();
  /** The compiler's route mask of each memoized verdict list. */
  private readonly masks = new WeakMap<readonly boolean[], string>();

  constructor(options: AuthorizerOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.verifier = new TokenVerifier(options.config, options.keys, this.now, options.introspector, options.discovery);
    this.senders = new SenderConstraintChecker({ now: this.now });
    const routes = options.config.routes;
    this.stepUp = routes.flatMap((r, i) => (r.maxAuthAgeSeconds === undefined ? [] : [i]));
    this.restIndex = routes.flatMap((r, i) => (r.path === DEFAULT_ROUTE_PATH ? [] : [i]));
    this.restRoutes = this.restIndex.map((i) => routes[i] as RouteConfig);
    const accepts = this.restIndex.map((i) => (routes[i] as RouteConfig).acceptOverDeny);
    this.mayOverDeny = (j) => accepts[j] === true;
    routes.forEach((r, i) => {
      this.byRouteKey.set(`${r.method} ${r.template.key}`, i);
    });
    this.anyReportOnly = options.config.enforcement === 'report-only' || routes.some((r) => r.enforcement === 'report-only');
    this.routeNames = routes.map((r) => `${r.method} ${r.path}`);
  }

  /**
   * Build now what the first decision would otherwise build: the analysis of the route table
   * that every policy is compiled from (kept by the compiler for as long as the table is), and
   * the policy of a token that may call no route (memoized as any other).
   */
  prepare(): void {
    analysisOf(this.restRoutes);
    const none = this.config.routes.map(() => false);
    this.compiledFor(none, this.maskOf(none));
  }

  /**
   * Decide for one request. `target` is the REST method ARN, or the HTTP API route.
   * `request` carries what a REQUEST event knows of the HTTP request (method, URL, DPoP
   * proof, client certificate), for sender-constrained tokens.
   * Never rejects nor throws: failures come back as `unauthorized` or `error`. The decision
   * comes back at once (no promise) when nothing has to be waited for: a JWT whose key is
   * held, the hot path; else a promise of it (a key set or discovery fetch, introspection).
   */
  decide(authorization: string | undefined, target: DecisionTarget, request?: RequestBinding): Decision | Promise<Decision> {
    const started = performance.now();
    try {
      const { scheme, token: value } = extractCredentials(authorization, this.config.maxTokenBytes);
      const verified = this.verifier.check(value);
      if (verified instanceof Promise) {
        return verified.then(
          (token) => this.decideVerified(token, scheme, value, target, request, started),
          (error: unknown) => failure(error, elapsedMs(started)),
        );
      }
      return this.decideVerified(verified, scheme, value, target, request, started);
    } catch (error) {
      return failure(error, elapsedMs(started));
    }
  }

  /** {@link decide} once the token is verified. Never throws. */
  private decideVerified(
    token: VerifiedToken,
    scheme: 'bearer' | 'dpop',
    value: string,
    target: DecisionTarget,
    request: RequestBinding | undefined,
    started: number,
  ): Decision {
    try {
      this.checkSender(token, scheme, value, request);
      return this.decideFor(token, target, started);
    } catch (error) {
      return failure(error, elapsedMs(started));
    }
  }

  /** The token is used by its sender (when bound), and not bound where a cached answer could be replayed. Throws an {@link InvalidTokenError}. */
  private checkSender(token: VerifiedToken, scheme: 'bearer' | 'dpop', value: string, request: RequestBinding | undefined): void {
    this.senders.check(token, scheme, value, request, token.issuer.senderConstraint === 'required');
    if (this.config.policyCacheTtlSeconds > 0 && isSenderBound(token)) {
      // A cached answer is keyed on the Authorization value alone: it would let the token
      // through again without a fresh proof or with another certificate.
      throw new InvalidTokenError(
        Reason.SenderConstraint,
        'a sender-constrained token needs an uncached authorizer (policyCacheTtlSeconds 0)',
      );
    }
  }

  /** The route of a REST method ARN, memoized by the ARN. */
  private askedRest(methodArn: string): Asked {
    let asked = this.askedByArn.get(methodArn);
    if (asked === undefined) {
      asked = this.routeRest(methodArn);
      this.askedByArn.set(methodArn, asked);
    }
    return asked;
  }

  /** The route of a REST method ARN: routed as API Gateway routes the path (never `$default`). */
  private routeRest(methodArn: string): Asked {
    const arn = parseMethodArn(methodArn);
    const path = `/${arn.segments.join('/')}`;
    const asked: Asked = { stagePrefix: arn.stagePrefix, method: arn.method, path, index: -1, requestArn: methodArn, http: false };
    // API Gateway routes `/x/` to `/x`, and what it makes of `/a//b` is not documented: the
    // policy denies every request with an empty segment (policy.ts), and so does the decision.
    if (arn.segments.some((s) => s.length === 0)) {
      asked.detail = 'the path has an empty segment (a trailing or double slash): always denied';
      return asked;
    }
    const j = resolveRoute(this.restRoutes, arn.method, arn.segments);
    asked.index = j < 0 ? -1 : (this.restIndex[j] as number);
    return asked;
  }

  /** The route of an HTTP API event: the one its `routeKey` names, never re-routed from a path. */
  private askedHttp(routeArn: string, routeKey: string): Asked {
    const stagePrefix = STAGE_PREFIX.exec(routeArn)?.[1];
    if (stagePrefix === undefined) throw new MalformedEventError(`not an execute-api route ARN: ${routeArn.slice(0, 200)}`);
    let index = this.routeKeys.get(routeKey);
    if (index === undefined) {
      index = this.lookupRouteKey(routeKey);
      this.routeKeys.set(routeKey, index);
    }
    const space = routeKey.indexOf(' ');
    return {
      stagePrefix,
      method: space < 0 ? '*' : routeKey.slice(0, space),
      path: space < 0 ? routeKey : routeKey.slice(space + 1),
      index,
      requestArn: routeArn,
      http: true,
      detail: index < 0 ? `no configured route for routeKey ${JSON.stringify(routeKey.slice(0, 200))}` : undefined,
    };
  }

  private lookupRouteKey(routeKey: string): number {
    if (routeKey === DEFAULT_ROUTE_PATH) return this.byRouteKey.get(`* ${DEFAULT_ROUTE_PATH}`) ?? -1;
    const match = /^([A-Za-z]+) (\/\S*)$/.exec(routeKey);
    if (match === null) return -1;
    const method = (match[1] as string).toUpperCase();
    try {
      const key = parseRouteTemplate(match[2] as string).key;
      return this.byRouteKey.get(`${method === 'ANY' ? '*' : method} ${key}`) ?? -1;
    } catch {
      return -1;
    }
  }

  /** The policy decision for a verified token: which route is asked, whether the token may call it, what API Gateway gets. */
  private decideFor(token: VerifiedToken, target: DecisionTarget, started: number): Decision {
    const asked = typeof target === 'string' ? this.askedRest(target) : this.askedHttp(target.routeArn, target.routeKey);
    const verdicts = this.verdictsFor(token);
    const route = this.config.routes[asked.index];
    let judgement = judge(route, verdicts[asked.index] === true, token.scopes);
    const enforcement: Enforcement = this.anyReportOnly ? (route?.enforcement ?? this.config.enforcement) : Enforcement.ENFORCE;
    let allowed = judgement.reason === Reason.Allow || enforcement === 'report-only';
    const policy = this.policyOf(asked, verdicts, allowed, judgement.reason, token);
    if (policy.overDenies) {
      // The cached policy denies this request (an accepted over-deny): so does the decision.
      judgement = OVER_DENY;
      allowed = false;
    }
    return {
      outcome: 'policy',
      allowed,
      result: {
        principalId: token.sub ?? token.clientId ?? 'anonymous',
        policyDocument: policy.rendered.policy,
        context: contextOf(token),
      },
      record: recordOf(token, asked, this.routeNames[asked.index], judgement, allowed, enforcement, policy, elapsedMs(started)),
    };
  }

  /** Per route, whether the token may call it: its scopes (memoized by scope list), then its age where a route asks for step-up. */
  private verdictsFor(token: VerifiedToken): readonly boolean[] {
    const key = scopeKey(token.scopes);
    let byScope = this.scopeVerdicts.get(key);
    if (byScope === undefined) {
      const granted = new Set(token.scopes);
      byScope = this.memoized(this.config.routes.map((route) => satisfiesAnyOf(route.anyOf, granted)));
      this.scopeVerdicts.set(key, byScope);
    }
    if (this.stepUp.length === 0) return byScope;
    if (token.authTime === undefined) {
      // No authentication time: every step-up route is refused, whatever the clock says.
      let refused = this.withoutAuthTime.get(byScope);
      if (refused === undefined) {
        refused = [...byScope];
        for (const i of this.stepUp) refused[i] = false;
        this.withoutAuthTime.set(byScope, this.memoized(refused));
      }
      return refused;
    }
    return this.withStepUp(byScope, token.authTime);
  }

  /** The compiler's route mask of a verdict list: `1` for each REST route allowed, else `0`. */
  private maskOf(verdicts: readonly boolean[]): string {
    let mask = '';
    for (const i of this.restIndex) mask += verdicts[i] ? '1' : '0';
    return mask;
  }

  /** A verdict list kept for many decisions, with its mask made once. */
  private memoized(verdicts: boolean[]): boolean[] {
    this.masks.set(verdicts, this.maskOf(verdicts));
    return verdicts;
  }

  /** The verdicts with each step-up route allowed only to a token authenticated recently enough. */
  private withStepUp(byScope: readonly boolean[], authTime: number): boolean[] {
    const routes = this.config.routes;
    const nowSeconds = this.now() / 1000;
    const verdicts = [...byScope];
    for (const i of this.stepUp) {
      const max = routes[i]?.maxAuthAgeSeconds as number;
      // The Allow must hold for as long as API Gateway may cache it.
      verdicts[i] = byScope[i] === true && nowSeconds - authTime + this.config.policyCacheTtlSeconds <= max;
    }
    return verdicts;
  }

  /**
   * The policy API Gateway gets, which always gives this request the effect decided. One for
   * this request only: for HTTP APIs (the answer is for the route only); for a
   * sender-constrained token (no cache may reuse it beyond the request its proof is bound
   * to); for a would-be deny passed in report-only (nothing else is let through with it); for
   * a token whose route set has no exact whole-API policy (unless the configuration accepts
   * the over-deny: then that policy, and the decision follows it). Else the whole-API policy
   * of the verdicts, exact for every request the token may send.
   */
  private policyOf(asked: Asked, verdicts: readonly boolean[], allowed: boolean, reason: ReasonCode, token: VerifiedToken): RenderedPolicy {
    if (asked.http || isSenderBound(token) || (allowed && reason !== Reason.Allow)) return this.single(asked, allowed, NO_NOTE);
    const whole = this.policyFor(verdicts, asked.stagePrefix);
    if (!whole.compiled.exact && !whole.accepted) return this.single(asked, allowed, whole.note);
    // An exact policy gives every routed request its decided effect; what it does with an
    // unrouted one (under `unreachable`) or in an accepted over-deny has to be looked up.
    if (whole.compiled.exact && reason !== Reason.NoRoute) return whole;
    const lets = patternsAllow(whole.compiled, asked.requestArn.slice(asked.stagePrefix.length));
    if (lets === allowed) return whole;
    if (allowed) return { ...whole, overDenies: true };
    return this.withRequestDenied(asked, whole);
  }

  /** A policy for this request alone. An HTTP API takes `isAuthorized`, not the policy: no size to measure. */
  private single(asked: Asked, allowed: boolean, note: string[] | undefined): RenderedPolicy {
    const policy = singleRequestPolicy(asked.requestArn, asked.stagePrefix, allowed);
    const bytes = asked.http ? undefined : Buffer.byteLength(JSON.stringify(policy));
    return { rendered: { policy, bytes }, compiled: undefined, accepted: false, note, overDenies: false };
  }

  /**
   * The whole-API policy with this request denied too: an unrouted request that reached the
   * authorizer although the configuration says none can (`unrouted: unreachable`). A path
   * holding IAM wildcard characters cannot be named alone: then the whole stage is denied.
   */
  private withRequestDenied(asked: Asked, whole: RenderedPolicy): RenderedPolicy {
    if (/[*?]/.test(asked.requestArn)) return this.single(asked, false, whole.note);
    const statements = whole.rendered.policy.Statement.map((s) => ({ ...s, Resource: [...s.Resource] }));
    const deny = statements.find((s) => s.Effect === 'Deny');
    if (deny) deny.Resource.push(asked.requestArn);
    else statements.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [asked.requestArn] });
    const policy: PolicyDocument = { Version: '2012-10-17', Statement: statements };
    return { ...whole, rendered: { policy, bytes: Buffer.byteLength(JSON.stringify(policy)) } };
  }

  /** The whole-API policy for a verdict per route, memoized by verdicts and stage. */
  /** The compiled whole-API policy for a verdict per route, memoized by its mask. */
  private compiledFor(verdicts: readonly boolean[], mask: string): CompiledPolicy {
    let compiled = this.compiled.get(mask);
    if (compiled === undefined) {
      const index = this.restIndex;
      compiled = compilePolicy(this.restRoutes, (j) => verdicts[index[j] as number] === true, {
        unrouted: this.config.unrouted,
        mayOverDeny: this.mayOverDeny,
      });
      this.compiled.set(mask, compiled);
    }
    return compiled;
  }

  private policyFor(verdicts: readonly boolean[], stagePrefix: string): RenderedPolicy & { compiled: CompiledPolicy } {
    const mask = this.masks.get(verdicts) ?? this.maskOf(verdicts);
    const compiled = this.compiledFor(verdicts, mask);
    const renderKey = `${stagePrefix}|${mask}`;
    let rendered = this.rendered.get(renderKey);
    if (rendered === undefined) {
      const policy = renderPolicy(compiled, stagePrefix);
      rendered = { policy, bytes: Buffer.byteLength(JSON.stringify(policy)) };
      this.rendered.set(renderKey, rendered);
    }
    if (compiled.exact) return { rendered, compiled, accepted: true, note: undefined, overDenies: false };
    const accepted = compiled.overDenied.every(this.mayOverDeny);
    const names = compiled.overDenied.map((j) => {
      const r = this.restRoutes[j] as RouteConfig;
      return `${r.method} ${r.path}`;
    });
    const note = names.map((name) => `over_deny:${name}${accepted ? '' : ' (single-request policy)'}`);
    return { rendered, compiled, accepted, note, overDenies: false };
  }
}

/**
 * A policy and its size in bytes (none for an HTTP API); the compiled whole-API policy it
 * renders, if it does; what the log says of an inexact one.
 */
interface RenderedPolicy {
  rendered: { policy: PolicyDocument; bytes: number | undefined };
  compiled: CompiledPolicy | undefined;
  /** The compiled policy is exact, or its over-deny is accepted by the configuration. */
  accepted: boolean;
  note: string[] | undefined;
  /** The policy denies this request although the token satisfies its route (an accepted over-deny). */
  overDenies: boolean;
}

const NO_NOTE = undefined;

/** Why a route is allowed or not, with what the token lacks when its scopes fall short. */
interface Judgement {
  reason: ReasonCode;
  missingScopes?: string[];
  missingAnyOf?: string[][];
}

const ALLOW: Judgement = { reason: Reason.Allow };
const NO_ROUTE: Judgement = { reason: Reason.NoRoute };
const OVER_DENY: Judgement = { reason: Reason.OverDeny };
const STEP_UP_REQUIRED: Judgement = { reason: Reason.StepUpRequired };

/**
 * The reason of a decision on `route` (undefined: no route matched) given its `verdict`: an
 * Allow; a step-up when the scopes suffice but the authentication is too old; else
 * insufficient scope, with what the route's only set, or each alternative, lacks.
 */
function judge(route: RouteConfig | undefined, verdict: boolean, scopes: readonly string[]): Judgement {
  if (route === undefined) return NO_ROUTE;
  if (verdict) return ALLOW;
  const granted = new Set(scopes);
  if (satisfiesAnyOf(route.anyOf, granted)) return STEP_UP_REQUIRED;
  return route.anyOf.length === 1
    ? { reason: Reason.InsufficientScope, missingScopes: missingScopes(route.anyOf[0] as string[], granted) }
    : { reason: Reason.InsufficientScope, missingAnyOf: missingAnyOf(route.anyOf, granted) };
}

/** The context API Gateway passes to the integration: who, which client, which scopes, which issuer (and `authTime`). */
function contextOf(token: VerifiedToken): AuthorizerResult['context'] {
  const context: AuthorizerResult['context'] = {
    sub: token.sub ?? '',
    clientId: token.clientId ?? '',
    scope: token.scopes.join(' '),
    issuer: token.issuer.issuer,
  };
  if (token.authTime !== undefined) context.authTime = token.authTime;
  return context;
}

/**
 * The log record of a policy decision. Members without a value are left out, not set to
 * `undefined`: the logger would walk each of them (docs/performance.md).
 */
function recordOf(
  token: VerifiedToken,
  asked: Asked,
  routeName: string | undefined,
  judgement: Judgement,
  allowed: boolean,
  enforcement: Enforcement,
  policy: RenderedPolicy,
  latencyMs: number,
): DecisionRecord {
  const record: DecisionRecord = {
    reason: judgement.reason,
    effect: allowed ? 'allow' : 'deny',
    enforced: enforcement === 'enforce',
    method: asked.method,
    path: asked.path,
  } as DecisionRecord;
  if (routeName !== undefined) record.route = routeName;
  record.issuer = token.issuer.issuer;
  if (token.sub !== undefined) record.sub = token.sub;
  if (token.clientId !== undefined) record.clientId = token.clientId;
  record.kid = token.kid;
  record.alg = token.alg;
  if (token.scopeClaim !== undefined) record.scopeClaim = token.scopeClaim;
  if (judgement.missingScopes !== undefined) record.missingScopes = judgement.missingScopes;
  if (judgement.missingAnyOf !== undefined) record.missingAnyOf = judgement.missingAnyOf;
  if (policy.rendered.bytes !== undefined) record.policyBytes = policy.rendered.bytes;
  if (policy.note !== undefined) record.policyInexact = policy.note;
  if (asked.detail !== undefined) record.detail = asked.detail;
  record.latencyMs = latencyMs;
  return record;
}

/** Milliseconds since `started` (a `performance.now()`), to the microsecond. */
function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/**
 * The decision for a request that failed before a policy could be had: by the error's
 * reason code alone, a 401 (`invalid_token.*`) or a 500.
 */
export function failure(error: unknown, latencyMs: number): Decision {
  const reason = reasonOf(error);
  const outcome = outcomeOf(reason) === 'unauthorized' ? 'unauthorized' : 'error';
  return { outcome, record: { reason, effect: outcome, detail: messageOf(error), latencyMs } };
}

/** Whether the token is bound to its sender: a DPoP key (`cnf.jkt`) or a certificate (`cnf.x5t#S256`). */
function isSenderBound(token: VerifiedToken): boolean {
  return token.cnf !== undefined && (token.cnf.jkt !== undefined || token.cnf['x5t#S256'] !== undefined);
}

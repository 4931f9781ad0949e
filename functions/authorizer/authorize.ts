import { IntrospectionUnavailableError, InvalidTokenError, KeysUnavailableError } from '../shared/errors';
import { Reason, type ReasonCode } from '../shared/reasons';
import type { AuthorizerConfig } from './config';
import type { JwksUriResolver } from './discovery';
import type { Introspector } from './introspection';
import type { KeyStore } from './key-store';
import { parseMethodArn } from './method-arn';
import { type CompiledPolicy, compilePolicy, type PolicyDocument, renderPolicy } from './policy';
import { resolveRoute } from './routes';
import { missingScopes } from './scopes';
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
  missingScopes?: string[];
  policyBytes?: number;
  policyInexact?: string[];
  detail?: string;
  latencyMs: number;
}

/** The outcome of {@link Authorizer.decide}: a policy to return, or an error class to throw. */
export type Decision =
  | { outcome: 'policy'; result: AuthorizerResult; record: DecisionRecord }
  | { outcome: 'unauthorized'; record: DecisionRecord }
  | { outcome: 'error'; record: DecisionRecord; error: Error };

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

/**
 * Turns (Authorization value, method ARN) into a decision. Pure apart from the key store:
 * no logging, no AWS; the handler shapes the answer and writes the log line.
 */
export class Authorizer {
  private readonly verifier: TokenVerifier;
  private readonly config: AuthorizerConfig;
  private readonly now: () => number;
  private readonly compiled = new Map<string, CompiledPolicy>();
  /** Per-route scope verdicts by the token's scope list (before step-up). */
  private readonly scopeVerdicts = new Map<string, boolean[]>();
  /** Indexes of the routes with `maxAuthAgeSeconds`. */
  private readonly stepUp: number[];
  private readonly senders: SenderConstraintChecker;
  private readonly rendered = new Map<string, { policy: PolicyDocument; bytes: number }>();

  constructor(options: AuthorizerOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.verifier = new TokenVerifier(options.config, options.keys, this.now, options.introspector, options.discovery);
    this.senders = new SenderConstraintChecker({ now: this.now });
    this.stepUp = options.config.routes.flatMap((r, i) => (r.maxAuthAgeSeconds === undefined ? [] : [i]));
  }

  /**
   * Decide for one request. `request` carries what a REQUEST event knows of the HTTP
   * request (method, URL, DPoP proof, client certificate), for sender-constrained tokens.
   * Never rejects: failures come back as `unauthorized` or `error`.
   */
  async decide(authorization: string | undefined, methodArn: string, request?: RequestBinding): Promise<Decision> {
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 1000) / 1000;
    let token: VerifiedToken;
    try {
      const { scheme, token: value } = extractCredentials(authorization, this.config.maxTokenBytes);
      token = await this.verifier.verify(value);
      this.senders.check(token, scheme, value, request, token.issuer.senderConstraint === 'required');
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        return {
          outcome: 'unauthorized',
          record: { reason: error.reason, effect: 'unauthorized', detail: error.message, latencyMs: latency() },
        };
      }
      const reason =
        error instanceof KeysUnavailableError
          ? Reason.KeysUnavailable
          : error instanceof IntrospectionUnavailableError
            ? Reason.IntrospectionUnavailable
            : Reason.Internal;
      return {
        outcome: 'error',
        error: error as Error,
        record: { reason, effect: 'error', detail: String((error as Error).message), latencyMs: latency() },
      };
    }
    try {
      return this.decideFor(token, methodArn, latency);
    } catch (error) {
      return {
        outcome: 'error',
        error: error as Error,
        record: { reason: Reason.Internal, effect: 'error', detail: String((error as Error).message), latencyMs: latency() },
      };
    }
  }

  private decideFor(token: VerifiedToken, methodArn: string, latency: () => number): Decision {
    const arn = parseMethodArn(methodArn);
    const routes = this.config.routes;
    const scopeKey = token.scopes.join(' ');
    let byScope = this.scopeVerdicts.get(scopeKey);
    if (byScope === undefined) {
      const granted = new Set(token.scopes);
      byScope = routes.map((route) => missingScopes(route.scopes, granted).length === 0);
      remember(this.scopeVerdicts, scopeKey, byScope);
    }
    let verdicts = byScope;
    if (this.stepUp.length > 0) {
      const nowSeconds = this.now() / 1000;
      verdicts = [...byScope];
      for (const i of this.stepUp) {
        const max = routes[i]?.maxAuthAgeSeconds as number;
        // The Allow must hold for as long as API Gateway may cache it.
        verdicts[i] =
          byScope[i] === true && token.authTime !== undefined && nowSeconds - token.authTime + this.config.policyCacheTtlSeconds <= max;
      }
    }
    let mask = '';
    for (const v of verdicts) mask += v ? '1' : '0';
    let compiled = this.compiled.get(mask);
    if (compiled === undefined) {
      compiled = compilePolicy(routes, (i) => verdicts[i] === true);
      remember(this.compiled, mask, compiled);
    }
    const renderKey = `${arn.stagePrefix}|${mask}`;
    let rendered = this.rendered.get(renderKey);
    if (rendered === undefined) {
      const policy = renderPolicy(compiled, arn.stagePrefix);
      rendered = { policy, bytes: Buffer.byteLength(JSON.stringify(policy)) };
      remember(this.rendered, renderKey, rendered);
    }
    const index = resolveRoute(routes, arn.method, arn.segments);
    const route = routes[index];
    let reason: ReasonCode;
    let missing: string[] | undefined;
    if (route === undefined) reason = Reason.NoRoute;
    else if (verdicts[index]) reason = Reason.Allow;
    else {
      missing = missingScopes(route.scopes, new Set(token.scopes));
      reason = missing.length > 0 ? Reason.InsufficientScope : Reason.StepUpRequired;
    }
    const context: AuthorizerResult['context'] = {
      sub: token.sub ?? '',
      clientId: token.clientId ?? '',
      scope: token.scopes.join(' '),
      issuer: token.issuer.issuer,
    };
    if (token.authTime !== undefined) context.authTime = token.authTime;
    return {
      outcome: 'policy',
      result: { principalId: token.sub ?? token.clientId ?? 'anonymous', policyDocument: rendered.policy, context },
      record: {
        reason,
        effect: reason === Reason.Allow ? 'allow' : 'deny',
        method: arn.method,
        path: `/${arn.segments.join('/')}`,
        route: route ? `${route.method} ${route.path}` : undefined,
        issuer: token.issuer.issuer,
        sub: token.sub,
        clientId: token.clientId,
        kid: token.kid,
        alg: token.alg,
        missingScopes: missing,
        policyBytes: rendered.bytes,
        policyInexact: compiled.inexact.length > 0 ? compiled.inexact.map((x) => `${x.kind}:${x.pattern}`) : undefined,
        latencyMs: latency(),
      },
    };
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_MEMO) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

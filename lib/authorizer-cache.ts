import { Annotations, Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DEFAULT_ROUTE_PATH, type HttpMethod, type Unrouted } from '../core/config';
import { parseRouteTemplate } from '../core/routes';
import { noExactCachedPolicy, type ProofReport, proveRouteTable, tokenScopes } from '../proof/prove';
import { AuthorizerMode, type RouteRow } from './scope-authorizer-props';

/**
 * The cache TTL asked for, in seconds: 0 in REQUEST mode (which caches nothing), else
 * `cacheTtl` or 300 s. Throws for a TTL API Gateway or the mode cannot take.
 */
export function requestedCacheTtlSeconds(mode: AuthorizerMode | undefined, cacheTtl: Duration | undefined): number {
  if (mode === AuthorizerMode.REQUEST && cacheTtl !== undefined && cacheTtl.toSeconds() > 0) {
    throw new Error(
      `mode 'request' caches nothing (a DPoP proof is bound to one request); cacheTtl must be 0, not ${cacheTtl.toSeconds()} s`,
    );
  }
  const seconds = mode === AuthorizerMode.REQUEST ? 0 : (cacheTtl ?? Duration.seconds(300)).toSeconds();
  if (seconds > 3600) throw new Error(`cacheTtl is ${seconds} s; API Gateway caches authorizer results for 3600 s at most`);
  return seconds;
}

/**
 * The policy proofs of a route table (docs/proof.md), memoized per table size, `unrouted`
 * and cache TTL (routes are only ever added, so the size stands for the table).
 */
export class RouteTableProofs {
  private readonly reports = new Map<string, ProofReport | undefined>();

  /** The proof at a cache TTL, uncached when it is 0; `undefined` when the table is invalid (validation reports that). */
  proof(table: readonly RouteRow[], unrouted: Unrouted, ttlSeconds: number): ProofReport | undefined {
    const key = `${table.length}|${unrouted}|${ttlSeconds}`;
    if (this.reports.has(key)) return this.reports.get(key);
    let report: ProofReport | undefined;
    try {
      const routes = table
        .filter((r) => r.path !== DEFAULT_ROUTE_PATH)
        .map((r) => ({
          method: r.method as HttpMethod | '*',
          path: r.path,
          template: parseRouteTemplate(r.path),
          scopes: r.scopes ?? [],
          anyOf: r.anyOf,
          maxAuthAgeSeconds: r.maxAuthAgeSeconds,
          acceptOverDeny: r.acceptOverDeny,
        }));
      report = proveRouteTable(routes, { policyCacheTtlSeconds: ttlSeconds, unrouted, uncached: ttlSeconds === 0 });
    } catch {
      report = undefined;
    }
    this.reports.set(key, report);
    return report;
  }
}

/** Why no exact cached policy exists for some token (a witness from the proof), or `undefined` when the proof found none. */
export function noExactPolicyReason(report: ProofReport | undefined): string | undefined {
  const found = report && noExactCachedPolicy(report);
  return found && `no exact cached policy exists for a token with ${tokenScopes(found.case.token)} (${found.witness.detail})`;
}

/** Routes whose step-up age a cached Allow could outlive: such a route would never be allowed. */
export function maxAuthAgeErrors(routes: readonly RouteRow[], ttlSeconds: number): string[] {
  return routes
    .filter((r) => r.maxAuthAgeSeconds !== undefined && r.maxAuthAgeSeconds <= ttlSeconds)
    .map(
      (r) =>
        `${r.method} ${r.path}: maxAuthAgeSeconds (${r.maxAuthAgeSeconds}) must exceed the authorizer cache TTL (${ttlSeconds} s), ` +
        'or a cached Allow could outlive it and the route is never allowed',
    );
}

/**
 * The acknowledgeable id of a configuration warning (`field: message`): stable for a field,
 * `scopegate:config:routes[2].scopes[0]`, so that one warning can be acknowledged alone.
 */
export function configWarningId(warning: string): string {
  const colon = warning.indexOf(':');
  return `scopegate:config:${colon < 0 ? 'configuration' : warning.slice(0, colon)}`;
}

/**
 * Every warning the authorizer would log at load, shown at synth too. Warnings about the
 * stand-ins for deploy-time values say nothing about the deployed configuration.
 */
export function annotateConfigWarnings(scope: IConstruct, warnings: readonly string[]): void {
  for (const warning of warnings) {
    if (!warning.includes('deploy-time.invalid')) Annotations.of(scope).addWarningV2(configWarningId(warning), warning);
  }
}

/** What the synth warnings about caching and coverage are made of. */
export interface CacheAnnotationInputs {
  /** The policy proof at the TTL in effect (none for an HTTP API or an invalid table). */
  readonly report: ProofReport | undefined;
  /** The cache TTL asked for, in seconds. */
  readonly requestedTtlSeconds: number;
  /** Why the authorizer is deployed uncached instead (see {@link noExactPolicyReason}), if it is. */
  readonly uncachedReason: string | undefined;
  /** How many routes the table has. */
  readonly routeCount: number;
}

/** The synth warnings: a partial proof, an authorizer deployed uncached, no route yet. */
export function annotateCacheDecision(scope: IConstruct, inputs: CacheAnnotationInputs): void {
  const annotations = Annotations.of(scope);
  if (inputs.report && !inputs.report.exhaustive) {
    annotations.addWarningV2(
      'scopegate:proofPartial',
      `the policy proof did not check every set of routes a token can satisfy (${inputs.report.coverage}); ` +
        'no failure was found in those it checked. Run "scopegate verify" on the configuration for the details (docs/proof.md)',
    );
  }
  if (inputs.uncachedReason !== undefined) {
    annotations.addWarningV2(
      'scopegate:uncached',
      `deployed with authorizer cache TTL 0 instead of ${inputs.requestedTtlSeconds} s: ${inputs.uncachedReason}. ` +
        'A cached policy must be exact or absent (docs/proof.md): set unrouted to UNREACHABLE if API Gateway has no resource beyond the route table, ' +
        'or acceptOverDeny on the route named, to keep the cache',
    );
  }
  if (inputs.routeCount === 0) {
    annotations.addWarningV2(
      'scopegate:noRoutes',
      'no route yet: attach the authorizer to your API (addMethod, specRestApi, addHttpRoutes) or declare its routes (addRoutes); until then every request is denied',
    );
  }
}

import { Duration } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { type AuthorizerConfigDocument, Enforcement, type Unrouted } from '../core/config';
import { resolveIssuer } from './issuer-resolution';
import type { RouteRow, ScopeAuthorizerProps, ScopeJwksOptions, ScopeRequirement } from './scope-authorizer-props';

/** Largest value of an SSM String parameter, in bytes, per tier. */
export const SSM_PARAMETER_LIMIT_BYTES: Record<string, number> = {
  [ssm.ParameterTier.STANDARD]: 4096,
  [ssm.ParameterTier.ADVANCED]: 8192,
};

/**
 * The route table's row for a method and path with `requirement`: `ANY` as `*`, the scopes or
 * the alternatives, and the route's mode only where it differs from `defaultEnforcement`.
 */
export function routeRow(httpMethod: string, path: string, requirement: ScopeRequirement, defaultEnforcement: Enforcement): RouteRow {
  const upper = httpMethod.toUpperCase();
  const row: RouteRow = { method: upper === 'ANY' ? '*' : upper, path };
  if (requirement.anyOf !== undefined && requirement.anyOf.length > 0) row.anyOf = requirement.anyOf.map((set) => [...set]);
  else row.scopes = [...(requirement.scopes ?? [])];
  if (requirement.maxAuthAge !== undefined) row.maxAuthAgeSeconds = requirement.maxAuthAge.toSeconds();
  if (requirement.enforcement !== undefined && requirement.enforcement !== defaultEnforcement) row.enforcement = requirement.enforcement;
  if (requirement.acceptOverDeny === true) row.acceptOverDeny = true;
  return row;
}

/** What the configuration document is made of besides the construct's props. */
export interface ConfigurationInputs {
  /** The finalized route table. */
  readonly routes: RouteRow[];
  /** The authorizer cache TTL in effect. */
  readonly policyCacheTtlSeconds: number;
  /** Whether unrouted requests reach the authorizer. */
  readonly unrouted: Unrouted;
}

/** The configuration the function reads (the SSM parameter's JSON document). */
export function configurationDocument(props: ScopeAuthorizerProps, inputs: ConfigurationInputs): AuthorizerConfigDocument {
  const config: AuthorizerConfigDocument = {
    issuers: props.issuers.map(resolveIssuer),
    routes: inputs.routes,
    clockToleranceSeconds: (props.clockTolerance ?? Duration.seconds(30)).toSeconds(),
    policyCacheTtlSeconds: inputs.policyCacheTtlSeconds,
    unrouted: inputs.unrouted,
  };
  if (props.enforcement === Enforcement.REPORT_ONLY) config.enforcement = Enforcement.REPORT_ONLY;
  if (props.maxTokenSize !== undefined) config.maxTokenBytes = props.maxTokenSize.toBytes();
  if (props.minRsaBits !== undefined) config.minRsaBits = props.minRsaBits;
  const jwks = jwksDocument(props.jwks);
  if (jwks !== undefined) config.jwks = jwks;
  return config;
}

/** The configuration's `jwks` member for {@link ScopeJwksOptions}, or `undefined` when nothing is set. */
function jwksDocument(options: ScopeJwksOptions | undefined): AuthorizerConfigDocument['jwks'] {
  if (options === undefined) return undefined;
  const jwks: NonNullable<AuthorizerConfigDocument['jwks']> = {};
  if (options.maxSize !== undefined) jwks.maxBytes = options.maxSize.toBytes();
  if (options.timeout !== undefined) jwks.timeoutMs = options.timeout.toMilliseconds();
  if (options.minRefetchInterval !== undefined) jwks.minRefetchIntervalSeconds = options.minRefetchInterval.toSeconds();
  if (options.maxAge !== undefined) jwks.maxAgeSeconds = options.maxAge.toSeconds();
  return Object.keys(jwks).length > 0 ? jwks : undefined;
}

/** Why a configuration of `bytes` does not fit a parameter of `tier` (none when it fits). */
export function parameterSizeErrors(bytes: number, tier: ssm.ParameterTier): string[] {
  const limit = SSM_PARAMETER_LIMIT_BYTES[tier];
  if (limit === undefined) return [`parameterTier ${tier} is not supported: choose STANDARD (4 KB) or ADVANCED (8 KB)`];
  if (bytes <= limit) return [];
  const hint =
    tier === ssm.ParameterTier.STANDARD && bytes <= 8192
      ? 'set parameterTier: ssm.ParameterTier.ADVANCED (8 KB, charged per parameter), or shorten the route table'
      : 'SSM parameters hold 8 KB at most: split the API across authorizers or shorten the route table';
  return [`the authorizer configuration is ${bytes} bytes, over the ${limit}-byte limit of a ${tier} SSM parameter: ${hint}`];
}

import { readFileSync } from 'node:fs';
import { Annotations, Duration, Lazy, Size, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  type AuthorizerConfigDocument,
  DEFAULT_ROUTE_PATH,
  Enforcement,
  type HttpMethod,
  parseConfig,
  type RouteDocument,
  Unrouted,
} from '../core/config';
import { type OpenApiRoute, parseOpenApiText, readOpenApiRoutes, withScopegateAuthorizer } from '../core/openapi';
import type { ProfileName } from '../core/profiles';
import { parseRouteTemplate } from '../core/routes';
import { BEARER_VALIDATION_REGEX } from '../functions/shared/authorization';
import { noExactCachedPolicy, type ProofReport, proofErrors, proveRouteTable, tokenScopes } from '../proof/prove';
import { type CognitoUserPoolIssuer, isCognitoUserPoolIssuer, resolveIssuer } from './cognito-issuer';
import { grantIntrospectionSecrets, type ScopeIntrospection, SenderConstraint } from './introspection';
import { scopegateFunction } from './node-function';

/** A trusted issuer, as the authorizer configuration names it (see docs/configuration.md, docs/providers.md). */
export interface ScopeAuthorizerIssuer {
  /** The issuer, compared with the token's `iss` exactly. */
  readonly issuer: string;
  /**
   * The identity-provider profile: client claim, permission claims, access-token rule.
   * @default 'rfc9068'
   */
  readonly profile?: ProfileName;
  /**
   * The key set URL; usually the JWKS distribution's.
   * @default - derived from the issuer (cognito, entra) or found by OIDC discovery
   */
  readonly jwksUri?: string;
  /**
   * Key sets read when `jwksUri` is unavailable or lacks a `kid`, in order (e.g. the issuer's
   * discovery document).
   * @default - none
   */
  readonly jwksFallbackUris?: string[];
  /**
   * The token's `aud` must contain one of these (the API's identifier). Required, except with
   * the `cognito` profile, whose access tokens carry no `aud` (`clientIds` stand in).
   * @default - none: allowed with the `cognito` profile only
   */
  readonly audience?: string | string[];
  /**
   * The token's client (the profile's client claim) must be one of these.
   * @default - any client
   */
  readonly clientIds?: string[];
  /**
   * Claims naming the client, first present wins.
   * @default - the profile's
   */
  readonly clientClaim?: string | string[];
  /**
   * Accepted JOSE `alg` values.
   * @default - every supported algorithm (RS256/384/512, ES256/384/512, EdDSA)
   */
  readonly algorithms?: string[];
  /**
   * Required JOSE `typ` (e.g. `at+jwt`, RFC 9068).
   * @default - any
   */
  readonly tokenType?: string;
  /**
   * Claims that grant scopes, in order: the first one the token carries grants its values,
   * the others are ignored (never a union).
   * @default - the profile's
   */
  readonly scopeClaim?: string | string[];
  /**
   * RFC 7662 introspection of this issuer's opaque tokens; the function is granted its secrets' parameters.
   * @default - none: JWTs only
   */
  readonly introspection?: ScopeIntrospection;
  /**
   * Whether tokens must be sender-constrained (`REQUIRED` needs `mode: AuthorizerMode.REQUEST` or an HTTP API).
   * @default SenderConstraint.OPTIONAL
   */
  readonly senderConstraint?: SenderConstraint;
}

export type { ScopeIntrospection };
export { Enforcement, SenderConstraint, Unrouted };

/** The source of a route whose method this construct created (so API Gateway's resources are the table's). */
const CREATED = 'created';

/** What kind of API Gateway authorizer guards a REST API (HTTP APIs always get a payload 2.0 Lambda authorizer). */
export enum AuthorizerMode {
  /** A TOKEN authorizer on the Authorization header, with the Bearer regex; answers cached by token. */
  TOKEN = 'token',
  /**
   * A REQUEST authorizer, which sees the method, the URL, the `DPoP` header and a mutual-TLS
   * client certificate, for sender-constrained tokens (RFC 8705, RFC 9449); nothing cached.
   */
  REQUEST = 'request',
}

/** The gateway responses the construct puts on every REST API it guards. */
export interface ScopeGatewayResponseOptions {
  /**
   * `Access-Control-Allow-Origin` on scopegate's 401, 403 and 5xx answers (with
   * `Access-Control-Expose-Headers: WWW-Authenticate, Retry-After`), so that a browser
   * application can read them. An origin such as `https://app.example.com`, or `*`.
   * @default - no CORS headers
   */
  readonly corsAllowOrigin?: string;
  /**
   * `Retry-After` of the 503 answered when the function fails (signing keys or
   * configuration unavailable).
   * @default Duration.seconds(5)
   */
  readonly retryAfter?: Duration;
}

/** Properties of {@link ScopeAuthorizer}. */
export interface ScopeAuthorizerProps {
  /** Trusted issuers: configuration entries, or Cognito user pools with their app clients. */
  readonly issuers: (ScopeAuthorizerIssuer | CognitoUserPoolIssuer)[];
  /**
   * API Gateway's cache of the authorizer's answer. At most 3600 s. Forced to 0 while any
   * route is report-only, so that every request is decided and logged.
   * @default Duration.seconds(300)
   */
  readonly cacheTtl?: Duration;
  /**
   * Leeway for `exp`, `nbf`, `iat` (whole seconds).
   * @default Duration.seconds(30)
   */
  readonly clockTolerance?: Duration;
  /**
   * Name of the SSM parameter that holds the configuration.
   * @default - generated
   */
  readonly parameterName?: string;
  /**
   * Memory of the function (whole mebibytes; see docs/performance.md for the measurement).
   * @default Size.mebibytes(256)
   */
  readonly memorySize?: Size;
  /**
   * `TOKEN`: a REST TOKEN authorizer on the Authorization header, with the Bearer regex.
   * `REQUEST`: a REST REQUEST authorizer, which sees the method, the URL, the `DPoP` header
   * and a mutual-TLS client certificate, for sender-constrained tokens (RFC 8705, RFC 9449).
   * Its identity source is the Authorization header only (API Gateway answers 401 without
   * calling the authorizer when an identity source is missing, so a `DPoP` source would shut
   * out plain Bearer requests), and nothing is cached (`cacheTtl` must be 0 or unset; HTTP
   * APIs too): a DPoP proof is bound to one request, and no cached answer may outlive that
   * binding. HTTP APIs always get a payload 2.0 Lambda authorizer.
   * @default AuthorizerMode.TOKEN
   */
  readonly mode?: AuthorizerMode;
  /**
   * The mode of every route that does not set its own (see {@link Enforcement}).
   * @default Enforcement.ENFORCE
   */
  readonly enforcement?: Enforcement;
  /**
   * The contract's gateway responses (401 and 403 with `WWW-Authenticate`, 503 with
   * `Retry-After`), applied once on each REST API the authorizer guards; `false` leaves
   * them to you.
   * @default - applied, without CORS headers
   */
  readonly gatewayResponses?: ScopeGatewayResponseOptions | false;
  /**
   * Tier of the configuration parameter: Standard holds 4 KB, Advanced 8 KB (and is
   * charged). Synth fails when the configuration does not fit.
   * @default ssm.ParameterTier.STANDARD
   */
  readonly parameterTier?: ssm.ParameterTier;
  /**
   * X-Ray active tracing of the function.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Whether a request no route of the table matches can reach the authorizer (and so a policy
   * API Gateway cached for its token). `UNREACHABLE` when API Gateway's resources are exactly
   * the route table: the construct created every method itself (`addMethod`, `specRestApi`,
   * `addHttpRoutes`). `DENY` otherwise (routes declared with `addRoutes` or
   * `addRoutesFromOpenApi` for an imported API, which may have other resources): every
   * policy then denies such requests, which some route tables cannot have cached exactly
   * (the construct then deploys the authorizer uncached, with a warning).
   * @default - UNREACHABLE when every route was created by this construct, else DENY
   */
  readonly unrouted?: Unrouted;
  /**
   * Cap on the whole Authorization value (the configuration's `maxTokenBytes`), checked before
   * parsing: 256 bytes to 64 KiB.
   * @default Size.bytes(8192)
   */
  readonly maxTokenSize?: Size;
  /**
   * Smallest RSA modulus accepted, in bits (the configuration's `minRsaBits`): 2048 to 16384.
   * @default 2048
   */
  readonly minRsaBits?: number;
  /**
   * Bounds of the function's key set fetches (the configuration's `jwks.*`).
   * @default - the configuration's defaults
   */
  readonly jwks?: ScopeJwksOptions;
  /**
   * How long the function keeps the configuration it read from SSM before reading it again
   * (`AUTHZ_CONFIG_TTL_SECONDS`): how long a deployed route table change takes to reach a warm
   * function. Whole seconds, 1 s to 1 h.
   * @default Duration.minutes(5)
   */
  readonly configurationMaxAge?: Duration;
}

/** Bounds of the authorizer's key set fetches (the configuration's `jwks.*`, docs/configuration.md "Keys"). */
export interface ScopeJwksOptions {
  /**
   * Cap on a key set body (`jwks.maxBytes`): 1 KiB to 1 MiB.
   * @default Size.kibibytes(64)
   */
  readonly maxSize?: Size;
  /**
   * Deadline of one key set fetch (`jwks.timeoutMs`, whole milliseconds): 100 ms to 9 s.
   * @default Duration.millis(2500)
   */
  readonly timeout?: Duration;
  /**
   * At most one unknown-`kid` refetch per key set in this interval (`jwks.minRefetchIntervalSeconds`).
   * @default Duration.seconds(10)
   */
  readonly minRefetchInterval?: Duration;
  /**
   * Held keys are refreshed after this (`jwks.maxAgeSeconds`), kept if the refresh fails.
   * @default Duration.hours(1)
   */
  readonly maxAge?: Duration;
}

/** Largest value of an SSM String parameter, in bytes, per tier. */
export const SSM_PARAMETER_LIMIT_BYTES: Record<string, number> = {
  [ssm.ParameterTier.STANDARD]: 4096,
  [ssm.ParameterTier.ADVANCED]: 8192,
};

/** What a route requires of a token. */
export interface ScopeRequirement {
  /**
   * All of these are required. Give `scopes` or `anyOf`.
   * @default - none: any valid token of a trusted issuer
   */
  readonly scopes?: string[];
  /**
   * Alternatives: any one set, all of its scopes (OpenAPI's list of security requirements).
   * Takes the place of `scopes` when given.
   * @default - `scopes`
   */
  readonly anyOf?: string[][];
  /**
   * RFC 9470 step-up: authentication no older than this (whole seconds; the configuration's
   * `maxAuthAgeSeconds`).
   * @default - no step-up
   */
  readonly maxAuthAge?: Duration;
  /**
   * This route's mode.
   * @default - the authorizer's `enforcement`
   */
  readonly enforcement?: Enforcement;
  /**
   * Where no exact cached policy exists for a token (`scopegate verify` names the cases), let
   * its cached policy deny this route's requests, and the decision deny them too (reason
   * `over_deny`), instead of deploying the authorizer uncached.
   * @default false
   */
  readonly acceptOverDeny?: boolean;
}

/** What {@link ScopeAuthorizer.addMethod} records besides the API Gateway method. */
export interface ScopedMethodOptions extends ScopeRequirement {
  /**
   * Anything else of the method (request validator, method responses…).
   * @default - none
   */
  readonly methodOptions?: Omit<apigw.MethodOptions, 'authorizer' | 'authorizationType'>;
}

/** A route declared for methods the construct does not create (an imported API's). */
export interface ScopedRoute extends ScopeRequirement {
  /** An HTTP method, `ANY` or `*`. */
  readonly method: string;
  /** The API Gateway resource path, e.g. `/telemetry/{sensorId}`. */
  readonly path: string;
}

/** Options of {@link ScopeAuthorizer.addHttpRoutes}. */
export interface ScopedHttpRouteOptions extends ScopeRequirement {
  /** The route path, e.g. `/telemetry/{sensorId}`. */
  readonly path: string;
  /**
   * The methods of the route.
   * @default [HttpMethod.ANY]
   */
  readonly methods?: apigwv2.HttpMethod[];
  /** Where the route's requests go. */
  readonly integration: apigwv2.HttpRouteIntegration;
}

/** Properties of {@link ScopeAuthorizer.specRestApi}: a `SpecRestApi`'s, with the document instead of `apiDefinition`. */
export interface ScopedSpecRestApiProps extends Omit<apigw.SpecRestApiProps, 'apiDefinition'> {
  /** The OpenAPI 3 document: the parsed object, or the path of a YAML or JSON file. */
  readonly document: string | Record<string, unknown>;
}

/** Options of {@link ScopeAuthorizer.deploy}. */
export interface ScopedDeploymentOptions {
  /** The stage to deploy to (created when it does not exist). */
  readonly stageName: string;
  /**
   * The deployment's description.
   * @default 'scopegate: methods guarded by the scope authorizer'
   */
  readonly description?: string;
}

/** A row of the route table, as the configuration holds it. */
export type RouteRow = RouteDocument;

export { BEARER_VALIDATION_REGEX };

/** The REST authorizer's identity source, in either mode. */
const AUTHORIZATION_IDENTITY_SOURCE = 'method.request.header.Authorization';

/** HTTP API identity sources: the route key keeps one route's cached answer off every other route. */
export const HTTP_API_IDENTITY_SOURCES = ['$request.header.Authorization', '$context.routeKey'];

interface GatewayResponseSpec {
  id: string;
  type: apigw.ResponseType;
  statusCode: string;
  headers: Record<string, string>;
}

type GuardedApi = { kind: 'rest'; api: apigw.IRestApi } | { kind: 'http'; api: apigwv2.IHttpApi };

/**
 * The scopegate Lambda authorizer: the function, its configuration in an SSM parameter,
 * and, for the API it guards, the API Gateway authorizer, its invoke permission and the
 * contract's gateway responses. One ScopeAuthorizer guards one API (its route table is that
 * API's): a `RestApi` of this stack or another stack of the app ({@link addMethod}), an
 * imported REST API ({@link addMethod} on imported resources, {@link addRoutes},
 * {@link deploy}), an OpenAPI document ({@link specRestApi}) or an HTTP API
 * ({@link addHttpRoutes}). The route table is generated from what is attached, so the
 * scopes enforced cannot drift from the routes deployed.
 */
export class ScopeAuthorizer extends Construct {
  /** The authorizer function. */
  readonly function: lambda.IFunction;
  /** The function's timeout (alarms tell a timed-out invocation by it). */
  readonly timeout: Duration;
  /** The SSM parameter that holds the configuration. */
  readonly parameter: ssm.IStringParameter;
  /** The function's log group: one JSON line per decision (docs/decisions.md). */
  readonly logGroup: logs.ILogGroup;
  private readonly routes: (RouteRow & { source: string })[] = [];
  private readonly props: ScopeAuthorizerProps;
  private readonly requestedCacheTtlSeconds: number;
  private guarded: GuardedApi | undefined;
  /** The policy proofs of the route table, by setting (see {@link proof}). */
  private readonly proofs = new Map<string, ProofReport | undefined>();
  private restAuthorizer: apigw.IAuthorizer | undefined;
  private httpAuthorizer: HttpLambdaAuthorizer | undefined;
  private readonly deployments: apigw.Deployment[] = [];
  private readonly methods: apigw.Method[] = [];

  constructor(scope: Construct, id: string, props: ScopeAuthorizerProps) {
    super(scope, id);
    this.props = props;
    if (props.mode === AuthorizerMode.REQUEST && props.cacheTtl !== undefined && props.cacheTtl.toSeconds() > 0) {
      throw new Error(
        `mode 'request' caches nothing (a DPoP proof is bound to one request); cacheTtl must be 0, not ${props.cacheTtl.toSeconds()} s`,
      );
    }
    this.requestedCacheTtlSeconds = props.mode === AuthorizerMode.REQUEST ? 0 : (props.cacheTtl ?? Duration.seconds(300)).toSeconds();
    if (this.requestedCacheTtlSeconds > 3600)
      throw new Error(`cacheTtl is ${this.requestedCacheTtlSeconds} s; API Gateway caches authorizer results for 3600 s at most`);
    const configurationMaxAgeSeconds = (props.configurationMaxAge ?? Duration.minutes(5)).toSeconds();
    if (configurationMaxAgeSeconds < 1 || configurationMaxAgeSeconds > 3600)
      throw new Error(`configurationMaxAge is ${configurationMaxAgeSeconds} s; it must be from 1 s to 1 h`);
    const parameter = new ssm.StringParameter(this, 'Config', {
      parameterName: props.parameterName,
      description: 'scopegate authorizer configuration (generated from the API definition)',
      stringValue: Lazy.string({ produce: () => JSON.stringify(this.configuration()) }),
      // Chosen, not Intelligent-Tiering: that silently turns a grown configuration into a
      // paid Advanced parameter, which cannot be turned back into a Standard one.
      tier: props.parameterTier ?? ssm.ParameterTier.STANDARD,
    });
    this.parameter = parameter;
    this.timeout = Duration.seconds(10);
    const fn = scopegateFunction(this, 'Function', {
      bundle: 'authorizer',
      description: 'scopegate OAuth 2.0 scope authorizer',
      memorySize: props.memorySize ?? Size.mebibytes(256),
      timeout: this.timeout,
      environment: { AUTHZ_CONFIG_PARAMETER: parameter.parameterName, AUTHZ_CONFIG_TTL_SECONDS: String(configurationMaxAgeSeconds) },
      tracing: props.tracing,
      // Measured (docs/performance.md, "The 401 path"): the map costs every cold start ~10 ms
      // to read, and the stacks it would decode add nothing to the decision's log line.
      sourceMapsAtRunTime: false,
    });
    this.function = fn;
    this.logGroup = fn.logGroup;
    parameter.grantRead(this.function);
    grantIntrospectionSecrets(
      this,
      this.function,
      props.issuers.flatMap((issuer) => (!isCognitoUserPoolIssuer(issuer) && issuer.introspection ? [issuer.introspection] : [])),
    );
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** The REST API Gateway authorizer, once a REST API is guarded (attach it to other methods at your own risk). */
  get authorizer(): apigw.IAuthorizer | undefined {
    return this.restAuthorizer;
  }

  /**
   * The authorizer cache TTL in effect, in seconds: the requested one, or 0 while any route
   * is report-only (a cached policy would hide later requests from the decision log).
   */
  get cacheTtlSeconds(): number {
    if (this.routes.some((r) => this.enforcementOf(r) === Enforcement.REPORT_ONLY)) return 0;
    return this.noExactPolicy() === undefined ? this.requestedCacheTtlSeconds : 0;
  }

  /** Whether requests no route matches can reach the authorizer (see {@link ScopeAuthorizerProps.unrouted}). */
  get unrouted(): Unrouted {
    if (this.props.unrouted !== undefined) return this.props.unrouted;
    return this.routes.length > 0 && this.routes.every((r) => r.source === CREATED) ? Unrouted.UNREACHABLE : Unrouted.DENY;
  }

  /**
   * Why no exact cached policy exists for some token of this route table (a witness from
   * the proof), or `undefined` when every route set the proof checked has one, the requested
   * TTL is 0, or the API is an HTTP API (whose answers are per route).
   */
  private noExactPolicy(): string | undefined {
    if (this.requestedCacheTtlSeconds === 0 || this.guarded?.kind === 'http') return undefined;
    const report = this.proof(this.requestedCacheTtlSeconds);
    const found = report && noExactCachedPolicy(report);
    return found && `no exact cached policy exists for a token with ${tokenScopes(found.case.token)} (${found.witness.detail})`;
  }

  /**
   * The proof of the route table's policies (docs/proof.md) at a cache TTL, uncached when it
   * is 0, memoized per table and setting; `undefined` when the table is invalid (validate()
   * reports that).
   */
  private proof(ttlSeconds: number): ProofReport | undefined {
    const key = `${this.routes.length}|${this.unrouted}|${ttlSeconds}`;
    if (this.proofs.has(key)) return this.proofs.get(key);
    let report: ProofReport | undefined;
    try {
      const routes = this.routeTable()
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
      report = proveRouteTable(routes, { policyCacheTtlSeconds: ttlSeconds, unrouted: this.unrouted, uncached: ttlSeconds === 0 });
    } catch {
      report = undefined;
    }
    this.proofs.set(key, report);
    return report;
  }

  /**
   * Add a method to `resource`, guarded by this authorizer, and record its scopes. The
   * resource may belong to a `RestApi` of another stack of the app (the API Gateway
   * authorizer and its invoke permission are created in the API's stack, so no reference
   * cycle forms) or to an imported API (`Resource.fromResourceAttributes` for resources that
   * exist; then {@link deploy}).
   */
  addMethod(resource: apigw.IResource, httpMethod: string, integration: apigw.Integration, options: ScopedMethodOptions): apigw.Method {
    const authorizer = this.restAuthorizerFor(resource.api);
    const method = resource.addMethod(httpMethod, integration, {
      ...options.methodOptions,
      authorizer,
      authorizationType: apigw.AuthorizationType.CUSTOM,
    });
    this.record(httpMethod, resource.path, options, CREATED);
    this.methods.push(method);
    for (const deployment of this.deployments) deployment.node.addDependency(method);
    return method;
  }

  /**
   * Declare routes whose methods the construct does not create: those of an imported API
   * that already exist (attach this authorizer to them where they are defined). Every route
   * of the API belongs in the table; a request no route matches is denied.
   */
  addRoutes(routes: ScopedRoute[]): void {
    for (const route of routes) this.record(route.method, route.path, route, 'addRoutes');
  }

  /**
   * Declare the routes of an OpenAPI 3 document (an object, or a YAML or JSON file), e.g. the
   * export of an imported API (`aws apigateway get-export --export-type oas30`), read as
   * {@link readOpenApiRoutes} reads them. Public operations (`security: []`) are recorded
   * with no scopes.
   */
  addRoutesFromOpenApi(document: string | Record<string, unknown>): OpenApiRoute[] {
    const routes = readOpenApiRoutes(loadDocument(document));
    for (const route of routes) this.record(route.method, route.path, route, 'openapi');
    return routes;
  }

  /**
   * A `SpecRestApi` whose route table and scopes are read from the OpenAPI document's
   * `security` requirements, and whose document gets the scopegate authorizer
   * (`x-amazon-apigateway-authorizer` under `components.securitySchemes`, each secured
   * operation's `security` pointing at it): the deployed API and the scope table come from
   * one source. What the document says that scopegate cannot enforce fails here, naming
   * the method and path.
   */
  specRestApi(scope: Construct, id: string, props: ScopedSpecRestApiProps): apigw.SpecRestApi {
    const { document, ...apiProps } = props;
    const original = loadDocument(document);
    const routes = readOpenApiRoutes(original);
    const mode = this.props.mode ?? AuthorizerMode.TOKEN;
    const body = withScopegateAuthorizer(original, {
      type: mode,
      authorizerUri: this.invokeUri(this.function),
      authorizerResultTtlInSeconds: Lazy.uncachedNumber({ produce: () => this.cacheTtlSeconds }) as number,
      ...(mode === AuthorizerMode.TOKEN
        ? { identityValidationExpression: BEARER_VALIDATION_REGEX }
        : { identitySource: AUTHORIZATION_IDENTITY_SOURCE }),
    });
    this.gatewayResponsesInDocument(body);
    const api = new apigw.SpecRestApi(scope, id, { ...apiProps, apiDefinition: apigw.ApiDefinition.fromInline(body) });
    this.bind({ kind: 'rest', api });
    const guard = this.guardScope(api);
    this.handlerIn(guard).addPermission('InvokePermission', {
      scope: guard,
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: Stack.of(api).formatArn({ service: 'execute-api', resource: api.restApiId, resourceName: 'authorizers/*' }),
    });
    api.latestDeployment?.addToLogicalId({ scopegateDocument: body });
    for (const route of routes) this.record(route.method, route.path, route, CREATED);
    return api;
  }

  /**
   * Deploy an imported REST API (which has no deployment of its own in this app) to a stage,
   * after the methods and gateway responses added here. A new deployment (a new logical id)
   * whenever what the stage serves changes: the methods added here, the authorizer (cache
   * TTL, mode, identity source, Bearer regex) and the gateway responses; never for a change
   * of scopes alone, which live in the SSM parameter and need no deployment (a deployment
   * would also publish whatever the API's owner has pending).
   */
  deploy(api: apigw.IRestApi, options: ScopedDeploymentOptions): apigw.Deployment {
    this.bind({ kind: 'rest', api });
    const guard = this.guardScope(api);
    const deployment = new apigw.Deployment(guard, `Deployment-${options.stageName}`, {
      api,
      stageName: options.stageName,
      description: options.description ?? 'scopegate: methods guarded by the scope authorizer',
    });
    // Produced at synth, when every method is added and the cache TTL is known.
    deployment.addToLogicalId(Lazy.uncachedAny({ produce: () => this.deployedFingerprint() }));
    for (const child of guard.node.children) if (child instanceof apigw.GatewayResponse) deployment.node.addDependency(child);
    for (const method of this.methods) deployment.node.addDependency(method);
    this.deployments.push(deployment);
    return deployment;
  }

  /**
   * Add routes to an HTTP API (an `HttpApi`, or one imported with
   * `HttpApi.fromHttpApiAttributes`), guarded by a payload 2.0 Lambda authorizer with simple
   * responses, and record their scopes. The authorizer's identity sources are the
   * Authorization header and `$context.routeKey`, so a cached answer is only reused on the
   * route it was given for.
   */
  addHttpRoutes(api: apigwv2.IHttpApi, options: ScopedHttpRouteOptions): apigwv2.HttpRoute[] {
    this.bind({ kind: 'http', api });
    if (!this.httpAuthorizer) {
      this.httpAuthorizer = new HttpLambdaAuthorizer('ScopegateAuthorizer', this.function, {
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        identitySource: HTTP_API_IDENTITY_SOURCES,
        resultsCacheTtl: Duration.seconds(Lazy.uncachedNumber({ produce: () => this.cacheTtlSeconds }) as number),
      });
    }
    const methods = options.methods ?? [apigwv2.HttpMethod.ANY];
    for (const method of methods) this.record(method, options.path, options, CREATED);
    // As HttpApi.addRoutes makes them (same scope and ids), which an imported IHttpApi lacks.
    // An imported API's stage publishes them only if it deploys automatically (autoDeploy).
    return methods.map(
      (method) =>
        new apigwv2.HttpRoute(api, `${method}${options.path}`, {
          httpApi: api,
          routeKey: apigwv2.HttpRouteKey.with(options.path, method),
          integration: options.integration,
          authorizer: this.httpAuthorizer,
        }),
    );
  }

  /**
   * The route table, finalized: every route attached or declared, checked. This is the one
   * place the table is produced (the configuration, validation and proofs read it here).
   */
  routeTable(): RouteRow[] {
    return this.routes.map(({ source: _source, ...row }) => row);
  }

  /** The configuration the function reads (the SSM parameter's JSON document). */
  configuration(): AuthorizerConfigDocument {
    const config: AuthorizerConfigDocument = {
      issuers: this.props.issuers.map(resolveIssuer),
      routes: this.routeTable(),
      clockToleranceSeconds: (this.props.clockTolerance ?? Duration.seconds(30)).toSeconds(),
      policyCacheTtlSeconds: this.cacheTtlSeconds,
      unrouted: this.unrouted,
    };
    if (this.props.enforcement === Enforcement.REPORT_ONLY) config.enforcement = Enforcement.REPORT_ONLY;
    if (this.props.maxTokenSize !== undefined) config.maxTokenBytes = this.props.maxTokenSize.toBytes();
    if (this.props.minRsaBits !== undefined) config.minRsaBits = this.props.minRsaBits;
    const jwks = jwksDocument(this.props.jwks);
    if (jwks !== undefined) config.jwks = jwks;
    return config;
  }

  /**
   * The configuration's size against its parameter tier. Deploy-time URLs (the
   * distribution's domain) are measured with a stand-in as long as the longest CloudFront
   * domain, so the check never passes at synth what fails at deploy.
   */
  configurationBytes(): number {
    const config = this.configuration();
    const standIn = (uri: string) =>
      Token.isUnresolved(uri) ? `https://${'d'.repeat(14)}.cloudfront.net/${'x'.repeat(40)}/jwks.json` : uri;
    // A user pool's issuer and client ids resolve at deploy time too: measure them at their longest.
    const long = (value: string, length: number) => (Token.isUnresolved(value) ? 'x'.repeat(length) : value);
    config.issuers = this.props.issuers.map(resolveIssuer).map((i) => ({
      ...i,
      issuer: long(i.issuer, 80),
      ...(i.jwksUri !== undefined ? { jwksUri: standIn(i.jwksUri) } : {}),
      jwksFallbackUris: i.jwksFallbackUris?.map(standIn),
      clientIds: i.clientIds?.map((c) => long(c, 128)),
    }));
    return Buffer.byteLength(JSON.stringify(config), 'utf8');
  }

  private sizeErrors(): string[] {
    const tier = this.props.parameterTier ?? ssm.ParameterTier.STANDARD;
    const limit = SSM_PARAMETER_LIMIT_BYTES[tier];
    if (limit === undefined) return [`parameterTier ${tier} is not supported: choose STANDARD (4 KB) or ADVANCED (8 KB)`];
    const bytes = this.configurationBytes();
    if (bytes <= limit) return [];
    const hint =
      tier === ssm.ParameterTier.STANDARD && bytes <= 8192
        ? 'set parameterTier: ssm.ParameterTier.ADVANCED (8 KB, charged per parameter), or shorten the route table'
        : 'SSM parameters hold 8 KB at most: split the API across authorizers or shorten the route table';
    return [`the authorizer configuration is ${bytes} bytes, over the ${limit}-byte limit of a ${tier} SSM parameter: ${hint}`];
  }

  private record(httpMethod: string, path: string, requirement: ScopeRequirement, source: string): RouteRow {
    const upper = httpMethod.toUpperCase();
    const row: RouteRow = { method: upper === 'ANY' ? '*' : upper, path };
    if (requirement.anyOf !== undefined && requirement.anyOf.length > 0) row.anyOf = requirement.anyOf.map((set) => [...set]);
    else row.scopes = [...(requirement.scopes ?? [])];
    if (requirement.maxAuthAge !== undefined) row.maxAuthAgeSeconds = requirement.maxAuthAge.toSeconds();
    if (requirement.enforcement !== undefined && requirement.enforcement !== (this.props.enforcement ?? Enforcement.ENFORCE))
      row.enforcement = requirement.enforcement;
    if (requirement.acceptOverDeny === true) row.acceptOverDeny = true;
    this.routes.push({ ...row, source });
    return row;
  }

  private enforcementOf(route: RouteRow): Enforcement {
    return route.enforcement ?? this.props.enforcement ?? Enforcement.ENFORCE;
  }

  /** One API per authorizer: its route table is that API's, and the policy answers for the whole API. */
  private bind(target: GuardedApi): void {
    if (this.guarded === undefined) {
      this.guarded = target;
      return;
    }
    if (this.guarded.api !== target.api) {
      throw new Error(
        `${this.node.path} already guards ${this.guarded.api.node.path}; create one ScopeAuthorizer per API (the route table is the API's)`,
      );
    }
  }

  /** Where the per-API pieces live: under the API, in the API's stack, so no cross-stack cycle forms. */
  private guardScope(api: apigw.IRestApi | apigwv2.IHttpApi): Construct {
    return (api.node.tryFindChild('Scopegate') as Construct | undefined) ?? new Construct(api, 'Scopegate');
  }

  /**
   * The function as the API's stack sees it. From another stack, a reference by ARN whose
   * permissions are created in that stack (the function's own stack would otherwise need the
   * API's authorizer id while the API needs the function's ARN: a cycle).
   */
  private handlerIn(scope: Construct): lambda.IFunction {
    if (Stack.of(scope) === Stack.of(this.function)) return this.function;
    return (
      (scope.node.tryFindChild('AuthorizerFunction') as lambda.IFunction | undefined) ??
      lambda.Function.fromFunctionAttributes(scope, 'AuthorizerFunction', { functionArn: this.function.functionArn, sameEnvironment: true })
    );
  }

  private restAuthorizerFor(api: apigw.IRestApi): apigw.IAuthorizer {
    this.bind({ kind: 'rest', api });
    if (this.restAuthorizer) return this.restAuthorizer;
    const guard = this.guardScope(api);
    const handler = this.handlerIn(guard);
    const ttl = Duration.seconds(Lazy.uncachedNumber({ produce: () => this.cacheTtlSeconds }) as number);
    const authorizer =
      this.props.mode === AuthorizerMode.REQUEST
        ? new apigw.RequestAuthorizer(guard, 'Authorizer', {
            handler,
            identitySources: [apigw.IdentitySource.header('Authorization')],
            resultsCacheTtl: ttl,
          })
        : new apigw.TokenAuthorizer(guard, 'Authorizer', {
            handler,
            identitySource: apigw.IdentitySource.header('Authorization'),
            validationRegex: BEARER_VALIDATION_REGEX,
            resultsCacheTtl: ttl,
          });
    // The URI from the partition and region the function is deployed to, never split out of its
    // ARN as TokenAuthorizer does: from another stack the ARN is a cross-stack reference
    // (Fn::GetStackOutput with weak references), which Fn::Split does not take (cfn-lint E1022).
    (authorizer.node.defaultChild as apigw.CfnAuthorizer).authorizerUri = this.invokeUri(handler);
    this.restAuthorizer = authorizer;
    // A changed authorizer reaches the live stage only through a new deployment. aws-cdk-lib
    // adds the authorizer to the deployment's logical id only under the feature flag
    // @aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId (aws-cdk#16554); the user's
    // app may not set it, so the construct adds what the stage depends on itself, as
    // resolved at synth (the cache TTL is computed late).
    api.latestDeployment?.addToLogicalId(Lazy.uncachedAny({ produce: () => ({ scopegateAuthorizer: this.authorizerFingerprint() }) }));
    this.gatewayResponses(api, guard);
    return authorizer;
  }

  /**
   * The authorizer as API Gateway holds it, what a deployment of the stage depends on: its
   * type, identity source, Bearer regex and cache TTL (the value in effect at synth: 0 while a
   * route is report-only).
   */
  private authorizerFingerprint(): Record<string, unknown> {
    const mode = this.props.mode ?? AuthorizerMode.TOKEN;
    return {
      mode,
      identitySource: AUTHORIZATION_IDENTITY_SOURCE,
      validationRegex: mode === AuthorizerMode.TOKEN ? BEARER_VALIDATION_REGEX : null,
      resultsCacheTtlSeconds: this.cacheTtlSeconds,
    };
  }

  /**
   * What a stage of an imported API serves from this construct: the methods added here (each
   * as its CloudFormation resource says), the authorizer and the gateway responses. The route
   * table's scopes are not in it: the function reads them from SSM.
   */
  private deployedFingerprint(): Record<string, unknown> {
    if (this.restAuthorizer === undefined) return { scopegateMethods: [] };
    return {
      scopegateMethods: this.methods.map(methodFingerprint),
      scopegateAuthorizer: this.authorizerFingerprint(),
      scopegateGatewayResponses: this.gatewayResponseSpecs().map(({ type, statusCode, headers }) => ({
        type: type.responseType,
        statusCode,
        headers,
      })),
    };
  }

  /** The Lambda invocation URI API Gateway calls `handler` by: the function's partition and region, and its ARN as given. */
  private invokeUri(handler: lambda.IFunction): string {
    const home = Stack.of(this.function);
    return `arn:${home.partition}:apigateway:${home.region}:lambda:path/2015-03-31/functions/${handler.functionArn}/invocations`;
  }

  /**
   * The contract's answers, once per REST API. API Gateway answers a missing token, a value
   * the Bearer regex refuses and the function's `Unauthorized` alike (UNAUTHORIZED, static
   * headers), and reports any other function error, a missing invoke permission and a
   * malformed answer alike (AUTHORIZER_CONFIGURATION_ERROR): see docs/attaching.md.
   */
  private gatewayResponseSpecs(): GatewayResponseSpec[] {
    const options = this.props.gatewayResponses;
    if (options === false) return [];
    const cors: Record<string, string> = options?.corsAllowOrigin
      ? {
          'Access-Control-Allow-Origin': `'${options.corsAllowOrigin}'`,
          'Access-Control-Expose-Headers': `'WWW-Authenticate,Retry-After'`,
        }
      : {};
    const retryAfter = `'${(options?.retryAfter ?? Duration.seconds(5)).toSeconds()}'`;
    const specs: GatewayResponseSpec[] = [
      {
        id: 'Unauthorized',
        type: apigw.ResponseType.UNAUTHORIZED,
        statusCode: '401',
        headers: { 'WWW-Authenticate': `'Bearer error="invalid_token"'` },
      },
      {
        id: 'AccessDenied',
        type: apigw.ResponseType.ACCESS_DENIED,
        statusCode: '403',
        headers: { 'WWW-Authenticate': `'Bearer error="insufficient_scope"'` },
      },
      {
        id: 'AuthorizerConfigurationError',
        type: apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
        statusCode: '503',
        headers: { 'Retry-After': retryAfter },
      },
      { id: 'AuthorizerFailure', type: apigw.ResponseType.AUTHORIZER_FAILURE, statusCode: '500', headers: {} },
    ];
    return specs.map((spec) => ({ ...spec, headers: { ...spec.headers, ...cors } }));
  }

  /** The gateway responses as resources of the API (a RestApi's, or an imported one's). */
  private gatewayResponses(api: apigw.IRestApi, guard: Construct): void {
    const deployment = api.latestDeployment;
    for (const { id, type, statusCode, headers } of this.gatewayResponseSpecs()) {
      const response = new apigw.GatewayResponse(guard, id, { restApi: api, type, statusCode, responseHeaders: headers });
      deployment?.node.addDependency(response);
      for (const made of this.deployments) made.node.addDependency(response);
      deployment?.addToLogicalId({ scopegateGatewayResponse: { type: type.responseType, statusCode, headers } });
    }
  }

  /**
   * The gateway responses inside an OpenAPI document (`x-amazon-apigateway-gateway-responses`):
   * a `SpecRestApi` is imported in overwrite mode, which would drop responses defined beside it.
   */
  private gatewayResponsesInDocument(document: Record<string, unknown>): void {
    const specs = this.gatewayResponseSpecs();
    if (specs.length === 0) return;
    const key = 'x-amazon-apigateway-gateway-responses';
    const existing = (document[key] ?? {}) as Record<string, unknown>;
    document[key] = {
      ...existing,
      ...Object.fromEntries(
        specs.map(({ type, statusCode, headers }) => [
          type.responseType,
          {
            statusCode,
            responseParameters: Object.fromEntries(
              Object.entries(headers).map(([name, value]) => [`gatewayresponse.header.${name}`, value]),
            ),
          },
        ]),
      ),
    };
  }

  /**
   * Every warning the authorizer would log at load, shown at synth too. Warnings about the
   * stand-ins for deploy-time values say nothing about the deployed configuration.
   */
  private annotateConfigWarnings(warnings: readonly string[]): void {
    for (const warning of warnings) {
      if (!warning.includes('deploy-time.invalid')) Annotations.of(this).addWarningV2(configWarningId(warning), warning);
    }
  }

  private validate(): string[] {
    const ttl = this.cacheTtlSeconds;
    const errors: string[] = [];
    try {
      // Deploy-time values (the distribution's domain) cannot be checked here: stand in for them.
      const config = this.configuration();
      config.issuers = this.props.issuers.map(resolveIssuer).map((i, n) => ({
        ...i,
        issuer: Token.isUnresolved(i.issuer) ? `https://deploy-time.invalid/issuer/${n}` : i.issuer,
        ...(i.jwksUri !== undefined && Token.isUnresolved(i.jwksUri) ? { jwksUri: 'https://deploy-time.invalid/jwks.json' } : {}),
        jwksFallbackUris: i.jwksFallbackUris?.map((u) => (Token.isUnresolved(u) ? 'https://deploy-time.invalid/fallback.json' : u)),
      }));
      this.annotateConfigWarnings(parseConfig(config).warnings);
    } catch (error) {
      return [`invalid authorizer configuration: ${(error as Error).message}`];
    }
    for (const r of this.routes) {
      if (r.maxAuthAgeSeconds !== undefined && r.maxAuthAgeSeconds <= ttl)
        errors.push(
          `${r.method} ${r.path}: maxAuthAgeSeconds (${r.maxAuthAgeSeconds}) must exceed the authorizer cache TTL (${ttl} s), ` +
            'or a cached Allow could outlive it and the route is never allowed',
        );
    }
    errors.push(...this.sizeErrors());
    // The policies of this route table, proven exact over every request (docs/proof.md).
    // HTTP API events get single-request policies, which the proof does not concern.
    const report = this.guarded?.kind === 'http' ? undefined : this.proof(ttl);
    if (report) errors.push(...proofErrors(report));
    if (report && !report.exhaustive) {
      Annotations.of(this).addWarningV2(
        'scopegate:proofPartial',
        `the policy proof did not check every set of routes a token can satisfy (${report.coverage}); ` +
          'no failure was found in those it checked. Run "scopegate verify" on the configuration for the details (docs/proof.md)',
      );
    }
    const uncached = this.noExactPolicy();
    if (uncached !== undefined) {
      Annotations.of(this).addWarningV2(
        'scopegate:uncached',
        `deployed with authorizer cache TTL 0 instead of ${this.requestedCacheTtlSeconds} s: ${uncached}. ` +
          'A cached policy must be exact or absent (docs/proof.md): set unrouted to UNREACHABLE if API Gateway has no resource beyond the route table, ' +
          'or acceptOverDeny on the route named, to keep the cache',
      );
    }
    if (this.routes.length === 0) {
      Annotations.of(this).addWarningV2(
        'scopegate:noRoutes',
        'no route yet: attach the authorizer to your API (addMethod, specRestApi, addHttpRoutes) or declare its routes (addRoutes); until then every request is denied',
      );
    }
    return errors;
  }
}

/**
 * The acknowledgeable id of a configuration warning (`field: message`): stable for a field,
 * `scopegate:config:routes[2].scopes[0]`, so that one warning can be acknowledged alone.
 */
export function configWarningId(warning: string): string {
  const colon = warning.indexOf(':');
  return `scopegate:config:${colon < 0 ? 'configuration' : warning.slice(0, colon)}`;
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

/** A method as its CloudFormation resource says it (tokens resolve when the deployment's logical id is computed). */
function methodFingerprint(method: apigw.Method): Record<string, unknown> {
  const cfn = method.node.defaultChild as apigw.CfnMethod;
  return {
    path: method.resource.path,
    httpMethod: cfn.httpMethod,
    resourceId: cfn.resourceId,
    authorizationType: cfn.authorizationType,
    authorizerId: cfn.authorizerId,
    apiKeyRequired: cfn.apiKeyRequired,
    operationName: cfn.operationName,
    requestParameters: cfn.requestParameters,
    requestModels: cfn.requestModels,
    requestValidatorId: cfn.requestValidatorId,
    methodResponses: cfn.methodResponses,
    integration: cfn.integration,
  };
}

/** An OpenAPI document given as an object, or read from a YAML or JSON file. */
function loadDocument(document: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof document !== 'string') return document;
  return parseOpenApiText(readFileSync(document, 'utf8'), document) as Record<string, unknown>;
}

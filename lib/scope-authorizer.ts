import { type Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { type AuthorizerConfigDocument, Enforcement, parseConfig, Unrouted } from '../core/config';
import { type OpenApiRoute, readOpenApiRoutes } from '../core/openapi';
import { type ProofReport, proofErrors } from '../proof/prove';
import {
  authorizerFingerprint,
  type GuardedApi,
  guardScope,
  handlerIn,
  httpAuthorizer,
  invokeUri,
  methodFingerprint,
  restAuthorizer,
} from './api-attachment';
import {
  annotateCacheDecision,
  annotateConfigWarnings,
  maxAuthAgeErrors,
  noExactPolicyReason,
  RouteTableProofs,
  requestedCacheTtlSeconds,
} from './authorizer-cache';
import { configurationDocument, parameterSizeErrors, routeRow } from './authorizer-configuration';
import { authorizerFunction } from './authorizer-function';
import { addGatewayResponses, gatewayResponseFingerprints, gatewayResponseSpecs } from './gateway-responses';
import { type ScopeIntrospection, SenderConstraint } from './introspection';
import { issuersAtLongest, issuersForValidation } from './issuer-resolution';
import { loadDocument, scopegateSpecBody } from './openapi-document';
import {
  AuthorizerMode,
  type RouteRow,
  type ScopeAuthorizerProps,
  type ScopedDeploymentOptions,
  type ScopedHttpRouteOptions,
  type ScopedMethodOptions,
  type ScopedRoute,
  type ScopedSpecRestApiProps,
  type ScopeRequirement,
} from './scope-authorizer-props';

// Imported beside the construct (the package's entry, lib/index.ts, exports them from their own modules).
export type { ScopeAuthorizerIssuer } from './issuer';
export type { ScopeIntrospection };
export { AuthorizerMode, Enforcement, SenderConstraint, Unrouted };

/** The source of a route whose method this construct created (so API Gateway's resources are the table's). */
const CREATED = 'created';

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
  private readonly proofs = new RouteTableProofs();
  private restAuthorizer: apigw.IAuthorizer | undefined;
  private httpAuthorizer: HttpLambdaAuthorizer | undefined;
  private readonly deployments: apigw.Deployment[] = [];
  private readonly methods: apigw.Method[] = [];

  constructor(scope: Construct, id: string, props: ScopeAuthorizerProps) {
    super(scope, id);
    this.props = props;
    this.requestedCacheTtlSeconds = requestedCacheTtlSeconds(props.mode, props.cacheTtl);
    const made = authorizerFunction(this, props, () => this.configuration());
    this.parameter = made.parameter;
    this.function = made.function;
    this.logGroup = made.logGroup;
    this.timeout = made.timeout;
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** The REST API Gateway authorizer, once a REST API is guarded (attach it to other methods at your own risk). */
  get authorizer(): apigw.IAuthorizer | undefined {
    return this.restAuthorizer;
  }

  /**
   * The authorizer cache TTL in effect, in seconds: the requested one, or 0 while any route
   * is report-only (a cached policy would hide later requests from the decision log) or no
   * exact cached policy exists for some token of the route table.
   */
  get cacheTtlSeconds(): number {
    if (this.routes.some((r) => (r.enforcement ?? this.props.enforcement ?? Enforcement.ENFORCE) === Enforcement.REPORT_ONLY)) return 0;
    return this.noExactPolicy() === undefined ? this.requestedCacheTtlSeconds : 0;
  }

  /** Whether requests no route matches can reach the authorizer (see {@link ScopeAuthorizerProps.unrouted}). */
  get unrouted(): Unrouted {
    if (this.props.unrouted !== undefined) return this.props.unrouted;
    return this.routes.length > 0 && this.routes.every((r) => r.source === CREATED) ? Unrouted.UNREACHABLE : Unrouted.DENY;
  }

  /**
   * Why no exact cached policy exists for some token of this route table, or `undefined` when
   * every route set the proof checked has one, the requested TTL is 0, or the API is an HTTP
   * API (whose answers are per route).
   */
  private noExactPolicy(): string | undefined {
    if (this.requestedCacheTtlSeconds === 0 || this.guarded?.kind === 'http') return undefined;
    return noExactPolicyReason(this.proof(this.requestedCacheTtlSeconds));
  }

  /** The proof of the route table's policies at a cache TTL (see {@link RouteTableProofs}). */
  private proof(ttlSeconds: number): ProofReport | undefined {
    return this.proofs.proof(this.routeTable(), this.unrouted, ttlSeconds);
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
    const body = scopegateSpecBody(original, {
      mode: this.props.mode ?? AuthorizerMode.TOKEN,
      authorizerUri: invokeUri(this.function, this.function),
      ttlSeconds: () => this.cacheTtlSeconds,
      gatewayResponses: gatewayResponseSpecs(this.props.gatewayResponses),
    });
    const api = new apigw.SpecRestApi(scope, id, { ...apiProps, apiDefinition: apigw.ApiDefinition.fromInline(body) });
    this.bind({ kind: 'rest', api });
    const guard = guardScope(api);
    handlerIn(this.function, guard).addPermission('InvokePermission', {
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
    const guard = guardScope(api);
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
    this.httpAuthorizer ??= httpAuthorizer(this.function, () => this.cacheTtlSeconds);
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
    return configurationDocument(this.props, {
      routes: this.routeTable(),
      policyCacheTtlSeconds: this.cacheTtlSeconds,
      unrouted: this.unrouted,
    });
  }

  /**
   * The configuration's size against its parameter tier, with deploy-time values at their
   * longest (see {@link issuersAtLongest}), so the check never passes at synth what fails at deploy.
   */
  configurationBytes(): number {
    const config = this.configuration();
    config.issuers = issuersAtLongest(this.props.issuers);
    return Buffer.byteLength(JSON.stringify(config), 'utf8');
  }

  private record(httpMethod: string, path: string, requirement: ScopeRequirement, source: string): void {
    const row = routeRow(httpMethod, path, requirement, this.props.enforcement ?? Enforcement.ENFORCE);
    this.routes.push({ ...row, source });
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

  private restAuthorizerFor(api: apigw.IRestApi): apigw.IAuthorizer {
    this.bind({ kind: 'rest', api });
    if (this.restAuthorizer) return this.restAuthorizer;
    const guard = guardScope(api);
    const authorizer = restAuthorizer(guard, this.function, handlerIn(this.function, guard), this.props.mode, () => this.cacheTtlSeconds);
    this.restAuthorizer = authorizer;
    // A changed authorizer reaches the live stage only through a new deployment. aws-cdk-lib
    // adds the authorizer to the deployment's logical id only under the feature flag
    // @aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId (aws-cdk#16554); the user's
    // app may not set it, so the construct adds what the stage depends on itself, as
    // resolved at synth (the cache TTL is computed late).
    api.latestDeployment?.addToLogicalId(
      Lazy.uncachedAny({ produce: () => ({ scopegateAuthorizer: authorizerFingerprint(this.props.mode, this.cacheTtlSeconds) }) }),
    );
    addGatewayResponses(api, guard, gatewayResponseSpecs(this.props.gatewayResponses), this.deployments);
    return authorizer;
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
      scopegateAuthorizer: authorizerFingerprint(this.props.mode, this.cacheTtlSeconds),
      scopegateGatewayResponses: gatewayResponseFingerprints(gatewayResponseSpecs(this.props.gatewayResponses)),
    };
  }

  private validate(): string[] {
    const ttl = this.cacheTtlSeconds;
    try {
      const config = this.configuration();
      config.issuers = issuersForValidation(this.props.issuers);
      annotateConfigWarnings(this, parseConfig(config).warnings);
    } catch (error) {
      return [`invalid authorizer configuration: ${(error as Error).message}`];
    }
    const tier = this.props.parameterTier ?? ssm.ParameterTier.STANDARD;
    const errors = [...maxAuthAgeErrors(this.routes, ttl), ...parameterSizeErrors(this.configurationBytes(), tier)];
    // The policies of this route table, proven exact over every request (docs/proof.md).
    // HTTP API events get single-request policies, which the proof does not concern.
    const report = this.guarded?.kind === 'http' ? undefined : this.proof(ttl);
    if (report) errors.push(...proofErrors(report));
    annotateCacheDecision(this, {
      report,
      requestedTtlSeconds: this.requestedCacheTtlSeconds,
      uncachedReason: this.noExactPolicy(),
      routeCount: this.routes.length,
    });
    return errors;
  }
}

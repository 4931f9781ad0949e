import type { Duration, Size } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Enforcement, RouteDocument, Unrouted } from '../core/config';
import type { CognitoUserPoolIssuer } from './cognito-issuer';
import type { ScopeAuthorizerIssuer } from './issuer';

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

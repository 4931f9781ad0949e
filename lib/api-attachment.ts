import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BEARER_VALIDATION_REGEX } from '../core/authorization';
import { AuthorizerMode } from './scope-authorizer-props';

/** The REST authorizer's identity source, in either mode. */
export const AUTHORIZATION_IDENTITY_SOURCE = 'method.request.header.Authorization';

/** HTTP API identity sources: the route key keeps one route's cached answer off every other route. */
export const HTTP_API_IDENTITY_SOURCES = ['$request.header.Authorization', '$context.routeKey'];

/** The API an authorizer guards: one per authorizer, its route table is that API's. */
export type GuardedApi = { kind: 'rest'; api: apigw.IRestApi } | { kind: 'http'; api: apigwv2.IHttpApi };

/** The cache TTL API Gateway is given: produced at synth, when every route is known (`ttlSeconds` reads it then). */
function lateTtl(ttlSeconds: () => number): Duration {
  return Duration.seconds(Lazy.uncachedNumber({ produce: ttlSeconds }) as number);
}

/** Where the per-API pieces live: under the API, in the API's stack, so no cross-stack cycle forms. */
export function guardScope(api: apigw.IRestApi | apigwv2.IHttpApi): Construct {
  return (api.node.tryFindChild('Scopegate') as Construct | undefined) ?? new Construct(api, 'Scopegate');
}

/**
 * The function as the stack of `scope` sees it. From another stack, a reference by ARN whose
 * permissions are created in that stack (the function's own stack would otherwise need the
 * API's authorizer id while the API needs the function's ARN: a cycle).
 */
export function handlerIn(fn: lambda.IFunction, scope: Construct): lambda.IFunction {
  if (Stack.of(scope) === Stack.of(fn)) return fn;
  return (
    (scope.node.tryFindChild('AuthorizerFunction') as lambda.IFunction | undefined) ??
    lambda.Function.fromFunctionAttributes(scope, 'AuthorizerFunction', { functionArn: fn.functionArn, sameEnvironment: true })
  );
}

/**
 * The Lambda invocation URI API Gateway calls `handler` by: the partition and region `fn` (the
 * authorizer function) is deployed to, and `handler`'s ARN as given.
 */
export function invokeUri(fn: lambda.IFunction, handler: lambda.IFunction): string {
  const home = Stack.of(fn);
  return `arn:${home.partition}:apigateway:${home.region}:lambda:path/2015-03-31/functions/${handler.functionArn}/invocations`;
}

/**
 * The REST API Gateway authorizer under `guard`: a TOKEN authorizer with the Bearer regex, or a
 * REQUEST authorizer, on the Authorization header, calling `handler` (see {@link handlerIn}).
 */
export function restAuthorizer(
  guard: Construct,
  fn: lambda.IFunction,
  handler: lambda.IFunction,
  mode: AuthorizerMode | undefined,
  ttlSeconds: () => number,
): apigw.IAuthorizer {
  const ttl = lateTtl(ttlSeconds);
  const authorizer =
    mode === AuthorizerMode.REQUEST
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
  (authorizer.node.defaultChild as apigw.CfnAuthorizer).authorizerUri = invokeUri(fn, handler);
  return authorizer;
}

/**
 * The HTTP API authorizer: payload 2.0 with simple responses, its identity sources the
 * Authorization header and `$context.routeKey`, so a cached answer is only reused on the route
 * it was given for.
 */
export function httpAuthorizer(fn: lambda.IFunction, ttlSeconds: () => number): HttpLambdaAuthorizer {
  return new HttpLambdaAuthorizer('ScopegateAuthorizer', fn, {
    responseTypes: [HttpLambdaResponseType.SIMPLE],
    identitySource: HTTP_API_IDENTITY_SOURCES,
    resultsCacheTtl: lateTtl(ttlSeconds),
  });
}

/**
 * The authorizer as API Gateway holds it, what a deployment of the stage depends on: its
 * type, identity source, Bearer regex and cache TTL (the value in effect at synth).
 */
export function authorizerFingerprint(mode: AuthorizerMode | undefined, cacheTtlSeconds: number): Record<string, unknown> {
  const type = mode ?? AuthorizerMode.TOKEN;
  return {
    mode: type,
    identitySource: AUTHORIZATION_IDENTITY_SOURCE,
    validationRegex: type === AuthorizerMode.TOKEN ? BEARER_VALIDATION_REGEX : null,
    resultsCacheTtlSeconds: cacheTtlSeconds,
  };
}

/** A method as its CloudFormation resource says it (tokens resolve when the deployment's logical id is computed). */
export function methodFingerprint(method: apigw.Method): Record<string, unknown> {
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

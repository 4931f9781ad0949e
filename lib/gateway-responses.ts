import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import type { ScopeGatewayResponseOptions } from './scope-authorizer-props';

/** One of the contract's gateway responses, as the construct applies it. */
export interface GatewayResponseSpec {
  readonly id: string;
  readonly type: apigw.ResponseType;
  readonly statusCode: string;
  readonly headers: Record<string, string>;
}

/**
 * The contract's answers, once per REST API (none when `options` is `false`). API Gateway
 * answers a missing token, a value the Bearer regex refuses and the function's `Unauthorized`
 * alike (UNAUTHORIZED, static headers), and reports any other function error, a missing invoke
 * permission and a malformed answer alike (AUTHORIZER_CONFIGURATION_ERROR): see docs/attaching.md.
 */
export function gatewayResponseSpecs(options: ScopeGatewayResponseOptions | false | undefined): GatewayResponseSpec[] {
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

/** What a deployment of the stage depends on of the gateway responses. */
export function gatewayResponseFingerprints(specs: readonly GatewayResponseSpec[]): Record<string, unknown>[] {
  return specs.map(({ type, statusCode, headers }) => ({ type: type.responseType, statusCode, headers }));
}

/**
 * The gateway responses as resources of the API (a RestApi's, or an imported one's), under
 * `guard`; the API's latest deployment and `deployments` (the construct's own, of an imported
 * API) depend on them and change with them.
 */
export function addGatewayResponses(
  api: apigw.IRestApi,
  guard: Construct,
  specs: readonly GatewayResponseSpec[],
  deployments: readonly apigw.Deployment[],
): void {
  const deployment = api.latestDeployment;
  for (const { id, type, statusCode, headers } of specs) {
    const response = new apigw.GatewayResponse(guard, id, { restApi: api, type, statusCode, responseHeaders: headers });
    deployment?.node.addDependency(response);
    for (const made of deployments) made.node.addDependency(response);
    deployment?.addToLogicalId({ scopegateGatewayResponse: { type: type.responseType, statusCode, headers } });
  }
}

/**
 * The gateway responses inside an OpenAPI document (`x-amazon-apigateway-gateway-responses`,
 * changed in place): a `SpecRestApi` is imported in overwrite mode, which would drop
 * responses defined beside it.
 */
export function addGatewayResponsesToDocument(document: Record<string, unknown>, specs: readonly GatewayResponseSpec[]): void {
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
          responseParameters: Object.fromEntries(Object.entries(headers).map(([name, value]) => [`gatewayresponse.header.${name}`, value])),
        },
      ]),
    ),
  };
}

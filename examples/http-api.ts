/**
 * An HTTP API (API Gateway v2) guarded by the scopegate function as a payload 2.0 Lambda
 * authorizer with simple responses. Its identity sources include `$context.routeKey`, so an
 * answer cached for one route is never reused on another.
 *
 *   npx cdk synth --app "npx tsx examples/http-api.ts"
 */
import { App, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ScopeAuthorizer } from 'scopegate';
import { ENV, ISSUER } from './common';

/** Build the example into `app`. */
export function build(app: App) {
  const stack = new Stack(app, 'HttpApi', { env: ENV });
  const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [ISSUER] });
  const api = new apigwv2.HttpApi(stack, 'Api', { createDefaultStage: false });
  new apigwv2.HttpStage(stack, 'Stage', {
    httpApi: api,
    stageName: 'prod',
    autoDeploy: true,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(stack, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH })),
    },
  });
  const backend = (name: string) => new HttpUrlIntegration(name, 'https://backend.example.com/{proxy}');
  authorizer.addHttpRoutes(api, {
    path: '/telemetry',
    methods: [apigwv2.HttpMethod.GET],
    integration: backend('ReadTelemetry'),
    scopes: ['telemetry:read'],
  });
  authorizer.addHttpRoutes(api, {
    path: '/telemetry/{sensorId}',
    methods: [apigwv2.HttpMethod.GET],
    integration: backend('ReadSensor'),
    scopes: ['telemetry:read'],
  });
  authorizer.addHttpRoutes(api, {
    path: '/telemetry',
    methods: [apigwv2.HttpMethod.POST],
    integration: backend('WriteTelemetry'),
    scopes: ['telemetry:write'],
  });
  return { stack, api, authorizer };
}

if (require.main === module) build(new App());

/**
 * An API that exists already (created by another tool or team), imported by id. Methods are
 * added to resources that exist (`Resource.fromResourceAttributes`, never re-created) and to
 * a new child resource; the methods this app does not manage are declared, so the route
 * table covers the whole API; and a deployment to the stage is made, since an imported API
 * has none in this app.
 *
 *   npx cdk synth --app "npx tsx examples/imported.ts"
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ScopeAuthorizer } from 'scopegate';
import { ENV, ISSUER } from './common';

/** The existing API's ids (from `aws apigateway get-resources --rest-api-id …`). */
export const EXISTING = { restApiId: 'a1b2c3d4e5', rootResourceId: 'r00tr00t01', telemetryResourceId: 'tlm3try001' };

/** Build the example into `app`. */
export function build(app: App) {
  const stack = new Stack(app, 'ImportedApi', { env: ENV });
  const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [ISSUER] });
  const api = apigw.RestApi.fromRestApiAttributes(stack, 'Api', {
    restApiId: EXISTING.restApiId,
    rootResourceId: EXISTING.rootResourceId,
  });
  const telemetry = apigw.Resource.fromResourceAttributes(stack, 'Telemetry', {
    restApi: api,
    resourceId: EXISTING.telemetryResourceId,
    path: '/telemetry',
  });
  const backend = new apigw.HttpIntegration('https://backend.example.com/telemetry', { proxy: true });
  authorizer.addMethod(telemetry, 'POST', backend, { scopes: ['telemetry:write'] });
  authorizer.addMethod(telemetry.addResource('{sensorId}'), 'GET', backend, { scopes: ['telemetry:read'] });
  // Methods that exist already and keep being managed where they were made.
  authorizer.addRoutes([
    { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
    { method: 'GET', path: '/health', scopes: [] },
  ]);
  const deployment = authorizer.deploy(api, { stageName: 'prod' });
  // The stage's logging, throttling and WAF stay with the API's owner; the methods are ours.
  Validations.of(stack).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'Methods are guarded by the scopegate Lambda authorizer, not a Cognito user pool authorizer, by design.',
  });
  return { stack, api, authorizer, deployment };
}

if (require.main === module) build(new App());

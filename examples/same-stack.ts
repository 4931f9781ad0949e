/**
 * A RestApi and the scopegate authorizer in one stack: methods added through
 * `authorizer.addMethod`, so the route table is generated from the API.
 *
 *   npx cdk synth --app "npx tsx examples/same-stack.ts"
 */
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ScopeAuthorizer } from 'scopegate';
import { acknowledgeExampleApi, ENV, ISSUER, loggedStage } from './common';

/** Build the example into `app`. */
export function build(app: App) {
  const stack = new Stack(app, 'SameStack', { env: ENV });
  const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [ISSUER] });
  const api = new apigw.RestApi(stack, 'Api', { cloudWatchRole: false, deployOptions: loggedStage(stack, 'prod') });
  const validator = api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
  const backend = new apigw.HttpIntegration('https://backend.example.com/{proxy}', { proxy: true });
  const methodOptions = { requestValidator: validator };
  authorizer.addMethod(api.root.resourceForPath('/telemetry'), 'GET', backend, { scopes: ['telemetry:read'], methodOptions });
  authorizer.addMethod(api.root.resourceForPath('/telemetry/{sensorId}'), 'GET', backend, { scopes: ['telemetry:read'], methodOptions });
  authorizer.addMethod(api.root.resourceForPath('/telemetry'), 'POST', backend, { scopes: ['telemetry:write'], methodOptions });
  acknowledgeExampleApi(api);
  return { stack, api, authorizer };
}

if (require.main === module) build(new App());

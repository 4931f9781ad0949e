/**
 * The authorizer in one stack (deployed once, e.g. by the platform team) and the API in
 * another stack of the same app. The API Gateway authorizer and its invoke permission are
 * created in the API's stack, so the API stack depends on the authorizer stack and not the
 * other way round: no reference cycle.
 *
 *   npx cdk synth --app "npx tsx examples/other-stack.ts"
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ScopeAuthorizer } from 'scopegate';
import { acknowledgeExampleApi, ENV, ISSUER, loggedStage } from './common';

/** Build the example into `app`. */
export function build(app: App) {
  const authStack = new Stack(app, 'AuthStack', { env: ENV });
  const authorizer = new ScopeAuthorizer(authStack, 'Scopes', { issuers: [ISSUER] });

  const apiStack = new Stack(app, 'ApiStack', { env: ENV });
  const api = new apigw.RestApi(apiStack, 'Api', { cloudWatchRole: false, deployOptions: loggedStage(apiStack, 'prod') });
  const validator = api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
  const backend = new apigw.HttpIntegration('https://backend.example.com/orders', { proxy: true });
  const methodOptions = { requestValidator: validator };
  authorizer.addMethod(api.root.resourceForPath('/orders'), 'GET', backend, { scopes: ['orders:read'], methodOptions });
  authorizer.addMethod(api.root.resourceForPath('/orders/{orderId}'), 'DELETE', backend, {
    scopes: ['orders:cancel'],
    maxAuthAge: Duration.minutes(15),
    methodOptions,
  });
  acknowledgeExampleApi(api);
  return { authStack, apiStack, api, authorizer };
}

if (require.main === module) build(new App());

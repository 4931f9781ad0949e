/**
 * The whole product in one construct: the issuers, a route table (`routes.json`) and the API
 * in; the JWKS mirror, a rotation checker per issuer (seeded at deploy), the authorizer with
 * the mirror first and the issuer second as key sources, the API's methods guarded by it,
 * alarms, a dashboard and the outputs (the authorizer's log group, the mirror URL) out.
 *
 *   npx cdk synth --app "npx tsx examples/scopegate.ts"
 */
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RouteTable, Scopegate } from 'scopegate';
import { acknowledgeExampleApi, ENV, loggedStage } from './common';

/** Build the example into `app`. */
export function build(app: App) {
  const stack = new Stack(app, 'Scopegate', { env: ENV });
  const api = new apigw.RestApi(stack, 'Api', { cloudWatchRole: false, deployOptions: loggedStage(stack, 'prod') });
  const validator = api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
  // One backend for every route: a Lambda proxy integration sees the method and the resource.
  const backend = new lambda.Function(stack, 'Backend', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(
      'exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ route: event.httpMethod + " " + event.resource, client: event.requestContext.authorizer.clientId }) });',
    ),
  });
  Validations.of(backend).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'An example backend; a real one gets a role of its own.',
  });
  const scopegate = new Scopegate(stack, 'Scopegate', {
    issuers: [
      {
        name: 'ops',
        issuer: 'https://idp.example.com/realms/ops',
        audience: 'https://api.example.com',
        tokenType: 'at+jwt',
      },
    ],
    routes: RouteTable.fromFile(path.join(__dirname, 'routes.json')),
    api,
    integration: new apigw.LambdaIntegration(backend),
    methodOptions: { requestValidator: validator },
    // Below the route table's step-up (300 s): a cached Allow must not outlive it.
    authorizerOptions: { cacheTtl: Duration.minutes(2) },
    alarmEmail: 'oncall@example.com',
  });
  acknowledgeExampleApi(api);
  return { stack, api, scopegate };
}

if (require.main === module) build(new App());

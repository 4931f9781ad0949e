/**
 * An API defined by an OpenAPI 3 document (`pets-api.yaml`): the route table and scopes are
 * read from its `security` requirements, and the deployed document gets the scopegate
 * authorizer written into it, so the API and the scope table come from one source.
 *
 *   npx cdk synth --app "npx tsx examples/openapi.ts"
 *   npx scopegate routes --openapi examples/pets-api.yaml --scopes "pets:read"
 */
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { ScopeAuthorizer } from 'scopegate';
import { acknowledgeExampleApi, ENV, ISSUER, loggedStage } from './common';

/** The example's document. */
export const PETS_API = path.join(__dirname, 'pets-api.yaml');

/** Build the example into `app`. */
export function build(app: App) {
  const stack = new Stack(app, 'OpenApi', { env: ENV });
  const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [ISSUER] });
  const api = authorizer.specRestApi(stack, 'Api', {
    document: PETS_API,
    cloudWatchRole: false,
    deployOptions: loggedStage(stack, 'prod'),
  });
  acknowledgeExampleApi(api);
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-APIG2',
    reason: 'Request validation is enabled in the document (x-amazon-apigateway-request-validator: all), which cdk-nag does not read.',
  });
  return { stack, api, authorizer };
}

if (require.main === module) build(new App());

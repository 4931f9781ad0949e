import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../core/config';
import { repositoryApp } from '../../examples/common';
import * as httpApi from '../../examples/http-api';
import * as imported from '../../examples/imported';
import * as openapi from '../../examples/openapi';
import * as otherStack from '../../examples/other-stack';
import * as sameStack from '../../examples/same-stack';
import * as scopegate from '../../examples/scopegate';
import { ScopeAuthorizer } from '../../lib/scope-authorizer';

/** Synthesize as `cdk synth` does here (cdk.json's context), with cdk-nag (AwsSolutions); throws on anything unacknowledged. */
function synthWithNag<T>(build: (app: App) => T): T {
  const app = repositoryApp();
  const built = build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return built;
}

function parameterRoutes(stack: Stack): unknown[] {
  const params = Template.fromStack(stack).findResources('AWS::SSM::Parameter');
  const value = (Object.values(params)[0] as { Properties: { Value: string } }).Properties.Value;
  return JSON.parse(value).routes;
}

/** Where an Fn::Split's source holds an Fn::GetStackOutput, which CloudFormation's Fn::Split does not take. */
function splitsOfCrossStackValues(node: unknown, path = '$'): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => splitsOfCrossStackValues(n, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Fn::Split' && JSON.stringify(value).includes('"Fn::GetStackOutput"')) found.push(path);
    found.push(...splitsOfCrossStackValues(value, `${path}.${key}`));
  }
  return found;
}

function gatewayResponsesOf(t: Template) {
  t.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
  t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'UNAUTHORIZED',
    StatusCode: '401',
    ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'` },
  });
  t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'ACCESS_DENIED',
    StatusCode: '403',
    ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="insufficient_scope"'` },
  });
}

describe('examples/same-stack.ts', () => {
  it('synthesizes cdk-nag clean, guards each method and generates the route table from the API', () => {
    const { stack, authorizer } = synthWithNag(sameStack.build);
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 3);
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', AuthorizerResultTtlInSeconds: 300 });
    gatewayResponsesOf(t);
    expect(parameterRoutes(stack)).toEqual([
      { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
      { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
      { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'] },
    ]);
    expect(parseConfig(authorizer.configuration()).config.routes).toHaveLength(3);
  });
});

describe('examples/other-stack.ts', () => {
  it('synthesizes cdk-nag clean without a reference cycle: the API stack depends on the authorizer stack only', () => {
    const { authStack, apiStack } = synthWithNag(otherStack.build);
    expect(apiStack.dependencies).toContain(authStack);
    expect(authStack.dependencies).not.toContain(apiStack);
  });

  it("puts the API Gateway authorizer, its invoke permission and the gateway responses in the API's stack", () => {
    const { authStack, apiStack } = synthWithNag(otherStack.build);
    const api = Template.fromStack(apiStack);
    api.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    api.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      // cdk.json's defaultCrossStackReferences: weak.
      FunctionName: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'AuthStack' }) },
    });
    gatewayResponsesOf(api);
    const auth = Template.fromStack(authStack);
    auth.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    auth.resourceCountIs('AWS::Lambda::Permission', 0);
    expect(parameterRoutes(authStack)).toEqual([
      { method: 'GET', path: '/orders', scopes: ['orders:read'] },
      { method: 'DELETE', path: '/orders/{orderId}', scopes: ['orders:cancel'], maxAuthAgeSeconds: 900 },
    ]);
  });
});

describe('examples/other-stack.ts under cdk.json (weak cross-stack references)', () => {
  it("builds the authorizer URI from the function's partition and region, never by splitting the cross-stack ARN", () => {
    const { apiStack } = synthWithNag(otherStack.build);
    const template = Template.fromStack(apiStack);
    const authorizer = Object.values(template.findResources('AWS::ApiGateway::Authorizer'))[0] as {
      Properties: { AuthorizerUri: unknown };
    };
    expect(authorizer.Properties.AuthorizerUri).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/',
          { 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'AuthStack' }) },
          '/invocations',
        ],
      ],
    });
    // CloudFormation's Fn::Split takes no Fn::GetStackOutput (cfn-lint E1022): none anywhere in the stack.
    expect(splitsOfCrossStackValues(template.toJSON())).toEqual([]);
  });
});

describe('examples/imported.ts', () => {
  it('synthesizes cdk-nag clean, adds methods to existing resources without re-creating them, and deploys the stage', () => {
    const { stack } = synthWithNag(imported.build);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    // Only the new {sensorId} resource is created; /telemetry exists and is referenced by id.
    t.resourceCountIs('AWS::ApiGateway::Resource', 1);
    t.hasResourceProperties('AWS::ApiGateway::Resource', { ParentId: imported.EXISTING.telemetryResourceId, PathPart: '{sensorId}' });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ResourceId: imported.EXISTING.telemetryResourceId,
      RestApiId: imported.EXISTING.restApiId,
      AuthorizationType: 'CUSTOM',
    });
    const deployments = t.findResources('AWS::ApiGateway::Deployment');
    expect(Object.keys(deployments)).toHaveLength(1);
    const deployment = Object.values(deployments)[0] as { Properties: { StageName: string; RestApiId: string }; DependsOn: string[] };
    expect(deployment.Properties).toMatchObject({ StageName: 'prod', RestApiId: imported.EXISTING.restApiId });
    const methods = Object.keys(t.findResources('AWS::ApiGateway::Method'));
    const responses = Object.keys(t.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(deployment.DependsOn).toEqual(expect.arrayContaining([...methods, ...responses]));
    gatewayResponsesOf(t);
    expect(parameterRoutes(stack)).toEqual([
      { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'] },
      { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
      { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
      { method: 'GET', path: '/health', scopes: [] },
    ]);
  });

  it('makes a new deployment when a guarded method changes, and none when only its scopes change (they live in SSM)', () => {
    const logicalId = (method: string, scopes: string[]) => {
      const app = repositoryApp();
      const { stack, authorizer, api } = imported.build(app);
      authorizer.addMethod(api.root.resourceForPath('/extra'), method, new apigw.MockIntegration(), { scopes });
      return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'))[0];
    };
    expect(logicalId('GET', ['extra:read'])).not.toBe(logicalId('PUT', ['extra:read']));
    expect(logicalId('GET', ['extra:read'])).toBe(logicalId('GET', ['extra:write']));
  });
});

describe('examples/openapi.ts', () => {
  it('synthesizes cdk-nag clean and reads the route table and scopes from the document', () => {
    const { stack } = synthWithNag(openapi.build);
    expect(parameterRoutes(stack)).toEqual([
      { method: 'GET', path: '/pets', scopes: ['pets:read'] },
      { method: 'POST', path: '/pets', scopes: ['pets:write'] },
      { method: 'GET', path: '/pets/{petId}', anyOf: [['pets:read'], ['Pets.Read.All']] },
      { method: '*', path: '/files/{proxy+}', scopes: ['pets:write'], enforcement: 'report-only' },
      { method: 'GET', path: '/health', scopes: [] },
    ]);
  });

  it('writes the authorizer into the deployed document and grants API Gateway the invoke', () => {
    const { stack } = synthWithNag(openapi.build);
    const t = Template.fromStack(stack);
    // biome-ignore lint/suspicious/noExplicitAny: assertions walk the synthesized document by its known shape
    const api = Object.values(t.findResources('AWS::ApiGateway::RestApi'))[0] as { Properties: { Body: Record<string, any> } };
    const body = api.Properties.Body;
    const scheme = body.components.securitySchemes.scopegate;
    expect(scheme).toMatchObject({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom' });
    expect(scheme['x-amazon-apigateway-authorizer']).toMatchObject({
      type: 'token',
      // A report-only operation turns the cache off, so every request is decided and logged.
      authorizerResultTtlInSeconds: 0,
      identityValidationExpression: '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$',
    });
    expect(JSON.stringify(scheme['x-amazon-apigateway-authorizer'].authorizerUri)).toContain('ScopesFunction');
    expect(body.components.securitySchemes.oauth).toBeUndefined();
    expect(body.components.securitySchemes.entra).toBeUndefined();
    expect(body.paths['/pets/{petId}'].get.security).toEqual([{ scopegate: [] }]);
    expect(body.paths['/pets'].post.security).toEqual([{ scopegate: [] }]);
    expect(body.paths['/files/{proxy+}']['x-amazon-apigateway-any-method'].security).toEqual([{ scopegate: [] }]);
    expect(body.paths['/health'].get.security).toEqual([]);
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/authorizers/\\*$')])] },
    });
    // In the document: a SpecRestApi is imported in overwrite mode, which drops responses defined beside it.
    t.resourceCountIs('AWS::ApiGateway::GatewayResponse', 0);
    expect(body['x-amazon-apigateway-gateway-responses']).toEqual({
      UNAUTHORIZED: {
        statusCode: '401',
        responseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'` },
      },
      ACCESS_DENIED: {
        statusCode: '403',
        responseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="insufficient_scope"'` },
      },
      AUTHORIZER_CONFIGURATION_ERROR: { statusCode: '503', responseParameters: { 'gatewayresponse.header.Retry-After': `'5'` } },
      AUTHORIZER_FAILURE: { statusCode: '500', responseParameters: {} },
    });
  });

  it('fails synth naming the method and path of what the document asks that scopegate cannot enforce', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    const authorizer = new ScopeAuthorizer(stack, 'Scopes', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://idp.test/k', audience: 'a' }],
    });
    const document = {
      openapi: '3.0.3',
      info: { title: 'x', version: '1' },
      components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } } },
      paths: { '/orders/{id}': { delete: { security: [{ key: [] }] } } },
    };
    expect(() => authorizer.specRestApi(stack, 'Api', { document })).toThrow(
      /DELETE \/orders\/\{id\}: security scheme "key" is an API key/,
    );
  });
});

describe('examples/http-api.ts', () => {
  it('synthesizes cdk-nag clean with a payload 2.0 simple-response authorizer keyed by route', () => {
    const { stack } = synthWithNag(httpApi.build);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization', '$context.routeKey'],
      AuthorizerResultTtlInSeconds: 300,
    });
    t.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { AuthorizationType: 'CUSTOM' }, 3);
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'apigateway.amazonaws.com' });
    expect(parameterRoutes(stack)).toEqual([
      { method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] },
      { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
      { method: 'POST', path: '/telemetry', scopes: ['telemetry:write'] },
    ]);
  });
});

describe('examples/scopegate.ts', () => {
  it('synthesizes cdk-nag clean: mirror, checker, authorizer and the route table file as guarded methods of the API', () => {
    const { stack, scopegate: gate } = synthWithNag(scopegate.build);
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 6);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.resourceCountIs('Custom::Trigger', 1);
    gatewayResponsesOf(t);
    expect(gate.authorizer.routeTable()).toEqual(JSON.parse(readFileSync(join(__dirname, '../../examples/routes.json'), 'utf8')));
  });
});

import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ScopegateStack } from '../../lib/scopegate-stack';
import { ENVIRONMENTS, settingsOf } from './helpers';

function appFor(name: string) {
  const app = new App();
  const settings = settingsOf(name);
  const stack = new ScopegateStack(app, `scopegate-${name}`, { env: { account: settings.account, region: settings.region }, settings });
  return { app, stack };
}

describe('ScopegateStack', () => {
  const { stack } = appFor('dev');
  const t = Template.fromStack(stack);

  it("puts the authorizer's gateway responses on the demo API once: 401/403 WWW-Authenticate, 503 Retry-After", () => {
    t.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'` },
    });
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'AUTHORIZER_CONFIGURATION_ERROR',
      StatusCode: '503',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': `'5'` },
    });
  });

  it('guards every demo method with the authorizer, and logs and throttles the stage', () => {
    const methods = Object.values(t.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBe(6);
    expect(methods.every((m) => (m as { Properties: { AuthorizationType: string } }).Properties.AuthorizationType === 'CUSTOM')).toBe(true);
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })]),
    });
  });

  it('points the authorizer at the CloudFront mirror of each issuer', () => {
    const param = Object.entries(t.findResources('AWS::SSM::Parameter')).find(([id]) => id.startsWith('ScopeAuthorizerConfig'));
    expect(JSON.stringify(param?.[1])).toContain('/ops/jwks.json');
    expect(JSON.stringify(param?.[1])).toContain('JwksDistribution');
  });

  it('has a dashboard of decisions, latency, JWKS fetches and rotation findings', () => {
    const dashboard = JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard'));
    for (const title of ['Decisions by reason', 'Authorizer latency', 'JWKS fetches', 'Rotation findings', 'Would deny (report-only)'])
      expect(dashboard).toContain(title);
    expect(dashboard).toMatch(/MetricName=\\+"WouldDeny/);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it.each(Object.keys(ENVIRONMENTS))('finds nothing unacknowledged in environment %s', (name) => {
    const { app } = appFor(name);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('does report what is not acknowledged (the check can fail)', () => {
    const { app, stack } = appFor('dev');
    new s3.Bucket(stack, 'Unlogged', { enforceSSL: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

describe('environments', () => {
  it('synthesizes each environment to its own stack', () => {
    const names = Object.keys(ENVIRONMENTS).map((n) => appFor(n).stack.stackName);
    expect(names).toEqual(['scopegate-dev', 'scopegate-staging', 'scopegate-prod']);
    expect(Stack.of(appFor('prod').stack).region).toBe('eu-west-1');
  });
});

describe('ScopegateStack without the demo API (prod)', () => {
  it('synthesizes cdk-nag clean with the JWKS distribution, the checkers and the authorizer, no API and no account-level role', () => {
    const { app, stack } = appFor('prod');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.hasOutput('AuthorizerFunctionArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScopeAuthorizerFunction'), 'Arn'] } });
    t.hasOutput('AuthorizerLogGroupName', { Value: { Ref: Match.stringLikeRegexp('ScopeAuthorizerFunctionLogs') } });
    t.hasOutput('MirrorUrlOps', Match.anyValue());
    t.hasOutput('MirrorUrlPartners', Match.anyValue());
  });

  it("guards the user's own API in another stack of the app, beside the environment's route table", () => {
    const { app, stack } = appFor('prod');
    const settings = settingsOf('prod');
    const apiStack = new Stack(app, 'MyApi', { env: { account: settings.account, region: settings.region } });
    const api = new apigw.RestApi(apiStack, 'Api');
    stack.authorizer.addMethod(api.root.resourceForPath('/orders'), 'GET', new apigw.MockIntegration(), { scopes: ['orders:read'] });
    app.synth();
    expect(apiStack.dependencies).toContain(stack);
    Template.fromStack(apiStack).resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    expect(stack.authorizer.routeTable()).toContainEqual({ method: 'GET', path: '/orders', scopes: ['orders:read'] });
    expect(stack.authorizer.routeTable()).toHaveLength(7);
  });
});

describe('the demo API (dev)', () => {
  it("logs the authorizer's fields in its access log: status, error, the cached denial's trace", () => {
    const t = Template.fromStack(appFor('dev').stack);
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ Format: Match.stringLikeRegexp('\\$context\\.authorizer\\.error') }),
    });
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ Format: Match.stringLikeRegexp('\\$context\\.error\\.responseType') }),
    });
  });

  it("outputs the API's endpoint beside the authorizer's log group and the mirror URL", () => {
    const outputs = Object.keys(Template.fromStack(appFor('dev').stack).findOutputs('*'));
    expect(outputs).toEqual(expect.arrayContaining(['DemoApiEndpoint09F4613B', 'AuthorizerLogGroupName', 'MirrorUrlOps']));
  });
});

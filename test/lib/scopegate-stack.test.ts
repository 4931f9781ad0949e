import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readEnvironment } from '../../lib/environment';
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
  it('names an unknown environment and the known ones', () => {
    expect(() => readEnvironment(ENVIRONMENTS, 'qa')).toThrow('environment "qa" is not defined in cdk.json (known: dev, staging, prod)');
    expect(() => readEnvironment(ENVIRONMENTS, undefined)).toThrow(/-c env=NAME/);
  });

  it('names the missing or bad setting', () => {
    const dev = ENVIRONMENTS.dev as Record<string, unknown>;
    expect(() => readEnvironment({ x: { ...dev, region: undefined } }, 'x')).toThrow('environments.x.region: must be a non-empty string');
    expect(() => readEnvironment({ x: { ...dev, account: '123' } }, 'x')).toThrow(
      'environments.x.account: must be a 12-digit AWS account id',
    );
    expect(() => readEnvironment({ x: { ...dev, issuers: [] } }, 'x')).toThrow('environments.x.issuers: must be a non-empty list');
    expect(() => readEnvironment({ x: { ...dev, enforcement: 'audit' } }, 'x')).toThrow(
      'environments.x.enforcement: must be "enforce" or "report-only"',
    );
    expect(readEnvironment({ x: { ...dev, enforcement: 'report-only' } }, 'x').enforcement).toBe('report-only');
    expect(() => readEnvironment({ x: { ...dev, authorizerCacheTtlSeconds: 7200 } }, 'x')).toThrow(
      'environments.x.authorizerCacheTtlSeconds: must be an integer from 0 to 3600',
    );
  });

  it('synthesizes each environment to its own stack', () => {
    const names = Object.keys(ENVIRONMENTS).map((n) => appFor(n).stack.stackName);
    expect(names).toEqual(['scopegate-dev', 'scopegate-staging', 'scopegate-prod']);
    expect(Stack.of(appFor('prod').stack).region).toBe('eu-west-1');
  });
});

describe('ScopegateStack with demoApi: false', () => {
  function appWithoutDemo() {
    const app = new App();
    const settings = { ...settingsOf('dev'), demoApi: false };
    const stack = new ScopegateStack(app, 'scopegate-dev', { env: { account: settings.account, region: settings.region }, settings });
    return { app, stack, settings };
  }

  it('synthesizes cdk-nag clean with the JWKS distribution, the checker and the authorizer, and no API', () => {
    const { app, stack } = appWithoutDemo();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.hasOutput('AuthorizerFunctionArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScopeAuthorizerFunction'), 'Arn'] } });
  });

  it("guards the user's own API in another stack of the app", () => {
    const { app, stack, settings } = appWithoutDemo();
    const apiStack = new Stack(app, 'MyApi', { env: { account: settings.account, region: settings.region } });
    const api = new apigw.RestApi(apiStack, 'Api');
    stack.authorizer.addMethod(api.root.resourceForPath('/orders'), 'GET', new apigw.MockIntegration(), { scopes: ['orders:read'] });
    app.synth();
    expect(apiStack.dependencies).toContain(stack);
    Template.fromStack(apiStack).resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    expect(stack.authorizer.routeTable()).toEqual([{ method: 'GET', path: '/orders', scopes: ['orders:read'] }]);
  });
});

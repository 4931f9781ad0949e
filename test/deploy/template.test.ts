import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Dimension, MetricName, Service } from '../../core/metrics';
import { readEnvironment } from '../../lib/environment';
import { ScopeAuthorizer } from '../../lib/scope-authorizer';
import { ScopegateStack } from '../../lib/scopegate-stack';
import { evaluateIam, type PolicyStatement } from './support/iam-evaluator';
import { type CfnTemplate, TemplateResolver } from './support/template';

// Template assertions for what issue 12 found missing: the feature flags (and their
// effect), alarm dimensions, the topic policy, TTLs and the configuration's size.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const CDK_JSON = require('../../cdk.json') as { context: Record<string, unknown> };
const ENVIRONMENTS = CDK_JSON.context.environments as Record<string, unknown>;

/** The app as `cdk synth` builds it: cdk.json's context (feature flags included). */
function synth(name: string) {
  const app = new App({ context: CDK_JSON.context });
  const settings = readEnvironment(ENVIRONMENTS, name);
  const stack = new ScopegateStack(app, `scopegate-${name}`, { env: { account: settings.account, region: settings.region }, settings });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('cdk.json', () => {
  it('sets every feature flag aws-cdk-lib recommends (what `cdk init` writes), authorizerChangeDeploymentLogicalId included', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const recommended = require('aws-cdk-lib/recommended-feature-flags.json') as Record<string, unknown>;
    for (const [flag, value] of Object.entries(recommended)) expect([flag, CDK_JSON.context[flag]]).toEqual([flag, value]);
    expect(CDK_JSON.context['@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId']).toBe(true);
  });

  it('makes an authorizer change (its cache TTL) deploy a new API deployment, so the live stage uses it', () => {
    const deploymentIdWith = (ttlSeconds: number, context: Record<string, unknown>) => {
      const app = new App({ context });
      const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
      const api = new apigw.RestApi(stack, 'Api');
      const authorizer = new ScopeAuthorizer(stack, 'Authz', {
        issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'api' }],
        cacheTtl: Duration.seconds(ttlSeconds),
      });
      authorizer.addMethod(api.root.addResource('x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
      return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'))[0];
    };
    const withFlags = CDK_JSON.context;
    expect(deploymentIdWith(60, withFlags)).not.toBe(deploymentIdWith(120, withFlags));
    // Without the flag aws-cdk-lib alone would keep one deployment for both TTLs
    // (aws-cdk#16554); the construct adds the authorizer to the logical id itself.
    expect(deploymentIdWith(60, {})).not.toBe(deploymentIdWith(120, {}));
  });
});

describe.each(Object.keys(ENVIRONMENTS))('environment %s, synthesized with cdk.json', (name) => {
  const { stack, template } = synth(name);
  const settings = readEnvironment(ENVIRONMENTS, name);

  it('is clean under cdk-nag AwsSolutions with the recommended flags', () => {
    const { app } = synth(name);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('gives each issuer its own rotation alarm, on metrics with that issuer as a dimension', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a).includes(MetricName.AuditErrors),
    );
    expect(alarms).toHaveLength(settings.issuers.length);
    const issuersWatched = alarms.map((alarm) => {
      const metrics = (
        alarm as {
          Properties: { Metrics: { MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } } }[] };
        }
      ).Properties.Metrics;
      const audit = metrics.find((m) => m.MetricStat?.Metric.MetricName === MetricName.AuditErrors)?.MetricStat?.Metric;
      expect(audit?.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: Dimension.Service, Value: Service.RotationChecker },
          { Name: Dimension.Issuer, Value: expect.any(String) },
        ]),
      );
      return audit?.Dimensions.find((d) => d.Name === Dimension.Issuer)?.Value;
    });
    expect(new Set(issuersWatched)).toEqual(new Set(settings.issuers.map((i) => i.issuer)));
  });

  it('alarms on a crashed or missing checker run (FILL, missing data breaches)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      TreatMissingData: 'breaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('FILL\\(failures, 0\\)') })]),
    });
  });

  it('alarms on the authorizer (keys, configuration, errors, throttles) and on the demo API 5xx, each to the topic', () => {
    const alarms = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
    for (const reason of ['keys_unavailable', 'config_unavailable', 'internal_error']) expect(alarms).toContain(`"Value":"${reason}"`);
    expect(alarms).toContain('"MetricName":"Throttles"');
    // The API's 5xx only where the environment deploys the demo API; no introspection alarm without an introspecting issuer.
    expect(alarms.includes('"MetricName":"5XXError"')).toBe(settings.demoApi);
    expect(alarms).not.toContain('introspection_unavailable');
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect((alarm as { Properties: { AlarmActions?: unknown[] } }).Properties.AlarmActions).toHaveLength(1);
    }
  });

  it('lets CloudWatch alarms of this account publish to the topic over TLS, and denies everything without TLS', () => {
    const resolver = new TemplateResolver(template.toJSON() as CfnTemplate, { account: settings.account, region: settings.region });
    const [topicId] = resolver.find('AWS::SNS::Topic');
    const statements: PolicyStatement[] = resolver.resourcePolicyOf('AWS::SNS::TopicPolicy', topicId as string);
    const topicArn = resolver.ref(topicId as string);
    const alarmArn = `arn:aws:cloudwatch:${settings.region}:${settings.account}:alarm:scopegate-keys`;
    const publish = (context: Record<string, string>) =>
      evaluateIam(
        { action: 'sns:Publish', resource: topicArn, principal: { Service: 'cloudwatch.amazonaws.com' }, context },
        [],
        statements,
      );
    const base = { 'aws:SourceAccount': settings.account, 'aws:SourceArn': alarmArn };
    expect(publish({ ...base, 'aws:SecureTransport': 'true' })).toBe('Allow');
    expect(publish({ ...base, 'aws:SecureTransport': 'false' })).toBe('ExplicitDeny');
    expect(publish({ ...base, 'aws:SourceAccount': '999999999999', 'aws:SecureTransport': 'true' })).not.toBe('Allow');
  });

  it('ties the mirror Cache-Control and the edge TTLs to the rotation settings', () => {
    const envs = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {})
      .filter((v) => 'CACHE_CONTROL' in v);
    expect(envs).toHaveLength(settings.issuers.length);
    for (const v of envs) expect(String(v.CACHE_CONTROL)).toContain(`max-age=${settings.rotation.mirrorTtlSeconds},`);
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: settings.rotation.mirrorTtlSeconds, MaxTTL: settings.rotation.maxCacheTtlSeconds }),
    });
  });

  it('keeps the configuration in a Standard SSM parameter (chosen, not Intelligent-Tiering), within its 4 KB', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: `/scopegate/${name}/authorizer-config`,
      Tier: 'Standard',
    });
    expect(stack.authorizer.configurationBytes()).toBeLessThanOrEqual(4096);
  });

  it('points the authorizer at the mirror first and the issuer second', () => {
    const config = new TemplateResolver(template.toJSON() as CfnTemplate, { account: settings.account, region: settings.region });
    const [paramId] = config.find('AWS::SSM::Parameter', (p) => p.Name === `/scopegate/${name}/authorizer-config`);
    const value = JSON.parse(String(config.resolve((template.toJSON() as CfnTemplate).Resources[paramId as string]?.Properties?.Value)));
    for (const [i, issuer] of settings.issuers.entries()) {
      expect(value.issuers[i].jwksUri).toMatch(new RegExp(`^https://d[0-9a-f]+\\.cloudfront\\.net/${issuer.name}/jwks\\.json$`));
      expect(value.issuers[i].jwksFallbackUris).toEqual([issuer.originJwksUri ?? `${issuer.issuer}/.well-known/openid-configuration`]);
    }
  });
});

describe('X-Ray tracing (environments.NAME.tracing)', () => {
  it('turns on active tracing of both functions, and stays clean under cdk-nag', () => {
    const environments = { traced: { ...(ENVIRONMENTS.dev as Record<string, unknown>), tracing: true } };
    const app = new App({ context: { ...CDK_JSON.context, environments } });
    const settings = readEnvironment(environments, 'traced');
    const stack = new ScopegateStack(app, 'scopegate-traced', { env: { account: settings.account, region: settings.region }, settings });
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).filter((f) =>
      /scopegate/.test(String((f as { Properties: { Description?: string } }).Properties.Description)),
    );
    expect(functions.length).toBe(1 + settings.issuers.length);
    for (const f of functions)
      expect((f as { Properties: { TracingConfig?: unknown } }).Properties.TracingConfig).toEqual({ Mode: 'Active' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('is off by default', () => {
    const { template } = synth('dev');
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('TracingConfig');
  });
});

describe('configuration size (SSM: Standard 4 KB, Advanced 8 KB)', () => {
  function authorizerWith(routes: number, tier?: ssm.ParameterTier) {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const api = new apigw.RestApi(stack, 'Api');
    const authorizer = new ScopeAuthorizer(stack, 'Authz', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'api' }],
      parameterTier: tier,
    });
    for (let i = 0; i < routes; i++) {
      authorizer.addMethod(api.root.addResource(`resource-${i}`), 'GET', new apigw.MockIntegration(), { scopes: [`resource-${i}:read`] });
    }
    return { app, authorizer };
  }

  it('fails synth above 4 KB on a Standard parameter, saying what to do', () => {
    const { app, authorizer } = authorizerWith(60);
    expect(authorizer.configurationBytes()).toBeGreaterThan(4096);
    expect(() => app.synth()).toThrow(
      /over the 4096-byte limit of a Standard SSM parameter: set parameterTier: ssm\.ParameterTier\.ADVANCED/,
    );
  });

  it('accepts the same configuration on an Advanced parameter, and fails above 8 KB there', () => {
    const { app } = authorizerWith(60, ssm.ParameterTier.ADVANCED);
    expect(() => app.synth()).not.toThrow();
    const big = authorizerWith(130, ssm.ParameterTier.ADVANCED);
    expect(big.authorizer.configurationBytes()).toBeGreaterThan(8192);
    expect(() => big.app.synth()).toThrow(/over the 8192-byte limit of a Advanced SSM parameter: SSM parameters hold 8 KB at most/);
  });
});

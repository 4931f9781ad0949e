import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../core/config';
import { ConfigErrors } from '../../core/errors';
import { SenderConstraint } from '../../lib/introspection';
import { AuthorizerMode, Unrouted } from '../../lib/scope-authorizer';
import { RouteTable, Scopegate, type ScopegateIssuer, type ScopegateProps, scopegateAccessLogFormat } from '../../lib/scopegate';

const EXAMPLE_ROUTES = join(__dirname, '../../examples/routes.json');
const PETS_API = join(__dirname, '../../examples/pets-api.yaml');
const OPS: ScopegateIssuer = {
  name: 'ops',
  issuer: 'https://idp.example.com/realms/ops',
  audience: 'https://api.example.internal',
  tokenType: 'at+jwt',
};

function stackOf(app = new App()): Stack {
  return new Stack(app, 'Gate', { env: { account: '111111111111', region: 'eu-west-1' } });
}

/** A stack with a Scopegate, synthesized under cdk-nag (AwsSolutions): throws on anything unacknowledged. */
function synthWithNag(props: Partial<ScopegateProps> & { withApi?: boolean }) {
  const app = new App();
  const stack = stackOf(app);
  const api = props.withApi ? loggedApi(stack) : undefined;
  const gate = new Scopegate(stack, 'Scopegate', {
    issuers: [OPS],
    // Below examples/routes.json's step-up (300 s), which a cached Allow must not outlive.
    authorizerOptions: { cacheTtl: Duration.seconds(120) },
    ...props,
    ...(api ? { api, integration: new apigw.MockIntegration() } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { stack, gate, api, template: Template.fromStack(stack) };
}

function loggedApi(stack: Stack): apigw.RestApi {
  const api = new apigw.RestApi(stack, 'Api', {
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'prod',
      accessLogDestination: new apigw.LogGroupLogDestination(new logs.LogGroup(stack, 'AccessLogs')),
      accessLogFormat: scopegateAccessLogFormat(),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      tracingEnabled: true,
    },
  });
  api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
  Validations.of(api).acknowledge({ id: 'AwsSolutions-APIG3', reason: 'A test API.' });
  Validations.of(api).acknowledge({ id: 'AwsSolutions-APIG2', reason: 'A test API.' });
  Validations.of(api).acknowledge({ id: 'AwsSolutions-COG4', reason: 'Guarded by the scopegate Lambda authorizer.' });
  return api;
}

/** The SSM parameter's JSON, with deploy-time values as `<token>`. */
function deployedConfiguration(template: Template): Record<string, unknown> {
  const parameters = Object.values(template.findResources('AWS::SSM::Parameter')) as { Properties: { Value: unknown } }[];
  const value = parameters.find((p) => JSON.stringify(p.Properties.Value).includes('issuers'))?.Properties.Value as
    | string
    | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof value === 'string' ? value : value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return JSON.parse(text);
}

/** The output whose logical id starts with `name` (a construct's outputs carry its path and a hash). */
function outputNamed(template: Template, name: string): { Value: unknown } {
  const matches = Object.entries(template.findOutputs('*')).filter(([id]) => id.startsWith(name));
  expect(matches.map(([id]) => id)).toHaveLength(1);
  return matches[0]?.[1] as { Value: unknown };
}

function policyStatements(template: Template): { Action: string | string[]; Resource: unknown }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('Scopegate: a route table on your API', () => {
  const { template, gate } = synthWithNag({ routes: RouteTable.fromFile(EXAMPLE_ROUTES), withApi: true });

  it('synthesizes cdk-nag clean, one method per route guarded by the authorizer', () => {
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 6);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
  });

  it("deploys the file's route table as the authorizer's configuration, unreachable beyond it (the construct made every method)", () => {
    const config = deployedConfiguration(template);
    expect(config.routes).toEqual(RouteTable.fromFile(EXAMPLE_ROUTES).routeDocuments);
    expect(config.unrouted).toBe('unreachable');
  });

  it('points the authorizer at the mirror first and the issuer (its discovery document) second', () => {
    const [issuer] = deployedConfiguration(template).issuers as { jwksUri: string; jwksFallbackUris: string[] }[];
    expect(issuer?.jwksUri).toBe('https://<token>/ops/jwks.json');
    expect(issuer?.jwksFallbackUris).toEqual(['https://idp.example.com/realms/ops/.well-known/openid-configuration']);
    expect(gate.mirrorUrlOf('ops')).toContain('/ops/jwks.json');
  });

  it('mirrors each issuer (one distribution), with a rotation checker seeded at deploy', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('Custom::Trigger', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
  });

  it('alarms on the authorizer and the API to one topic, and on no introspection when no issuer introspects', () => {
    expect(Object.keys(gate.alarms).sort()).toEqual([
      'Api5xxAlarm',
      'AuthorizerErrorsAlarm',
      'AuthorizerThrottlesAlarm',
      'ConfigUnavailableAlarm',
      'KeysUnavailableAlarm',
    ]);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('introspection_unavailable');
    template.resourceCountIs('AWS::SNS::Topic', 1);
  });

  it("outputs the function's ARN, its log group, the mirror URL and the cache TTL in effect", () => {
    expect(outputNamed(template, 'ScopegateAuthorizerFunctionArn').Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ScopegateScopeAuthorizerFunction/), 'Arn'],
    });
    expect(outputNamed(template, 'ScopegateAuthorizerLogGroupName').Value).toEqual({
      Ref: expect.stringMatching(/^ScopegateScopeAuthorizerFunctionLogs/),
    });
    expect(outputNamed(template, 'ScopegateMirrorUrlOps').Value).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^ScopegateJwksDistribution/), 'DomainName'] }, '/ops/jwks.json'],
      ],
    });
    expect(outputNamed(template, 'ScopegateAuthorizerCacheTtlSeconds').Value).toBe('120');
  });
});

describe('Scopegate: a route table for an API defined elsewhere', () => {
  it('declares the routes in the configuration, denying what no route matches, and makes no API', () => {
    const { template } = synthWithNag({ routes: RouteTable.fromFile(EXAMPLE_ROUTES) });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const config = deployedConfiguration(template);
    expect((config.routes as unknown[]).length).toBe(6);
    expect(config.unrouted).toBe('deny');
  });

  it('reads an OpenAPI document: anyOf, report-only (so uncached) and public operations', () => {
    const { template } = synthWithNag({ routes: RouteTable.fromOpenApi(PETS_API) });
    const config = deployedConfiguration(template);
    expect(config.routes).toEqual(
      expect.arrayContaining([{ method: 'GET', path: '/pets/{petId}', anyOf: [['pets:read'], ['Pets.Read.All']] }]),
    );
    expect(config.policyCacheTtlSeconds).toBe(0);
    expect(outputNamed(template, 'ScopegateAuthorizerCacheTtlSeconds').Value).toBe('0');
  });

  it("gives an OpenAPI table's public operation a method without the authorizer on your API", () => {
    const stack = stackOf();
    const api = new apigw.RestApi(stack, 'Api');
    new Scopegate(stack, 'Gate', {
      issuers: [OPS],
      routes: RouteTable.fromOpenApi(PETS_API),
      api,
      integration: new apigw.MockIntegration(),
    });
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'NONE', HttpMethod: 'GET' }, 1);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 4);
  });
});

describe('Scopegate: every documented setting is deployable', () => {
  const issuer: ScopegateIssuer = {
    ...OPS,
    originJwksUri: 'https://idp.example.com/realms/ops/protocol/openid-connect/certs',
    senderConstraint: SenderConstraint.REQUIRED,
    introspection: {
      endpoint: 'https://idp.example.com/realms/ops/protocol/openid-connect/token/introspect',
      clientId: 'scopegate',
      clientSecretParameter: '/scopegate/prod/introspection-secret',
      cacheMaxAge: Duration.seconds(30),
      timeout: Duration.millis(250),
      tokenPrefix: 'ops_',
    },
  };
  const { template, gate } = synthWithNag({
    issuers: [issuer],
    routes: RouteTable.fromFile(EXAMPLE_ROUTES),
    authorizerOptions: {
      mode: AuthorizerMode.REQUEST,
      unrouted: Unrouted.UNREACHABLE,
      maxTokenSize: Size.kibibytes(16),
      minRsaBits: 3072,
      jwks: {
        maxSize: Size.kibibytes(128),
        timeout: Duration.seconds(2),
        minRefetchInterval: Duration.seconds(30),
        maxAge: Duration.hours(2),
      },
      configurationMaxAge: Duration.minutes(1),
    },
  });
  const config = deployedConfiguration(template);

  it('writes each into the configuration the function reads, which its own validator accepts', () => {
    expect(config).toMatchObject({
      maxTokenBytes: 16384,
      minRsaBits: 3072,
      unrouted: 'unreachable',
      jwks: { maxBytes: 131072, timeoutMs: 2000, minRefetchIntervalSeconds: 30, maxAgeSeconds: 7200 },
    });
    expect((config.issuers as Record<string, unknown>[])[0]).toMatchObject({
      senderConstraint: 'required',
      jwksFallbackUris: ['https://idp.example.com/realms/ops/protocol/openid-connect/certs'],
      introspection: {
        endpoint: 'https://idp.example.com/realms/ops/protocol/openid-connect/token/introspect',
        clientId: 'scopegate',
        clientSecretParameter: '/scopegate/prod/introspection-secret',
        cacheMaxSeconds: 30,
        timeoutMs: 250,
        tokenPrefix: 'ops_',
      },
    });
    const standIn = JSON.parse(JSON.stringify(config).replaceAll('<token>', 'd111111abcdef8.cloudfront.net'));
    expect(() => parseConfig(standIn)).not.toThrow();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ AUTHZ_CONFIG_TTL_SECONDS: '60' }) },
    });
  });

  it("grants the function its introspection secret's parameter, and alarms on introspection failures", () => {
    expect(policyStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:111111111111:parameter/scopegate/prod/introspection-secret'],
          ],
        },
      }),
    );
    expect(Object.keys(gate.alarms)).toContain('IntrospectionUnavailableAlarm');
  });

  it('grants a secret referenced through Parameter Store, and decryption with a customer managed key', () => {
    const stack = stackOf();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new Scopegate(stack, 'Gate', {
      issuers: [
        {
          ...OPS,
          introspection: {
            endpoint: 'https://idp.example.com/introspect',
            clientId: 'scopegate',
            clientSecretParameter: '/aws/reference/secretsmanager/scopegate/introspection',
            parameterEncryptionKey: key,
          },
        },
      ],
    });
    const statements = policyStatements(Template.fromStack(stack));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:111111111111:secret:scopegate/introspection-??????'],
          ],
        },
      }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: key.keyArn }));
  });

  it('grants no secret where no issuer introspects', () => {
    const { template: plain } = synthWithNag({});
    const actions = policyStatements(plain).flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    expect(policyStatements(plain).filter((s) => s.Action === 'ssm:GetParameter')).toEqual([]);
  });
});

describe('Scopegate: mistakes fail synth, all named at once', () => {
  it('refuses http and non-URL issuers for every profile, bad names and duplicates, in one error', () => {
    const stack = stackOf();
    const error = (() => {
      try {
        new Scopegate(stack, 'Gate', {
          issuers: [
            { name: 'Ops', issuer: 'http://idp.example.com', profile: 'cognito', clientIds: ['c'] },
            { name: 'pool', issuer: 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc', profile: 'cognito', clientIds: ['c'] },
            { name: 'pool', issuer: 'https://idp.example.com/b', audience: 'a', originJwksUri: 'http://keys.example.com' },
          ],
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigErrors);
    expect((error as ConfigErrors).errors.map((e) => e.field)).toEqual([
      'issuers[0].name',
      'issuers[0].issuer',
      'issuers[1].issuer',
      'issuers[2].name',
      'issuers[2].originJwksUri',
    ]);
    expect((error as Error).message).toContain('issuers[0].issuer: must be an https URL, got http:');
  });

  it('refuses a required sender constraint on a TOKEN authorizer, which would refuse every token', () => {
    expect(() => new Scopegate(stackOf(), 'Gate', { issuers: [{ ...OPS, senderConstraint: SenderConstraint.REQUIRED }] })).toThrow(
      /issuers\[0\]\.senderConstraint: REQUIRED refuses every token of a TOKEN authorizer/,
    );
  });

  it('needs an integration to make methods of a route table', () => {
    const stack = stackOf();
    const api = new apigw.RestApi(stack, 'Api');
    expect(() => new Scopegate(stack, 'Gate', { issuers: [OPS], routes: RouteTable.fromFile(EXAMPLE_ROUTES), api })).toThrow(
      "integration: is required to add the route table's methods to the API",
    );
  });
});

describe('RouteTable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-routes-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('names every bad row of a file at once, with the authorizer configuration validator', () => {
    const path = file(
      'bad.json',
      JSON.stringify([
        { method: 'GET', path: '/a/{p+}/b', scopes: ['a:read'] },
        { method: 'GET', path: '/ok', scopes: ['ok:read'] },
        { method: 'FETCH', path: '/b', scopes: ['b:read'] },
        { method: 'GET', path: '/c', scopes: ['has space'] },
      ]),
    );
    expect(() => RouteTable.fromFile(path)).toThrow(ConfigErrors);
    try {
      RouteTable.fromFile(path);
    } catch (error) {
      expect((error as ConfigErrors).errors.map((e) => e.field)).toEqual(['routes[0].path', 'routes[2].method', 'routes[3].scopes[0]']);
      expect((error as Error).message).toContain(`${path}: 3 errors`);
    }
  });

  it('reads a list, or an object with routes only', () => {
    expect(RouteTable.fromFile(file('list.json', '[{"method":"GET","path":"/a","scopes":[]}]')).routes).toEqual([
      { method: 'GET', path: '/a', scopes: [] },
    ]);
    expect(
      RouteTable.fromFile(file('object.json', '{"routes":[{"method":"ANY","path":"/a","anyOf":[["x:y"]],"maxAuthAgeSeconds":600}]}'))
        .routes,
    ).toEqual([{ method: 'ANY', path: '/a', anyOf: [['x:y']], maxAuthAge: Duration.seconds(600) }]);
    expect(() => RouteTable.fromFile(file('config.json', '{"issuers":[],"routes":[]}'))).toThrow(
      'issuers: a route table file holds routes only',
    );
  });

  it('reports a JSON syntax error by position, and a missing file', () => {
    expect(() => RouteTable.fromFile(file('broken.json', '[{"method": "GET",\n}]'))).toThrow(
      /not valid JSON: syntax error at line 2, column 1/,
    );
    expect(() => RouteTable.fromFile(join(dir, 'missing.json'))).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('refuses a duplicate route', () => {
    expect(() =>
      RouteTable.fromRoutes([
        { method: 'GET', path: '/a/{x}', scopes: [] },
        { method: 'GET', path: '/a/{y}', scopes: [] },
      ]),
    ).toThrow('routes[1]: GET /a/{y} is the same route as routes[0]');
  });
});

describe('Scopegate.addApi', () => {
  it('guards a second API with its own authorizer, alarms and outputs, through the same mirror', () => {
    const app = new App();
    const stack = stackOf(app);
    const gate = new Scopegate(stack, 'Gate', {
      issuers: [OPS],
      routes: RouteTable.fromFile(EXAMPLE_ROUTES),
      api: loggedApi(stack),
      integration: new apigw.MockIntegration(),
      authorizerOptions: { cacheTtl: Duration.seconds(120) },
    });
    const orders = new apigw.RestApi(stack, 'Orders', {
      cloudWatchRole: false,
      deployOptions: {
        accessLogDestination: new apigw.LogGroupLogDestination(new logs.LogGroup(stack, 'OrdersLogs')),
        accessLogFormat: scopegateAccessLogFormat(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        tracingEnabled: true,
      },
    });
    orders.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
    Validations.of(orders).acknowledge({ id: 'AwsSolutions-APIG3', reason: 'A test API.' });
    Validations.of(orders).acknowledge({ id: 'AwsSolutions-APIG2', reason: 'A test API.' });
    Validations.of(orders).acknowledge({ id: 'AwsSolutions-COG4', reason: 'Guarded by the scopegate Lambda authorizer.' });
    const second = gate.addApi('Orders', {
      routes: RouteTable.fromRoutes([{ method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] }]),
      api: orders,
      integration: new apigw.MockIntegration(),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.resourceCountIs('AWS::ApiGateway::Authorizer', 2);
    expect(second).not.toBe(gate.authorizer);
    expect(second.routeTable()).toEqual([{ method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] }]);
    expect(Object.keys(gate.alarms)).toContain('OrdersKeysUnavailableAlarm');
    expect(outputNamed(t, 'GateOrdersOrdersAuthorizerLogGroupName').Value).toEqual({
      Ref: expect.stringMatching(/^GateOrdersScopeAuthorizerFunctionLogs/),
    });
  });
});

describe('scopegateAccessLogFormat', () => {
  it("logs what API Gateway says of the authorizer and of its answer, and the authorizer's context", () => {
    const format = JSON.parse(scopegateAccessLogFormat().toString());
    expect(format.error).toEqual({ responseType: '$context.error.responseType', message: '$context.error.message' });
    expect(format.authorizer).toMatchObject({
      status: '$context.authorizer.status',
      error: '$context.authorizer.error',
      requestId: '$context.authorizer.requestId',
      integrationLatency: '$context.authorizer.integrationLatency',
      principalId: '$context.authorizer.principalId',
      clientId: '$context.authorizer.clientId',
      scope: '$context.authorizer.scope',
    });
  });
});

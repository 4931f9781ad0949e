import { App, Annotations as CoreAnnotations, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { parseConfig } from '../../core/config';
import { AuthorizerMode, Enforcement, ScopeAuthorizer, Unrouted } from '../../lib/scope-authorizer';
import { testStack } from './helpers';

function build(stack: Stack, options: { cacheTtl?: Duration; scopes?: string[] } = {}) {
  const api = new apigw.RestApi(stack, 'Api');
  const authorizer = new ScopeAuthorizer(stack, 'Authz', {
    issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'https://api.test', tokenType: 'at+jwt' }],
    cacheTtl: options.cacheTtl,
  });
  const mock = new apigw.MockIntegration();
  authorizer.addMethod(api.root.resourceForPath('/telemetry/{sensorId}'), 'GET', mock, { scopes: options.scopes ?? ['telemetry:read'] });
  authorizer.addMethod(api.root.resourceForPath('/system/reboot'), 'POST', mock, {
    scopes: ['system:reboot'],
    maxAuthAge: Duration.minutes(15),
  });
  authorizer.addMethod(api.root.resourceForPath('/items'), 'ANY', mock, { scopes: ['items:all'] });
  return { api, authorizer };
}

describe('ScopeAuthorizer', () => {
  it('deploys a minified ESM Node.js 24 arm64 function that reads its configuration from SSM, without --enable-source-maps', () => {
    const stack = testStack();
    build(stack);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      Handler: 'index.handler',
      // No --enable-source-maps: reading the map costs every cold start (docs/performance.md).
      Environment: { Variables: Match.objectLike({ AUTHZ_CONFIG_PARAMETER: Match.anyValue(), NODE_OPTIONS: Match.absent() }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['ssm:DescribeParameters', 'ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory'] }),
        ]),
      },
    });
  });

  it('creates a TOKEN authorizer on the Authorization header with a Bearer regex and a bounded cache', () => {
    const stack = testStack();
    build(stack, { cacheTtl: Duration.seconds(120) });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$',
      AuthorizerResultTtlInSeconds: 120,
    });
  });

  it('validates Bearer values with its regex as API Gateway would', () => {
    const regex = /^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$/;
    expect(regex.test('Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(true);
    expect(regex.test('bearer abc')).toBe(true);
    expect(regex.test('Basic dXNlcjpwYXNz')).toBe(false);
    expect(regex.test('Bearer two tokens')).toBe(false);
  });

  it('generates the route table from the methods added, with their scopes, and guards each method', () => {
    const stack = testStack();
    const { authorizer } = build(stack);
    const config = authorizer.configuration();
    expect(config.routes).toEqual([
      { method: 'GET', path: '/telemetry/{sensorId}', scopes: ['telemetry:read'] },
      { method: 'POST', path: '/system/reboot', scopes: ['system:reboot'], maxAuthAgeSeconds: 900 },
      { method: '*', path: '/items', scopes: ['items:all'] },
    ]);
    expect(config.policyCacheTtlSeconds).toBe(300);
    expect(() => parseConfig(config)).not.toThrow();
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 3);
    const param = Object.values(t.findResources('AWS::SSM::Parameter'))[0] as { Properties: { Value: string } };
    expect(JSON.parse(param.Properties.Value).routes).toHaveLength(3);
  });

  it('refuses an authorizer cache TTL over 3600 s', () => {
    expect(() => build(testStack(), { cacheTtl: Duration.hours(2) })).toThrow(/3600 s at most/);
  });

  it('fails synth with the field named when a scope is not a valid scope token', () => {
    const app = new App();
    build(new Stack(app, 'Bad'), { scopes: ['has space'] });
    expect(() => app.synth()).toThrow(/routes\[0\]\.scopes\[0\]/);
  });
});

describe('ScopeAuthorizer and step-up', () => {
  it('fails synth when a step-up route could never be allowed under the cache TTL', () => {
    const app = new App();
    const stack = new Stack(app, 'StepUp');
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }],
      cacheTtl: Duration.seconds(300),
    });
    authz.addMethod(api.root.resourceForPath('/system/reboot'), 'POST', new apigw.MockIntegration(), {
      scopes: ['system:reboot'],
      maxAuthAge: Duration.minutes(5),
    });
    expect(() => app.synth()).toThrow(/maxAuthAgeSeconds \(300\) must exceed the authorizer cache TTL \(300 s\)/);
  });
});

describe('ScopeAuthorizer in request mode', () => {
  it('creates an uncached REQUEST authorizer on the Authorization header only, so plain Bearer requests reach it and no DPoP answer is reused', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }],
      mode: AuthorizerMode.REQUEST,
    });
    authz.addMethod(api.root.resourceForPath('/telemetry'), 'GET', new apigw.MockIntegration(), { scopes: ['telemetry:read'] });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(authz.configuration()).toMatchObject({ policyCacheTtlSeconds: 0 });
  });

  it('refuses a cache TTL in request mode', () => {
    const stack = testStack();
    expect(
      () =>
        new ScopeAuthorizer(stack, 'Authz', {
          issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }],
          mode: AuthorizerMode.REQUEST,
          cacheTtl: Duration.seconds(300),
        }),
    ).toThrow(/mode 'request' caches nothing/);
  });
});

describe('ScopeAuthorizer gateway responses', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];

  it('adds CORS headers to each of its responses when asked, so browsers can read them', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers,
      gatewayResponses: { corsAllowOrigin: 'https://app.example.com', retryAfter: Duration.seconds(30) },
    });
    authz.addMethod(api.root.resourceForPath('/x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'ACCESS_DENIED',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'Bearer error="insufficient_scope"'`,
        'gatewayresponse.header.Access-Control-Allow-Origin': `'https://app.example.com'`,
        'gatewayresponse.header.Access-Control-Expose-Headers': `'WWW-Authenticate,Retry-After'`,
      },
    });
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'AUTHORIZER_CONFIGURATION_ERROR',
      StatusCode: '503',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': `'30'` }),
    });
  });

  it('sends Retry-After only with the 503 of a function failure, not with AUTHORIZER_FAILURE', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    new ScopeAuthorizer(stack, 'Authz', { issuers }).addMethod(api.root, 'GET', new apigw.MockIntegration(), { scopes: [] });
    const responses = Object.values(Template.fromStack(stack).findResources('AWS::ApiGateway::GatewayResponse')) as {
      Properties: { ResponseType: string; StatusCode: string; ResponseParameters?: Record<string, string> };
    }[];
    const withRetry = responses.filter((r) => r.Properties.ResponseParameters?.['gatewayresponse.header.Retry-After'] !== undefined);
    expect(withRetry.map((r) => `${r.Properties.ResponseType} ${r.Properties.StatusCode}`)).toEqual(['AUTHORIZER_CONFIGURATION_ERROR 503']);
    expect(responses.find((r) => r.Properties.ResponseType === 'AUTHORIZER_FAILURE')?.Properties.StatusCode).toBe('500');
  });

  it('leaves gateway responses to the user with gatewayResponses: false', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    new ScopeAuthorizer(stack, 'Authz', { issuers, gatewayResponses: false }).addMethod(api.root, 'GET', new apigw.MockIntegration(), {
      scopes: [],
    });
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::GatewayResponse', 0);
  });

  it('applies them once per API however many methods it guards', () => {
    const stack = testStack();
    build(stack);
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
  });

  it('refuses to guard a second API: the route table and the policy are one API’s', () => {
    const stack = testStack();
    const { authorizer } = build(stack);
    const other = new apigw.RestApi(stack, 'Other');
    expect(() =>
      authorizer.addMethod(other.root.resourceForPath('/y'), 'GET', new apigw.MockIntegration(), { scopes: ['y:read'] }),
    ).toThrow(/already guards Test\/Api; create one ScopeAuthorizer per API/);
  });
});

describe('ScopeAuthorizer report-only rollout', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];
  const ttlOf = (stack: Stack, api: apigw.RestApi) =>
    stack.resolve(
      (api.node.findChild('Scopegate').node.findChild('Authorizer').node.defaultChild as apigw.CfnAuthorizer).authorizerResultTtlInSeconds,
    );

  it('writes enforcement: report-only for the whole API and turns the authorizer cache off', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers, enforcement: Enforcement.REPORT_ONLY, cacheTtl: Duration.seconds(300) });
    authz.addMethod(api.root.resourceForPath('/x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
    expect(authz.configuration()).toMatchObject({ enforcement: 'report-only', policyCacheTtlSeconds: 0 });
    expect(authz.routeTable()).toEqual([{ method: 'GET', path: '/x', scopes: ['x:read'] }]);
    expect(ttlOf(stack, api)).toBe(0);
  });

  it('writes a per-route mode, and turns the cache off while any route is report-only', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers, cacheTtl: Duration.seconds(300) });
    authz.addMethod(api.root.resourceForPath('/x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
    expect(ttlOf(stack, api)).toBe(300);
    authz.addMethod(api.root.resourceForPath('/x'), 'POST', new apigw.MockIntegration(), {
      scopes: ['x:write'],
      enforcement: Enforcement.REPORT_ONLY,
    });
    expect(authz.routeTable()).toEqual([
      { method: 'GET', path: '/x', scopes: ['x:read'] },
      { method: 'POST', path: '/x', scopes: ['x:write'], enforcement: 'report-only' },
    ]);
    expect(authz.configuration().enforcement).toBeUndefined();
    expect(authz.cacheTtlSeconds).toBe(0);
    expect(ttlOf(stack, api)).toBe(0);
  });

  it('keeps the HTTP API authorizer cache off too while a route is report-only', () => {
    const stack = testStack();
    const api = new apigwv2.HttpApi(stack, 'Http');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers, enforcement: Enforcement.REPORT_ONLY });
    authz.addHttpRoutes(api, {
      path: '/x',
      methods: [apigwv2.HttpMethod.GET],
      integration: new HttpUrlIntegration('X', 'https://backend.test/x'),
      scopes: ['x:read'],
    });
    const cfn = stack.node.findAll().find((c) => c instanceof apigwv2.CfnAuthorizer) as apigwv2.CfnAuthorizer;
    expect(stack.resolve(cfn.authorizerResultTtlInSeconds)).toBe(0);
  });
});

describe('ScopeAuthorizer and the policy proof', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];
  const ttlOf = (stack: Stack, api: apigw.RestApi) =>
    stack.resolve(
      (api.node.findChild('Scopegate').node.findChild('Authorizer').node.defaultChild as apigw.CfnAuthorizer).authorizerResultTtlInSeconds,
    );
  /** GET /telemetry/{id} beside GET /telemetry/{id}/history: with unrouted requests denied, a token with both has no exact cached policy. */
  function telemetry(props: { unrouted?: Unrouted; acceptOverDeny?: boolean } = {}) {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers, cacheTtl: Duration.seconds(300), unrouted: props.unrouted });
    const mock = new apigw.MockIntegration();
    authz.addMethod(api.root.resourceForPath('/telemetry/{id}'), 'GET', mock, { scopes: ['telemetry:read'] });
    authz.addMethod(api.root.resourceForPath('/telemetry/{id}/history'), 'GET', mock, {
      scopes: ['telemetry:history'],
      acceptOverDeny: props.acceptOverDeny,
    });
    return { stack, api, authz };
  }

  it('deploys TTL 0 with the scopegate:uncached warning, naming the token and the request, when a route set has no exact cached policy', () => {
    const { stack, api, authz } = telemetry({ unrouted: Unrouted.DENY });
    expect(ttlOf(stack, api)).toBe(0);
    expect(authz.configuration()).toMatchObject({ policyCacheTtlSeconds: 0, unrouted: 'deny' });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('deployed with authorizer cache TTL 0'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.entry.data)).toMatch(
      /instead of 300 s: no exact cached policy exists for a token with telemetry:history telemetry:read \(GET \/telemetry\/\S+ is denied, yet the token satisfies GET \/telemetry\/\{id\}/,
    );
    expect(JSON.stringify(warnings[0]?.entry.data)).toContain('[ack: scopegate:uncached]');
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  it('keeps the cache when the API has no resource beyond the route table, or when the over-denied route accepts it', () => {
    for (const props of [{}, { unrouted: Unrouted.DENY, acceptOverDeny: true }]) {
      const { stack, api } = telemetry(props);
      expect(ttlOf(stack, api)).toBe(300);
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cache TTL 0'))).toEqual([]);
      Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    }
  });

  it('warns with scopegate:proofPartial, saying what it covered, when the proof cannot check every route set', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers });
    // 13 independent scopes: 8 192 route sets, twice what the proof checks.
    for (let i = 0; i < 13; i++) {
      authz.addMethod(api.root.resourceForPath(`/r${i}`), 'GET', new apigw.MockIntegration(), { scopes: [`r${i}:read`] });
    }
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('did not check every set of routes'));
    expect(warnings).toHaveLength(1);
    const text = JSON.stringify(warnings[0]?.entry.data);
    expect(text).toContain('[ack: scopegate:proofPartial]');
    expect(text).toContain('covered: every route set of a token that combines up to');
    expect(ttlOf(stack, api)).toBe(300);
  });
});

describe('ScopeAuthorizer and OpenAPI exports', () => {
  it("declares an imported API's routes from its OpenAPI export, public operations with no scopes", () => {
    const authz = new ScopeAuthorizer(testStack(), 'Authz', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }],
    });
    authz.addRoutesFromOpenApi({
      openapi: '3.0.1',
      info: { title: 'export', version: '1' },
      components: { securitySchemes: { oauth: { type: 'oauth2', flows: {} } } },
      paths: {
        '/orders': { get: { security: [{ oauth: ['orders:read'] }] } },
        '/status': { get: { security: [] } },
      },
    });
    expect(authz.routeTable()).toEqual([
      { method: 'GET', path: '/orders', scopes: ['orders:read'] },
      { method: 'GET', path: '/status', scopes: [] },
    ]);
  });
});

describe('ScopeAuthorizer across stacks', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];
  const document = {
    openapi: '3.0.3',
    info: { title: 'x', version: '1' },
    components: { securitySchemes: { oauth: { type: 'oauth2', flows: {} } } },
    paths: { '/orders': { get: { security: [{ oauth: ['orders:read'] }] } } },
  };

  it.each([
    ['an OpenAPI document', (authz: ScopeAuthorizer, stack: Stack) => authz.specRestApi(stack, 'Api', { document })],
    [
      'an HTTP API',
      (authz: ScopeAuthorizer, stack: Stack) =>
        authz.addHttpRoutes(new apigwv2.HttpApi(stack, 'Api'), {
          path: '/orders',
          methods: [apigwv2.HttpMethod.GET],
          integration: new HttpUrlIntegration('Orders', 'https://backend.test/orders'),
          scopes: ['orders:read'],
        }),
    ],
  ])('guards %s in another stack without a reference cycle, the invoke permission in the API stack', (_name, attach) => {
    const app = new App();
    const env = { account: '111111111111', region: 'eu-west-1' };
    const authStack = new Stack(app, 'Auth', { env });
    const apiStack = new Stack(app, 'Apis', { env });
    const authz = new ScopeAuthorizer(authStack, 'Authz', { issuers });
    attach(authz, apiStack);
    app.synth();
    expect(apiStack.dependencies).toContain(authStack);
    expect(authStack.dependencies).not.toContain(apiStack);
    Template.fromStack(apiStack).resourceCountIs('AWS::Lambda::Permission', 1);
    Template.fromStack(authStack).resourceCountIs('AWS::Lambda::Permission', 0);
  });
});

describe('ScopeAuthorizer props: time as Duration, size as Size', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];

  it('writes clockTolerance and maxAuthAge as the configuration seconds, and memorySize as the function MiB', () => {
    const stack = testStack();
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers,
      clockTolerance: Duration.minutes(1),
      memorySize: Size.mebibytes(512),
      cacheTtl: Duration.seconds(60),
    });
    authz.addMethod(api.root.resourceForPath('/reboot'), 'POST', new apigw.MockIntegration(), {
      scopes: ['system:reboot'],
      maxAuthAge: Duration.minutes(10),
    });
    expect(authz.configuration()).toMatchObject({
      clockToleranceSeconds: 60,
      routes: [{ method: 'POST', path: '/reboot', scopes: ['system:reboot'], maxAuthAgeSeconds: 600 }],
    });
    expect(authz.timeout.toSeconds()).toBe(10);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 10 });
  });

  it('defaults to 30 s of clock tolerance and 256 MiB', () => {
    const stack = testStack();
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers });
    authz.addRoutes([{ method: 'GET', path: '/x', scopes: ['x:read'] }]);
    expect(authz.configuration().clockToleranceSeconds).toBe(30);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
  });

  it('shows every configuration warning at synth as a warning on the construct, with an id per field that acknowledges it alone', () => {
    const warnedStack = (acknowledge?: string) => {
      const stack = testStack();
      const authorizer = new ScopeAuthorizer(stack, 'Authz', {
        issuers: [{ issuer: 'https://acme.okta.com', profile: 'okta', audience: 'api://default', clientIds: ['0oa1webclient0000000'] }],
      });
      authorizer.addMethod(new apigw.RestApi(stack, 'Api').root.resourceForPath('/admin'), 'GET', new apigw.MockIntegration(), {
        scopes: ['admin'],
      });
      if (acknowledge !== undefined) CoreAnnotations.of(stack).acknowledgeWarning(acknowledge);
      return stack;
    };
    const { warnings } = parseConfig({
      issuers: [{ issuer: 'https://acme.okta.com', profile: 'okta', audience: 'api://default', clientIds: ['0oa1webclient0000000'] }],
      routes: [{ method: 'GET', path: '/admin', scopes: ['admin'] }],
    });
    expect(warnings).toHaveLength(2);
    const shown = Annotations.fromStack(warnedStack()).findWarning('*', Match.anyValue());
    const texts = shown.map((w) => String(w.entry.data));
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^issuers\[0\]: https:\/\/acme\.okta\.com looks like the Okta org authorization server.* \[ack: scopegate:config:issuers\[0\]\]$/,
        ),
        `${warnings.find((w) => w.startsWith('routes'))} [ack: scopegate:config:routes[0].scopes[0]]`,
      ]),
    );
    for (const w of shown) expect(w.id).toBe('/Test/Authz');
    const acknowledged = Annotations.fromStack(warnedStack('scopegate:config:routes[0].scopes[0]')).findWarning('*', Match.anyValue());
    expect(acknowledged.map((w) => String(w.entry.data))).toEqual([expect.stringContaining('[ack: scopegate:config:issuers[0]]')]);
  });
});

/** The logical id of the one API Gateway deployment of `stack`. */
function deploymentIdOf(stack: Stack): string {
  const ids = Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('ScopeAuthorizer.deploy on an imported REST API: a new deployment exactly when the stage would serve something new', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];
  interface Variant {
    scopes?: string[];
    integrationUrl?: string;
    extraMethod?: boolean;
    retryAfter?: Duration;
    corsAllowOrigin?: string;
    cacheTtl?: Duration;
    enforcement?: Enforcement;
  }
  /** An imported API with a method added on an existing resource and declared routes, deployed to prod. */
  const deploymentId = (v: Variant = {}) => {
    const stack = testStack();
    const api = apigw.RestApi.fromRestApiAttributes(stack, 'Api', { restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t' });
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers,
      cacheTtl: v.cacheTtl,
      gatewayResponses: { retryAfter: v.retryAfter, corsAllowOrigin: v.corsAllowOrigin },
    });
    const telemetry = apigw.Resource.fromResourceAttributes(stack, 'Telemetry', { restApi: api, resourceId: 'tlm', path: '/telemetry' });
    const backend = new apigw.HttpIntegration(v.integrationUrl ?? 'https://backend.test/telemetry', { proxy: true });
    authz.deploy(api, { stageName: 'prod' });
    // Methods added after deploy() count too.
    authz.addMethod(telemetry, 'POST', backend, { scopes: v.scopes ?? ['telemetry:write'], enforcement: v.enforcement });
    if (v.extraMethod) authz.addMethod(telemetry.addResource('{sensorId}'), 'GET', backend, { scopes: ['telemetry:read'] });
    authz.addRoutes([{ method: 'GET', path: '/telemetry', scopes: ['telemetry:read'] }]);
    return deploymentIdOf(stack);
  };

  it('keeps the deployment when only scopes change: they live in SSM, and a deployment would publish what the owner has pending', () => {
    expect(deploymentId({ scopes: ['telemetry:write'] })).toBe(deploymentId({ scopes: ['telemetry:admin'] }));
  });

  it('makes a new deployment when a method changes (its integration) or is added', () => {
    const base = deploymentId();
    expect(deploymentId({ integrationUrl: 'https://backend-v2.test/telemetry' })).not.toBe(base);
    expect(deploymentId({ extraMethod: true })).not.toBe(base);
  });

  it('makes a new deployment when a gateway response changes (retryAfter, corsAllowOrigin), so it goes live', () => {
    const base = deploymentId();
    expect(deploymentId({ retryAfter: Duration.seconds(30) })).not.toBe(base);
    expect(deploymentId({ corsAllowOrigin: 'https://app.example.com' })).not.toBe(base);
  });

  it('makes a new deployment when the authorizer changes: its cache TTL, or report-only turning the cache off', () => {
    const base = deploymentId({ cacheTtl: Duration.seconds(300) });
    expect(deploymentId({ cacheTtl: Duration.seconds(60) })).not.toBe(base);
    expect(deploymentId({ cacheTtl: Duration.seconds(300), enforcement: Enforcement.REPORT_ONLY })).not.toBe(base);
  });

  it('deploys after the gateway responses and methods, even when deploy() comes before the first addMethod', () => {
    const stack = testStack();
    const api = apigw.RestApi.fromRestApiAttributes(stack, 'Api', { restApiId: 'a1b2c3d4e5', rootResourceId: 'r00t' });
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers });
    authz.deploy(api, { stageName: 'prod' });
    authz.addMethod(api.root.addResource('x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
    const t = Template.fromStack(stack);
    const deployment = Object.values(t.findResources('AWS::ApiGateway::Deployment'))[0] as { DependsOn: string[] };
    const expected = [
      ...Object.keys(t.findResources('AWS::ApiGateway::GatewayResponse')),
      ...Object.keys(t.findResources('AWS::ApiGateway::Method')),
    ];
    expect(expected).toHaveLength(5);
    expect(deployment.DependsOn).toEqual(expect.arrayContaining(expected));
  });
});

describe('ScopeAuthorizer in an app without the authorizerChangeDeploymentLogicalId feature flag (aws-cdk#16554)', () => {
  const issuers = [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'a' }];
  /** A RestApi guarded in a fresh app with no context at all: the flag off. */
  const deploymentId = (props: { enforcement?: Enforcement; cacheTtl?: Duration; mode?: AuthorizerMode }) => {
    const app = new App();
    expect(app.node.tryGetContext('@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId')).toBeUndefined();
    const stack = new Stack(app, 'NoFlag', { env: { account: '111111111111', region: 'eu-west-1' } });
    const api = new apigw.RestApi(stack, 'Api');
    const authz = new ScopeAuthorizer(stack, 'Authz', { issuers, ...props });
    authz.addMethod(api.root.resourceForPath('/x'), 'GET', new apigw.MockIntegration(), { scopes: ['x:read'] });
    return deploymentIdOf(stack);
  };

  it('redeploys the stage when report-only is switched on or off (cache TTL 300 s <-> 0)', () => {
    expect(deploymentId({ enforcement: Enforcement.REPORT_ONLY })).not.toBe(deploymentId({ enforcement: Enforcement.ENFORCE }));
  });

  it('redeploys the stage when the cache TTL or the mode changes', () => {
    expect(deploymentId({ cacheTtl: Duration.seconds(60) })).not.toBe(deploymentId({ cacheTtl: Duration.seconds(120) }));
    expect(deploymentId({ cacheTtl: Duration.seconds(0) })).not.toBe(
      deploymentId({ cacheTtl: Duration.seconds(0), mode: AuthorizerMode.REQUEST }),
    );
  });

  it('keeps the deployment when nothing the stage serves changed', () => {
    expect(deploymentId({})).toBe(deploymentId({}));
  });
});

describe('ScopeAuthorizer.addHttpRoutes on an imported HTTP API', () => {
  it('adds the routes and the Lambda authorizer to the API by its id', () => {
    const stack = testStack();
    const api = apigwv2.HttpApi.fromHttpApiAttributes(stack, 'Http', { httpApiId: 'h77p4p1' });
    const authz = new ScopeAuthorizer(stack, 'Authz', {
      issuers: [{ issuer: 'https://idp.test', jwksUri: 'https://keys.test/k', audience: 'a' }],
    });
    const routes = authz.addHttpRoutes(api, {
      path: '/orders/{id}',
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.DELETE],
      integration: new HttpUrlIntegration('Orders', 'https://backend.test/orders'),
      scopes: ['orders:read'],
    });
    expect(routes).toHaveLength(2);
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { ApiId: 'h77p4p1', AuthorizationType: 'CUSTOM' }, 2);
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'DELETE /orders/{id}' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: 'h77p4p1',
      IdentitySource: ['$request.header.Authorization', '$context.routeKey'],
    });
    t.resourceCountIs('AWS::Lambda::Permission', 1);
    expect(authz.routeTable()).toEqual([
      { method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] },
      { method: 'DELETE', path: '/orders/{id}', scopes: ['orders:read'] },
    ]);
  });
});

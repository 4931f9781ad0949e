import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { readRouteConfig } from '../../cli/verify';
import * as policy from '../../core/policy';
import * as imported from '../../examples/imported';
import * as openapi from '../../examples/openapi';
import * as otherStack from '../../examples/other-stack';
import * as sameStack from '../../examples/same-stack';
import { ScopeAuthorizer } from '../../lib/scope-authorizer';
import { proveRouteTable } from '../../proof/prove';

const ISSUER = { issuer: 'https://idp.test', jwksUri: 'https://keys.test/jwks.json', audience: 'https://api.test' };

describe('ScopeAuthorizer runs the policy proof at synth', () => {
  afterEach(() => jest.restoreAllMocks());

  function usersApi() {
    const stack = new Stack(new App(), 'Proof', { env: { account: '111111111111', region: 'eu-west-1' } });
    const api = new apigw.RestApi(stack, 'Api', { cloudWatchRole: false });
    const authorizer = new ScopeAuthorizer(stack, 'Scopes', { issuers: [ISSUER] });
    const mock = new apigw.MockIntegration();
    authorizer.addMethod(api.root.resourceForPath('/users/{id}'), 'GET', mock, { scopes: ['users:read'] });
    authorizer.addMethod(api.root.resourceForPath('/users/admin'), 'GET', mock, { scopes: ['admin:read'] });
    return stack;
  }

  it('synthesizes a route table whose policies are proven', () => {
    expect(() => Template.fromStack(usersApi())).not.toThrow();
  });

  it('fails synth naming the request, the route and the token when the compiler drops its Deny statements', () => {
    const real = policy.compilePolicy;
    jest
      .spyOn(policy, 'compilePolicy')
      .mockImplementation((routes, isAllowed, options) => ({ ...real(routes, isAllowed, options), deny: [] }));
    expect(() => Template.fromStack(usersApi())).toThrow(
      'policy proof (sound): GET /users/admin is allowed for a token without admin:read (the request reaches GET /users/admin); token with users:read',
    );
  });
});

describe("the examples' route tables", () => {
  it.each([
    ['same-stack', sameStack.build],
    ['other-stack', otherStack.build],
    ['imported', imported.build],
    ['openapi', openapi.build],
  ])('%s: proven over every route set a token can satisfy', (_name, build) => {
    const { authorizer } = build(new App());
    const config = readRouteConfig({ routes: authorizer.routeTable(), policyCacheTtlSeconds: authorizer.cacheTtlSeconds });
    const report = proveRouteTable(config.routes, { policyCacheTtlSeconds: config.policyCacheTtlSeconds, unrouted: authorizer.unrouted });
    expect(report.cases.flatMap((c) => c.counterexamples)).toEqual([]);
    expect(report.exhaustive).toBe(true);
    expect(report.proven).toBe(true);
  });
});

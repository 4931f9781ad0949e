import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { parseConfig } from '../../core/config';
import { cognitoIssuerConfig, cognitoIssuerUrl } from '../../lib/cognito-issuer';
import { readEnvironment } from '../../lib/environment';
import { ScopeAuthorizer } from '../../lib/scope-authorizer';
import { ScopegateStack } from '../../lib/scopegate-stack';
import { testStack } from './helpers';

/** The authorizer configuration a synthesized SSM parameter holds, with deploy-time values as `<Ref:Id>`. */
function configurationOf(template: Template): Record<string, unknown> {
  const parameters = Object.values(template.findResources('AWS::SSM::Parameter')) as { Properties: { Value: unknown } }[];
  const parameter = parameters.find((p) => JSON.stringify(p.Properties.Value).includes('issuers'));
  const value = parameter?.Properties.Value as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof value === 'string'
      ? value
      : value['Fn::Join'][1]
          .map((part) => {
            if (typeof part === 'string') return part;
            const ref = (part as { Ref?: string }).Ref;
            if (ref !== undefined) return `<Ref:${ref.replace(/[0-9A-F]{8}$/, '')}>`;
            const getAtt = (part as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
            return `<GetAtt:${getAtt?.[0]?.replace(/[0-9A-F]{8}$/, '')}.${getAtt?.[1]}>`;
          })
          .join('');
  return JSON.parse(text);
}

describe('Cognito user pools as issuers of the ScopeAuthorizer', () => {
  it('derives issuer, profile and clientIds from an IUserPool and its IUserPoolClients', () => {
    const stack = testStack();
    const userPool = new cognito.UserPool(stack, 'Pool');
    const web = userPool.addClient('Web');
    const daemon = userPool.addClient('Daemon', { generateSecret: true, oAuth: { flows: { clientCredentials: true } } });
    const authorizer = new ScopeAuthorizer(stack, 'Authz', { issuers: [{ userPool, clients: [web, daemon] }] });
    const api = new apigw.RestApi(stack, 'Api');
    authorizer.addMethod(api.root.resourceForPath('/telemetry'), 'GET', new apigw.MockIntegration(), { scopes: ['telemetry/read'] });

    const config = configurationOf(Template.fromStack(stack));
    expect(config.issuers).toEqual([
      {
        // CloudFormation's ProviderName: cognito-idp.{region}.amazonaws.com/{userPoolId}
        issuer: 'https://<GetAtt:Pool.ProviderName>',
        profile: 'cognito',
        clientIds: ['<Ref:PoolWeb>', '<Ref:PoolDaemon>'],
      },
    ]);
    // The node validation (which parses the configuration) found nothing wrong.
    expect(stack.node.validate()).toEqual([]);
  });

  it('takes an imported pool and clients, a mirror jwksUri and extra permission claims', () => {
    const stack = testStack();
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbCdEf123');
    const client = cognito.UserPoolClient.fromUserPoolClientId(stack, 'Client', '4example2m1e5hsfl9vvjgdr3r');
    const issuer = cognitoIssuerConfig({
      userPool,
      clients: [client],
      jwksUri: 'https://d111.cloudfront.net/pool/jwks.json',
      scopeClaim: ['scope', 'cognito:groups'],
    });
    expect(issuer).toMatchObject({
      profile: 'cognito',
      clientIds: ['4example2m1e5hsfl9vvjgdr3r'],
      scopeClaim: ['scope', 'cognito:groups'],
    });
    expect(stack.resolve(issuer.issuer)).toEqual({
      'Fn::Join': ['', ['https://cognito-idp.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/eu-west-1_AbCdEf123']],
    });
  });

  it('refuses a user pool issuer without app clients (Cognito access tokens have no aud)', () => {
    const stack = testStack();
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbCdEf123');
    expect(() => cognitoIssuerConfig({ userPool, clients: [] })).toThrow('needs at least one app client');
  });
});

describe('cdk.json environments naming a user pool', () => {
  const base = { account: '111111111111', region: 'eu-west-1', routes: join(__dirname, '../../examples/routes.json') };

  it('derive the issuer and the cognito profile from userPoolId, with clientIds and no audience', () => {
    const settings = readEnvironment(
      { dev: { ...base, issuers: [{ name: 'pool', userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['4example2m1e5hsfl9vvjgdr3r'] }] } },
      'dev',
    );
    expect(settings.issuers[0]).toMatchObject({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
      profile: 'cognito',
      audience: [],
      clientIds: ['4example2m1e5hsfl9vvjgdr3r'],
    });
    // What the stack hands the authorizer parses, and the key set follows from the issuer.
    const issuer = settings.issuers[0] as NonNullable<(typeof settings.issuers)[0]>;
    const parsed = parseConfig({
      issuers: [{ issuer: issuer.issuer, profile: issuer.profile, clientIds: issuer.clientIds }],
      routes: [],
    }).config;
    expect(parsed.issuers[0]?.jwksUri).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json');
  });

  it.each([
    [{ name: 'pool', userPoolId: 'eu-west-1_AbC' }, 'issuers[0].clientIds: is required with userPoolId (the app client ids)'],
    [{ name: 'pool', userPoolId: 'AbC', clientIds: ['c'] }, 'issuers[0].userPoolId: "AbC" is not a Cognito user pool id'],
    [
      { name: 'pool', issuer: 'https://idp.test' },
      "issuers[0].audience: is required (the API's identifier, which the token's aud must contain); only the cognito profile goes without",
    ],
    [
      { name: 'pool', issuer: 'https://idp.test', audience: 'a', profile: 'ping' },
      'issuers[0].profile: must be one of rfc9068, cognito, entra, okta, auth0, keycloak, oidc',
    ],
  ])('name the bad setting: %j', (issuer, message) => {
    expect(() => readEnvironment({ dev: { ...base, issuers: [issuer] } }, 'dev')).toThrow(`environments.dev.${message}`);
  });

  it('reach the deployed configuration: the stack hands the authorizer the pool as a cognito issuer, without audience', () => {
    const settings = readEnvironment(
      {
        dev: {
          ...base,
          authorizerCacheTtlSeconds: 60,
          issuers: [{ name: 'pool', userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['4example2m1e5hsfl9vvjgdr3r'] }],
        },
      },
      'dev',
    );
    const stack = new ScopegateStack(new App(), 'scopegate-dev', { env: { account: base.account, region: base.region }, settings });
    const config = configurationOf(Template.fromStack(stack));
    expect(config.issuers).toEqual([
      expect.objectContaining({
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
        profile: 'cognito',
        clientIds: ['4example2m1e5hsfl9vvjgdr3r'],
        jwksFallbackUris: ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/openid-configuration'],
      }),
    ]);
    expect((config.issuers as Record<string, unknown>[])[0]).not.toHaveProperty('audience');
    expect(stack.node.validate()).toEqual([]);
  });

  it('builds the issuer URL of a user pool id in its region', () => {
    expect(cognitoIssuerUrl('us-gov-west-1_Xyz9')).toBe('https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_Xyz9');
  });
});

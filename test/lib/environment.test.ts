import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigErrors } from '../../core/errors';
import { readEnvironment } from '../../lib/environment';
import { AuthorizerMode } from '../../lib/scope-authorizer';
import { RouteTable } from '../../lib/scopegate';
import { ScopegateStack } from '../../lib/scopegate-stack';
import { ENVIRONMENTS } from './helpers';

const ROOT = join(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CDK_JSON = require('../../cdk.json') as { context: Record<string, unknown> };
const prod = ENVIRONMENTS.prod as Record<string, unknown> & { issuers: Record<string, unknown>[] };
const dev = ENVIRONMENTS.dev as Record<string, unknown>;

/** The errors `readEnvironment` reports for environment `name` of `environments`, as `field: message` lines. */
function errorsOf(environments: Record<string, unknown>, name: string): string[] {
  try {
    readEnvironment(environments, name, ROOT);
  } catch (error) {
    if (error instanceof ConfigErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  return [];
}

function stackFor(environments: Record<string, unknown>, name: string) {
  const settings = readEnvironment(environments, name, ROOT);
  const stack = new ScopegateStack(new App(), `scopegate-${name}`, {
    env: { account: settings.account, region: settings.region },
    settings,
  });
  return { settings, stack, template: Template.fromStack(stack) };
}

describe('cdk.json environments: every key checked, every error at once', () => {
  it('names an unknown key and its environment, with the key it most likely misspells', () => {
    const errors = errorsOf({ prod: { ...prod, alarmEmial: 'oncall@example.com' } }, 'prod');
    expect(errors).toEqual([
      expect.stringMatching(/^environments\.prod\.alarmEmial: unknown key; did you mean "alarmEmail"\? \(known: account, /),
    ]);
  });

  it('reports every error of the environment in one run, each naming the environment and the key', () => {
    const errors = errorsOf(
      {
        prod: {
          ...prod,
          alarmEmial: 'oncall@example.com',
          authorizerCacheTTLSeconds: 60,
          clockToleranceSeconds: 301,
          jwks: { timeoutMs: 5 },
          rotation: { scheduleMinute: 5 },
          issuers: [
            { ...prod.issuers[0], algorithms: ['HS256'] },
            { ...prod.issuers[1], issuer: 'http://login.partners.example.com' },
          ],
        },
      },
      'prod',
    );
    expect(errors).toEqual([
      expect.stringMatching(/^environments\.prod\.alarmEmial: unknown key; did you mean "alarmEmail"\?/),
      expect.stringMatching(/^environments\.prod\.authorizerCacheTTLSeconds: unknown key; did you mean "authorizerCacheTtlSeconds"\?/),
      'environments.prod.clockToleranceSeconds: must be an integer from 0 to 300',
      'environments.prod.jwks.timeoutMs: must be an integer from 100 to 9000',
      'environments.prod.issuers[0].algorithms[0]: HS256 is refused: a resource server must not accept symmetric or unsigned tokens',
      'environments.prod.issuers[1].issuer: must be an https URL, got http:',
      expect.stringMatching(/^environments\.prod\.rotation\.scheduleMinute: unknown key; did you mean "scheduleMinutes"\?/),
    ]);
  });

  it('says so in one message, which `cdk synth` prints', () => {
    expect(() => readEnvironment({ prod: { ...prod, alarmEmial: 'x', tracing: 'yes' } }, 'prod', ROOT)).toThrow(
      /^environment "prod" of cdk\.json: 2 errors\n {2}- environments\.prod\.alarmEmial: unknown key[^\n]*\n {2}- environments\.prod\.tracing: must be true or false$/,
    );
  });

  it.each([
    ['an http issuer', { issuer: 'http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc' }, 'must be an https URL, got http:'],
    ['an issuer that is not a URL', { issuer: 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc' }, 'is not a URL'],
  ])('refuses %s with the cognito profile too', (_what, issuer, message) => {
    const pool = { name: 'pool', profile: 'cognito', clientIds: ['4example2m1e5hsfl9vvjgdr3r'], ...issuer };
    expect(errorsOf({ dev: { ...dev, issuers: [pool] } }, 'dev')).toEqual([
      expect.stringContaining(`environments.dev.issuers[0].issuer: ${message}`),
    ]);
  });

  it('refuses a jwksUri (the mirror is the deployment own), an inline introspection secret and a required sender constraint without request mode', () => {
    const issuer = {
      ...prod.issuers[0],
      jwksUri: 'https://idp.example.com/keys',
      senderConstraint: 'required',
      introspection: { endpoint: 'https://idp.example.com/introspect', clientId: 'scopegate', clientSecret: 'hunter2' },
    };
    expect(errorsOf({ prod: { ...prod, issuers: [issuer] } }, 'prod')).toEqual([
      expect.stringMatching(/^environments\.prod\.issuers\[0\]\.jwksUri: is set by the deployment/),
      expect.stringMatching(/^environments\.prod\.issuers\[0\]\.introspection\.clientSecret: is not deployed inline/),
      expect.stringMatching(/^environments\.prod\.issuers\[0\]\.senderConstraint: "required" refuses every token of a TOKEN authorizer/),
    ]);
  });

  it('checks an issuer setting by the configuration validator, and the settings together', () => {
    const { audience: _audience, ...noAudience } = prod.issuers[0] as Record<string, unknown>;
    expect(errorsOf({ prod: { ...prod, issuers: [noAudience] } }, 'prod')).toEqual([
      expect.stringMatching(/^environments\.prod\.issuers\[0\]\.audience: is required \(the API's identifier/),
    ]);
    expect(errorsOf({ prod: { ...prod, issuers: [{ ...prod.issuers[0], scopeClaim: ['scp', 'a b'] }] } }, 'prod')).toEqual([
      'environments.prod.issuers[0].scopeClaim[1]: "a b" is not a claim name',
    ]);
  });

  it('names an unknown or absent environment and the known ones', () => {
    expect(() => readEnvironment(ENVIRONMENTS, 'qa')).toThrow('environment "qa" is not defined in cdk.json (known: dev, staging, prod)');
    expect(() => readEnvironment(ENVIRONMENTS, undefined)).toThrow(/-c env=NAME/);
  });

  it('names the missing or bad setting', () => {
    expect(errorsOf({ x: { ...dev, region: undefined } }, 'x')).toEqual(['environments.x.region: must be a non-empty string']);
    expect(errorsOf({ x: { ...dev, account: '123' } }, 'x')).toEqual(['environments.x.account: must be a 12-digit AWS account id']);
    expect(errorsOf({ x: { ...dev, issuers: [] } }, 'x')).toEqual(['environments.x.issuers: must be a non-empty list']);
    expect(errorsOf({ x: { ...dev, enforcement: 'audit' } }, 'x')).toEqual([
      'environments.x.enforcement: must be "enforce" or "report-only"',
    ]);
    expect(errorsOf({ x: { ...dev, authorizerCacheTtlSeconds: 7200 } }, 'x')).toEqual([
      'environments.x.authorizerCacheTtlSeconds: must be an integer from 0 to 3600',
    ]);
    expect(readEnvironment({ x: { ...dev, enforcement: 'report-only' } }, 'x', ROOT).enforcement).toBe('report-only');
  });
});

describe('cdk.json environments: the route table each deploys', () => {
  it('deploys the file `routes` names, for an API defined elsewhere when there is no demo API', () => {
    const { template, settings } = stackFor(ENVIRONMENTS, 'prod');
    expect(settings.routes).toMatchObject({ kind: 'routes', file: 'examples/routes.json' });
    const parameter = Object.values(template.findResources('AWS::SSM::Parameter')).find((p) =>
      JSON.stringify(p).includes('/scopegate/prod/authorizer-config'),
    );
    const value = JSON.stringify(parameter);
    for (const row of RouteTable.fromFile(join(ROOT, 'examples/routes.json')).routeDocuments) {
      expect(value).toContain(JSON.stringify(JSON.stringify(row)).slice(1, -1));
    }
  });

  it('deploys the OpenAPI document `openapi` names (staging), its security requirements as the route table', () => {
    const { stack, settings } = stackFor(ENVIRONMENTS, 'staging');
    expect(settings.routes.kind).toBe('openapi');
    expect(stack.authorizer.routeTable()).toEqual(RouteTable.fromOpenApi(join(ROOT, 'examples/pets-api.yaml')).routeDocuments);
  });

  it('needs one route table: routes or openapi, not both, not neither', () => {
    const { routes: _routes, ...none } = prod;
    expect(errorsOf({ prod: none }, 'prod')).toEqual([
      expect.stringMatching(/^environments\.prod\.routes: is required: name the route table/),
    ]);
    expect(errorsOf({ prod: { ...prod, openapi: 'examples/pets-api.yaml' } }, 'prod')).toEqual([
      'environments.prod.openapi: an environment has one route table: give routes or openapi, not both',
    ]);
  });

  it("names the file and the row of a bad route table, beside the environment's other errors", () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-env-'));
    try {
      writeFileSync(join(dir, 'routes.json'), JSON.stringify([{ method: 'GET', path: '/a/{p+}/b', scopes: [] }]));
      expect(errorsOf({ prod: { ...prod, routes: join(dir, 'routes.json'), tracing: 1 } }, 'prod')).toEqual([
        expect.stringMatching(new RegExp(`^environments\\.prod\\.routes: ${join(dir, 'routes.json')}: routes\\[0\\]\\.path: `)),
        'environments.prod.tracing: must be true or false',
      ]);
      expect(errorsOf({ prod: { ...prod, openapi: 'examples/missing.yaml', routes: undefined } }, 'prod')).toEqual([
        'environments.prod.openapi: examples/missing.yaml: cannot be read (ENOENT)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cdk.json environments: the demo API only where asked', () => {
  it('deploys no API, and no account-wide API Gateway logging role, unless demoApi is true', () => {
    const { demoApi: _demoApi, throttling: _throttling, ...withoutDemo } = dev;
    const { template, settings } = stackFor({ dev: withoutDemo }, 'dev');
    expect(settings.demoApi).toBe(false);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('keeps the demo in the repository dev environment, explicitly, and nowhere else', () => {
    expect(dev.demoApi).toBe(true);
    for (const [name, environment] of Object.entries(ENVIRONMENTS)) {
      if (name !== 'dev') expect((environment as Record<string, unknown>).demoApi).toBeUndefined();
    }
    stackFor(ENVIRONMENTS, 'dev').template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('refuses throttling without the demo API (it would throttle nothing)', () => {
    const { demoApi: _demoApi, ...withoutDemo } = dev;
    expect(errorsOf({ dev: withoutDemo }, 'dev')).toEqual([
      expect.stringMatching(/^environments\.dev\.throttling: applies to the demo API's stage only/),
    ]);
  });
});

describe('cdk.json environments: every documented setting', () => {
  it('reaches the deployed configuration: mode, unrouted, maxTokenBytes, minRsaBits, jwks, introspection, senderConstraint', () => {
    const issuer = {
      ...prod.issuers[0],
      senderConstraint: 'required',
      introspection: {
        endpoint: 'https://idp.example.com/introspect',
        clientId: 'scopegate',
        clientSecretParameter: '/scopegate/prod/introspection-secret',
        cacheMaxSeconds: 30,
        timeoutMs: 200,
      },
    };
    const { authorizerCacheTtlSeconds: _ttl, ...cached } = prod;
    const environment = {
      ...cached,
      issuers: [issuer],
      mode: 'request',
      unrouted: 'unreachable',
      maxTokenBytes: 16384,
      minRsaBits: 3072,
      jwks: { maxBytes: 131072, timeoutMs: 2000, minRefetchIntervalSeconds: 30, maxAgeSeconds: 7200 },
    };
    const { stack, settings, template } = stackFor({ prod: environment }, 'prod');
    expect(settings.mode).toBe(AuthorizerMode.REQUEST);
    const config = stack.authorizer.configuration();
    expect(config).toMatchObject({
      unrouted: 'unreachable',
      maxTokenBytes: 16384,
      minRsaBits: 3072,
      policyCacheTtlSeconds: 0,
      jwks: environment.jwks,
    });
    expect(config.issuers[0]).toMatchObject({ senderConstraint: 'required', introspection: issuer.introspection });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('parameter/scopegate/prod/introspection-secret');
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).toContain('introspection_unavailable');
  });
});

describe('npx cdk synth -c env=NAME', () => {
  jest.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-cdk-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cdk = (...args: string[]) =>
    promisify(execFile)(join(ROOT, 'node_modules/.bin/cdk'), args, { cwd: dir, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });

  /** A project of its own: cdk.json with one environment, a route table beside it, the repository's app. */
  function project(environment: Record<string, unknown>): void {
    const context = { ...CDK_JSON.context, environments: { qa: environment } };
    const app = `${join(ROOT, 'node_modules/.bin/tsx')} ${join(ROOT, 'bin/app.ts')}`;
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app, context }));
    writeFileSync(
      join(dir, 'our-routes.json'),
      JSON.stringify([
        { method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] },
        { method: 'POST', path: '/orders', anyOf: [['orders:write'], ['orders:admin']] },
      ]),
    );
  }

  it('deploys the route table the environment names, read from the project directory', async () => {
    project({ ...prod, routes: 'our-routes.json' });
    await cdk('synth', '-c', 'env=qa', '--quiet', '-o', 'out');
    const template = JSON.parse(readFileSync(join(dir, 'out/scopegate-qa.template.json'), 'utf8'));
    const parameter = Object.values(
      template.Resources as Record<string, { Type: string; Properties: { Name?: string; Value: unknown } }>,
    ).find((r) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === '/scopegate/qa/authorizer-config');
    const value = parameter?.Properties.Value as { 'Fn::Join': [string, unknown[]] };
    const config = JSON.parse(value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join(''));
    expect(config.routes).toEqual([
      { method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] },
      { method: 'POST', path: '/orders', anyOf: [['orders:write'], ['orders:admin']] },
    ]);
    expect(Object.values(template.Resources as Record<string, { Type: string }>).some((r) => r.Type === 'AWS::ApiGateway::RestApi')).toBe(
      false,
    );
  });

  it('fails on an unknown key, naming it and the environment', async () => {
    project({ ...prod, routes: 'our-routes.json', alarmEmial: 'oncall@example.com' });
    const failure = await cdk('synth', '-c', 'env=qa', '--quiet').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain('environments.qa.alarmEmial: unknown key; did you mean "alarmEmail"?');
  });
});

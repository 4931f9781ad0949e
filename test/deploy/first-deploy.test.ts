import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { readEnvironment } from '../../lib/environment';
import { PACKAGE_ROOT } from '../../lib/node-function';
import { ScopegateStack } from '../../lib/scopegate-stack';
import { evaluate } from '../support/iam';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJwt } from '../support/jwt';
import { TLS } from '../support/tls';
import { FakeAws } from './support/aws-fakes';
import { LambdaProcess } from './support/lambda-process';
import { type CfnTemplate, TemplateResolver } from './support/template';

// What synth cannot see: the synthesized stack "deployed" into loopback fakes of S3, SSM
// and CloudFront that enforce the template's own permissions, with the real esbuild
// bundles of the synth running as Lambda would run them.

jest.setTimeout(120_000);

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const AUDIENCE = 'https://api.example.internal';
const API = `arn:aws:execute-api:${REGION}:${ACCOUNT}:a1b2c3d4e5/dev/`;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CDK_JSON = require('../../cdk.json') as { context: Record<string, unknown> };

const k1 = makeKey('ES256', 'k1');
const k2 = makeKey('ES256', 'k2');

interface Deployment {
  fakes: FakeAws;
  resolver: TemplateResolver;
  checker: () => LambdaProcess;
  authorizer: () => LambdaProcess;
  checkerId: string;
  authorizerId: string;
  triggerTarget: string | undefined;
  triggerDependsOn: string[];
  distributionId: string;
}

/** Synthesize the app as `cdk deploy` would (cdk.json context and all), then "deploy" it into the fakes. */
async function deploy(issuerUrl: string, outdir: string, fakes: FakeAws): Promise<Deployment> {
  const environments = {
    test: {
      account: ACCOUNT,
      region: REGION,
      issuers: [{ name: 'ops', issuer: issuerUrl, audience: [AUDIENCE], tokenType: 'at+jwt' }],
      routes: 'examples/routes.json',
      demoApi: true,
      authorizerCacheTtlSeconds: 60,
      rotation: { scheduleMinutes: 15, mirrorTtlSeconds: 60 },
    },
  };
  const app = new App({ outdir, context: { ...CDK_JSON.context, environments } });
  const settings = readEnvironment(environments, 'test', PACKAGE_ROOT);
  const stack = new ScopegateStack(app, 'scopegate-test', { env: { account: ACCOUNT, region: REGION }, settings });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;

  const probe = new TemplateResolver(template, { account: ACCOUNT, region: REGION });
  const [distributionId] = probe.find('AWS::CloudFront::Distribution');
  if (distributionId === undefined) throw new Error('no distribution');
  const resolver = new TemplateResolver(template, {
    account: ACCOUNT,
    region: REGION,
    overrides: { [`${distributionId}.DomainName`]: fakes.endpoints.edge.replace('https://', '') },
  });

  // CloudFormation's part: parameters with their values, the bucket policy, the distribution.
  for (const id of resolver.find('AWS::SSM::Parameter')) {
    const props = template.Resources[id]?.Properties ?? {};
    fakes.parameters.set(resolver.ref(id), { value: String(resolver.resolve(props.Value)), type: String(props.Type), version: 1 });
  }
  const config = template.Resources[distributionId]?.Properties?.DistributionConfig as { Origins: { DomainName: unknown }[] };
  const origin = resolver.resolve(config.Origins[0]?.DomainName) as string;
  const bucket = origin.split('.s3.')[0] as string;
  const bucketId = resolver.find('AWS::S3::Bucket').find((id) => resolver.ref(id) === bucket) as string;
  fakes.bucketPolicies.set(bucket, resolver.resourcePolicyOf('AWS::S3::BucketPolicy', bucketId));
  fakes.distributions.push({
    id: resolver.ref(distributionId),
    arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/${resolver.ref(distributionId)}`,
    bucket,
  });

  const checkerId = resolver.functionWithVariable('MIRROR_BUCKET');
  const authorizerId = resolver.functionWithVariable('AUTHZ_CONFIG_PARAMETER');
  const roleArn = (fnId: string) => resolver.resolve(template.Resources[fnId]?.Properties?.Role) as string;
  fakes.callers.set('AKIACHECKER', { name: 'checker', roleArn: roleArn(checkerId), statements: resolver.roleStatementsOf(checkerId) });
  fakes.callers.set('AKIAAUTHORIZER', {
    name: 'authorizer',
    roleArn: roleArn(authorizerId),
    statements: resolver.roleStatementsOf(authorizerId),
  });

  const processFor = (fnId: string, accessKey: string) => {
    const code = template.Resources[fnId]?.Properties?.Code as { S3Key: string };
    const bundle = join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    return new LambdaProcess(bundle, {
      ...resolver.environmentOf(fnId),
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_LAMBDA_FUNCTION_NAME: resolver.ref(fnId),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_ENDPOINT_URL_S3: fakes.endpoints.s3,
      AWS_ENDPOINT_URL_SSM: fakes.endpoints.ssm,
      AWS_ENDPOINT_URL_CLOUDFRONT: fakes.endpoints.cloudfront,
      NODE_EXTRA_CA_CERTS: TLS.certPath,
    });
  };

  const [triggerId] = resolver.find('Custom::Trigger');
  const trigger = triggerId === undefined ? undefined : template.Resources[triggerId];
  const versionId = (trigger?.Properties?.HandlerArn as { Ref?: string } | undefined)?.Ref;
  const version = versionId === undefined ? undefined : template.Resources[versionId];
  const triggerTarget = (version?.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref;
  return {
    fakes,
    resolver,
    checker: () => processFor(checkerId, 'AKIACHECKER'),
    authorizer: () => processFor(authorizerId, 'AKIAAUTHORIZER'),
    checkerId,
    authorizerId,
    triggerTarget,
    triggerDependsOn: ([] as string[]).concat(trigger?.DependsOn ?? []),
    distributionId,
  };
}

function tokenEvent(token: string, route = 'GET/telemetry') {
  return { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: `${API}${route}` };
}

function allows(result: unknown, route = 'GET/telemetry'): boolean {
  return evaluate((result as APIGatewayAuthorizerResult).policyDocument as never, `${API}${route}`) === 'Allow';
}

describe('the first deploy, against loopback fakes that enforce the template', () => {
  const issuer = new JwksServer();
  const fakes = new FakeAws(ACCOUNT, REGION);
  const outdir = join(PACKAGE_ROOT, 'node_modules', '.cache', 'scopegate-deploy-test', String(process.pid));
  let issuerUrl: string;
  let d: Deployment;
  const processes: LambdaProcess[] = [];
  let checker: LambdaProcess;
  let authorizer: LambdaProcess;
  const started = async (p: LambdaProcess) => {
    processes.push(p);
    await p.start();
    return p;
  };

  beforeAll(async () => {
    issuerUrl = (await issuer.start()).replace(/\/jwks\.json$/, '');
    issuer.discovery = { issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks.json` };
    issuer.keys = [k1.publicJwk];
    await fakes.start();
    mkdirSync(outdir, { recursive: true });
    d = await deploy(issuerUrl, outdir, fakes);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await fakes.stop();
    await issuer.stop();
    rmSync(outdir, { recursive: true, force: true });
  });

  const token = (key = k1) => signJwt(key, claims({ iss: issuerUrl, aud: AUDIENCE, scope: 'telemetry:read' }));

  it('runs the rotation checker once at deploy, after the distribution exists', () => {
    expect(d.triggerTarget).toBe(d.checkerId);
    expect(d.triggerDependsOn.some((id) => id.startsWith('JwksDistribution'))).toBe(true);
  });

  it('allows a valid token even before the mirror is seeded (the mirror answers 403, the issuer is read instead)', async () => {
    const early = new LambdaProcess(d.authorizer().bundlePath, d.authorizer().environment);
    processes.push(early);
    await early.start();
    const answer = await early.invoke(tokenEvent(token()));
    expect(answer).toMatchObject({ ok: true });
    expect(allows((answer as { result: unknown }).result)).toBe(true);
    expect(fakes.calls.some((c) => c.caller === 'edge:cloudfront.amazonaws.com' && c.status === 403)).toBe(true);
    await early.stop();
  });

  it('seeds the mirror on the deploy-time run: S3 answers the missing object 404 (the role may list the bucket), then the checker publishes and invalidates', async () => {
    checker = await started(d.checker());
    const run = await checker.invoke({});
    expect(run).toMatchObject({ ok: true, result: { published: true, invalidated: true } });
    const first = fakes.calls.find((c) => c.caller === 'checker' && c.action === 's3:GetObject');
    expect(first).toMatchObject({ decision: 'Allow', status: 404 });
    const mirrored = [...fakes.objects.values()][0];
    expect(JSON.parse(String(mirrored?.body)).keys.map((k: { kid: string }) => k.kid)).toEqual(['k1']);
    expect(mirrored?.cacheControl).toMatch(/max-age=60\b/);
    expect(fakes.invalidations).toEqual([{ distributionId: d.resolver.ref(d.distributionId), paths: ['/ops/jwks.json'] }]);
  });

  it('allows a valid token on the first request after the deploy, with keys from the mirror', async () => {
    authorizer = await started(d.authorizer());
    const issuerFetches = issuer.fetches;
    const answer = await authorizer.invoke(tokenEvent(token()));
    expect(answer.ok).toBe(true);
    expect(allows((answer as { result: unknown }).result)).toBe(true);
    expect(issuer.fetches).toBe(issuerFetches);
    expect(fakes.calls.some((c) => c.caller === 'edge:cloudfront.amazonaws.com' && c.status === 200)).toBe(true);
  });

  it('allows a token signed with a key the issuer just published, before the checker mirrors it (fallback to the issuer)', async () => {
    issuer.keys = [k1.publicJwk, k2.publicJwk];
    const answer = await authorizer.invoke(tokenEvent(token(k2)));
    expect(answer).toMatchObject({ ok: true });
    expect(allows((answer as { result: unknown }).result)).toBe(true);
    const mirrored = [...fakes.objects.values()][0];
    expect(String(mirrored?.body)).not.toContain('"k2"');
  });

  it('mirrors the new key on the next scheduled run', async () => {
    const run = await checker.invoke({});
    expect(run).toMatchObject({ ok: true, result: { published: true } });
    expect(String([...fakes.objects.values()][0]?.body)).toContain('"k2"');
  });

  it('drops a key the issuer withdrew on the next run although the issuer also publishes a key the audit refuses; a token signed with it is then refused', async () => {
    // The issuer rotates k1 out and, by mistake, publishes a symmetric key beside k2.
    issuer.keys = [k2.publicJwk, { kty: 'oct', kid: 'hs', k: 'c2VjcmV0LXNoYXJlZC13aXRoLWV2ZXJ5b25l', alg: 'HS256' }];
    const run = await checker.invoke({});
    expect(run).toMatchObject({ ok: true, result: { published: true } });
    expect((run as { result: { findings: { code: string }[] } }).result.findings).toContainEqual(
      expect.objectContaining({ code: 'disallowed_alg', kid: 'hs' }),
    );
    const mirrored = JSON.parse(String([...fakes.objects.values()][0]?.body)) as { keys: { kid: string }[] };
    expect(mirrored.keys.map((k) => k.kid)).toEqual(['k2']);
    const fresh = await started(new LambdaProcess(d.authorizer().bundlePath, d.authorizer().environment));
    expect(await fresh.invoke(tokenEvent(token(k1)))).toMatchObject({ ok: false, error: { message: 'Unauthorized' } });
    const answer = await fresh.invoke(tokenEvent(token(k2)));
    expect(answer).toMatchObject({ ok: true });
    expect(allows((answer as { result: unknown }).result)).toBe(true);
  });

  it('made only AWS calls its role allows (each recorded call, evaluated with IAM semantics against the template)', () => {
    const byFunction = (name: string) => fakes.calls.filter((c) => c.caller === name);
    expect(new Set(byFunction('checker').map((c) => c.action))).toEqual(
      new Set(['ssm:GetParameter', 'ssm:PutParameter', 's3:GetObject', 's3:PutObject', 'cloudfront:CreateInvalidation']),
    );
    expect(new Set(byFunction('authorizer').map((c) => c.action))).toEqual(new Set(['ssm:GetParameter']));
    const denied = fakes.calls.filter((c) => c.decision !== 'Allow');
    expect(denied).toEqual([]);
  });

  it('writes the Lambda context (request id, cold start) in every log line of both functions', () => {
    const all: Record<string, unknown>[] = [];
    for (const p of processes) {
      const lines = p.logs.filter((l) => l.startsWith('{') && l.includes('"level"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.function_request_id).toMatch(/^request-\d+$/);
      // The first invocation of each process is its cold start, and only that one.
      for (const line of lines) expect(line.cold_start).toBe(line.function_request_id === 'request-1');
      all.push(...lines);
    }
    expect(new Set(all.map((l) => l.cold_start))).toEqual(new Set([true, false]));
  });
});

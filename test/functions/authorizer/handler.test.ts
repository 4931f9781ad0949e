import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import { SsmConfigSource } from '../../../functions/authorizer/config-source';
import { createHandler } from '../../../functions/authorizer/handler';
import { BUNDLE_EXTERNALS, BUNDLE_TARGET } from '../../../lib/bundle-options';
import { ARN, rawConfig } from '../../support/fixtures';
import { JwksServer } from '../../support/jwks-server';
import { claims, makeKey, signJwt } from '../../support/jwt';
import { captureTelemetry } from '../../support/telemetry';
import { TLS } from '../../support/tls';

const key = makeKey('ES256', 'h1');

function tokenEvent(token: string, route = 'GET/telemetry'): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: `${ARN}${route}` };
}

describe('handler', () => {
  const server = new JwksServer();
  let jwksUri: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    jwksUri = await server.start();
    env = { AUTHZ_CONFIG: JSON.stringify(rawConfig({ jwks: { timeoutMs: 1000 } }, { jwksUri })) };
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.mode = 'ok';
    server.keys = [key.publicJwk];
    server.fetches = 0;
  });

  it('returns principalId, policy and context for a valid TOKEN event', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    const result = (await handler(tokenEvent(signJwt(key, claims())))) as APIGatewayAuthorizerResult;
    expect(result.principalId).toBe('user-1');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toMatchObject({ sub: 'user-1', clientId: 'ops-console', issuer: 'https://idp.test/realms/ops' });
  });

  it('fetches the key set during the cold start, before the first request', async () => {
    createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.fetches).toBe(1);
  });

  it('reads the token of a REQUEST event from the Authorization header in any case', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    const event = {
      type: 'REQUEST',
      methodArn: `${ARN}GET/telemetry`,
      headers: { AUTHORIZATION: `Bearer ${signJwt(key, claims())}` },
    } as unknown as APIGatewayRequestAuthorizerEvent;
    await expect(handler(event)).resolves.toMatchObject({ principalId: 'user-1' });
  });

  it('throws exactly Error("Unauthorized") for a bad token and logs the reason, never the token', async () => {
    const telemetry = captureTelemetry();
    const handler = createHandler({ env, ca: TLS.cert, telemetry });
    const token = signJwt(key, claims({ aud: 'someone-else' }));
    await expect(handler(tokenEvent(token))).rejects.toThrow(new Error('Unauthorized'));
    const logged = JSON.stringify(telemetry.decisions);
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'invalid_token.audience', effect: 'unauthorized' });
    expect(logged).not.toContain(token.split('.')[1]);
    expect(logged).not.toContain(token.split('.')[2]);
  });

  it('fails closed within 3 s, with an error other than Unauthorized, when a cold instance finds the key set hanging', async () => {
    server.mode = 'hang';
    const telemetry = captureTelemetry();
    // The default JWKS deadline (2500 ms), not the shorter one of the other tests.
    const handler = createHandler({ env: { AUTHZ_CONFIG: JSON.stringify(rawConfig({}, { jwksUri })) }, ca: TLS.cert, telemetry });
    const started = Date.now();
    const outcome = await handler(tokenEvent(signJwt(key, claims()))).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).not.toBe('Unauthorized');
    expect(telemetry.decisions.at(-1)).toMatchObject({ reason: 'keys_unavailable', effect: 'error' });
  });

  it('keeps deciding on a warm instance when the key set starts failing', async () => {
    const handler = createHandler({ env, ca: TLS.cert, telemetry: captureTelemetry() });
    await handler(tokenEvent(signJwt(key, claims())));
    server.mode = 'fail';
    await expect(handler(tokenEvent(signJwt(key, claims())))).resolves.toMatchObject({ principalId: 'user-1' });
  });

  it('logs the position of a configuration syntax error, never its text (V8 quotes it)', async () => {
    const telemetry = captureTelemetry();
    const handler = createHandler({ env: { AUTHZ_CONFIG: '{"issuers": [{"clientSecret": s3cr3t-Pr3fix}]}' }, telemetry });
    await expect(handler(tokenEvent('x.y.z'))).rejects.toThrow('Authorizer configuration unavailable');
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'config_unavailable' });
    expect(telemetry.decisions[0]?.detail).toContain('line 1, column 31');
    expect(JSON.stringify(telemetry.decisions)).not.toContain('s3cr3t');
  });

  it("logs the cold start's key fetch after the first decision, which waited for it", async () => {
    const telemetry = captureTelemetry();
    const handler = createHandler({ env, ca: TLS.cert, telemetry });
    await handler(tokenEvent(signJwt(key, claims())));
    expect(telemetry.decisions).toHaveLength(1);
    expect(telemetry.fetches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(telemetry.fetches).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('reports a bad configuration on each request instead of crashing at import', async () => {
    const telemetry = captureTelemetry();
    const handler = createHandler({ env: { AUTHZ_CONFIG: '{"issuers":[{"issuer":1}]}' }, telemetry });
    await expect(handler(tokenEvent('x.y.z'))).rejects.toThrow('Authorizer configuration unavailable');
    expect(telemetry.decisions[0]).toMatchObject({ reason: 'config_unavailable', detail: 'issuers[0].issuer: must be a non-empty string' });
  });
});

describe('configuration from SSM', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());

  it('reads the parameter once, re-reads it after the TTL, and keeps the last good copy when SSM fails', async () => {
    let clock = 0;
    ssm
      .on(GetParameterCommand, { Name: '/scopegate/dev/config' })
      .resolvesOnce({ Parameter: { Value: 'v1' } })
      .rejects(new Error('throttled'));
    const source = new SsmConfigSource({ client: new SSMClient({}), name: '/scopegate/dev/config', ttlMs: 1000, now: () => clock });
    expect(await source.text()).toBe('v1');
    expect(await source.text()).toBe('v1');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    clock = 1500;
    expect(await source.text()).toBe('v1');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toMatchObject({ WithDecryption: true });
  });

  it('serves the handler from the parameter named by AUTHZ_CONFIG_PARAMETER', async () => {
    const server = new JwksServer();
    const jwksUri = await server.start();
    server.keys = [key.publicJwk];
    try {
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(rawConfig({}, { jwksUri })) } });
      const handler = createHandler({
        env: { AUTHZ_CONFIG_PARAMETER: '/scopegate/dev/config' },
        ca: TLS.cert,
        telemetry: captureTelemetry(),
      });
      await expect(handler(tokenEvent(signJwt(key, claims())))).resolves.toMatchObject({ principalId: 'user-1' });
      expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toMatchObject({ Name: '/scopegate/dev/config' });
    } finally {
      await server.stop();
    }
  });
});

describe('the Lambda bundle', () => {
  it('holds nothing that only the CLI, the proof or the CDK app needs, nor Powertools (esbuild metafile)', async () => {
    const result = await build({
      entryPoints: [join(__dirname, '../../../functions/authorizer/handler.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      target: BUNDLE_TARGET,
      external: BUNDLE_EXTERNALS,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('functions/authorizer/handler.ts');
    // The repository's own code in it is the functions' and core/'s, and of core/ not the OpenAPI reader.
    const own = inputs.filter((input) => !input.startsWith('node_modules/'));
    expect(own.filter((input) => !/^(functions|core)\//.test(input) || input === 'core/openapi.ts')).toEqual([]);
    // Nor Powertools: the authorizer writes the same lines itself (log-lines.ts); the rotation checker keeps it.
    const unwanted = /^node_modules\/(aws-cdk-lib|constructs|refa|yaml|fast-check|@aws-lambda-powertools|@aws\/lambda-invoke-store)\//;
    expect(inputs.filter((input) => unwanted.test(input))).toEqual([]);
  });
});

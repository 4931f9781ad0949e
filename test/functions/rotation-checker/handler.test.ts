import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { type CheckerSettings, runChecker, settingsFromEnv } from '../../../functions/rotation-checker/handler';
import { JwksServer } from '../../support/jwks-server';
import { makeKey } from '../../support/jwt';
import { TLS } from '../../support/tls';

const k1 = makeKey('ES256', 'k1');
const k2 = makeKey('ES256', 'k2');
const weak = makeKey('RS256', 'weak', { bits: 1024 });

const s3 = mockClient(S3Client);
const cloudfront = mockClient(CloudFrontClient);
const ssm = mockClient(SSMClient);

/** A stand-in for the SDK's streaming Body: what the checker reads of it. */
function body(json: unknown) {
  return { transformToString: async () => JSON.stringify(json) };
}

const quiet = { info() {}, warn() {}, error() {} } as never;
const noMetrics = {
  singleMetric: () => ({ addDimension() {}, addDimensions() {}, addMetric() {} }),
  addDimension() {},
  addMetric() {},
  publishStoredMetrics() {},
} as never;

describe('the rotation checker', () => {
  const origin = new JwksServer();
  let settings: CheckerSettings;
  beforeAll(async () => {
    const jwksUri = await origin.start();
    settings = {
      jwksUri,
      bucket: 'jwks-bucket',
      objectKey: 'ops/jwks.json',
      distributionId: 'E123',
      stateParameter: '/scopegate/dev/rotation-state',
      cacheControl: 'public, max-age=300, stale-if-error=86400',
      metricIssuer: 'https://idp.test/realms/ops',
    };
  });
  afterAll(() => origin.stop());
  beforeEach(() => {
    s3.reset();
    cloudfront.reset();
    ssm.reset();
    origin.mode = 'ok';
    origin.keys = [k1.publicJwk, k2.publicJwk];
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    cloudfront.on(CreateInvalidationCommand).resolves({});
  });

  const run = () =>
    runChecker(settings, {
      s3: new S3Client({}),
      cloudfront: new CloudFrontClient({}),
      ssm: new SSMClient({}),
      logger: quiet,
      metrics: noMetrics,
      auditOptions: { http: { ca: TLS.cert } },
    });

  it('publishes a verified key set to a missing mirror object, with Cache-Control, then invalidates that path', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
    const result = await run();
    expect(result.published).toBe(true);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'jwks-bucket',
      Key: 'ops/jwks.json',
      CacheControl: settings.cacheControl,
      ContentType: 'application/json',
    });
    expect(JSON.parse(String(put?.Body)).keys.map((k: { kid: string }) => k.kid)).toEqual(['k1', 'k2']);
    expect(JSON.parse(String(put?.Body)).keys[0]).not.toHaveProperty('d');
    expect(cloudfront.commandCalls(CreateInvalidationCommand)[0]?.args[0].input.InvalidationBatch?.Paths).toEqual({
      Quantity: 1,
      Items: ['/ops/jwks.json'],
    });
    expect(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input).toMatchObject({ Name: settings.stateParameter, Overwrite: true });
  });

  it('publishes when S3 answers 403 AccessDenied (no s3:ListBucket, or a real denial), and says the mirror was unreadable', async () => {
    const warnings: unknown[] = [];
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    const result = await runChecker(settings, {
      s3: new S3Client({}),
      cloudfront: new CloudFrontClient({}),
      ssm: new SSMClient({}),
      logger: { info() {}, error() {}, warn: (message: string, extra: unknown) => warnings.push({ message, extra }) } as never,
      metrics: noMetrics,
      auditOptions: { http: { ca: TLS.cert } },
    });
    expect(result.published).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(warnings).toEqual([expect.objectContaining({ message: 'mirror_unreadable' })]);
  });

  it('fails the run (so the alarm fires) when the mirror cannot be written either', async () => {
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    s3.on(GetObjectCommand).rejects(denied);
    s3.on(PutObjectCommand).rejects(denied);
    await expect(run()).rejects.toThrow('Access Denied');
  });

  it('publishes nothing and invalidates nothing when the mirror object already holds the same keys', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k2.publicJwk, k1.publicJwk] }) as never });
    const result = await run();
    expect(result.published).toBe(false);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  it('keeps the last good mirror when the origin serves an invalid key set', async () => {
    origin.keys = [weak.publicJwk];
    s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk] }) as never });
    const result = await run();
    expect(result.report.findings).toContainEqual(expect.objectContaining({ code: 'weak_key' }));
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  describe('when the issuer publishes keys the audit refuses beside usable ones', () => {
    const oct = { kty: 'oct', kid: 'hs', k: 'c2VjcmV0LXNoYXJlZC13aXRoLWV2ZXJ5b25l', alg: 'HS256' };
    const shared = [{ ...makeKey('ES256', 'dup').publicJwk }, { ...makeKey('ES256', 'dup').publicJwk }];
    const leaked = {
      ...(makeKey('ES256', 'leak').privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
      kid: 'leak',
      use: 'sig',
    };
    /** A metrics stand-in that records what the run counts. */
    const recording = () => {
      const counted: { name: string; value: number; dimensions: Record<string, string> }[] = [];
      let dimensions: Record<string, string> = {};
      const single = () => {
        let own: Record<string, string> = {};
        return {
          addDimension: (k: string, v: string) => Object.assign(own, { [k]: v }),
          addDimensions: (d: Record<string, string>) => {
            own = { ...own, ...d };
          },
          addMetric: (name: string, _unit: string, value: number) => counted.push({ name, value, dimensions: own }),
        };
      };
      const metrics = {
        singleMetric: single,
        addDimension: (k: string, v: string) => {
          dimensions = { ...dimensions, [k]: v };
        },
        addMetric: (name: string, _unit: string, value: number) => counted.push({ name, value, dimensions }),
        publishStoredMetrics() {},
      };
      return { counted, metrics: metrics as never };
    };
    const runWith = (metrics: never) =>
      runChecker(settings, {
        s3: new S3Client({}),
        cloudfront: new CloudFrontClient({}),
        ssm: new SSMClient({}),
        logger: quiet,
        metrics,
        auditOptions: { http: { ca: TLS.cert } },
      });
    const published = () =>
      JSON.parse(String(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)) as { keys: Record<string, unknown>[] };

    it('publishes the usable public keys (no oct key, no weak RSA, no shared kid, no leaked private key), and keeps each finding and the alarm metric', async () => {
      origin.keys = [k1.publicJwk, oct, weak.publicJwk, ...shared, leaked, k2.publicJwk];
      s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk] }) as never });
      const { counted, metrics } = recording();
      const result = await runWith(metrics);
      expect(result.published).toBe(true);
      expect(published().keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
      for (const key of published().keys) for (const member of ['d', 'k', 'p', 'q']) expect(key).not.toHaveProperty(member);
      expect(result.invalidated).toBe(true);
      const codes = result.report.findings.map((f) => f.code);
      expect(codes).toEqual(expect.arrayContaining(['disallowed_alg', 'weak_key', 'duplicate_kid', 'jwks_invalid']));
      expect(counted).toContainEqual(expect.objectContaining({ name: 'AuditErrors', value: expect.any(Number) }));
      expect(counted.find((c) => c.name === 'AuditErrors')?.value).toBeGreaterThan(0);
      expect(counted).toContainEqual(expect.objectContaining({ name: 'KeySetPublished', value: 1 }));
      expect(counted).toContainEqual(
        expect.objectContaining({ name: 'Findings', dimensions: expect.objectContaining({ code: 'weak_key' }) }),
      );
    });

    it('drops a key the issuer withdrew at the next run, although a refused key is still published beside the others', async () => {
      // The mirror still serves k1, which the issuer rotated out; the issuer now serves k2 and an oct key.
      origin.keys = [k2.publicJwk, oct];
      s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk, k2.publicJwk] }) as never });
      const result = await run();
      expect(result.published).toBe(true);
      expect(published().keys.map((k) => k.kid)).toEqual(['k2']);
      expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(1);
    });

    it('keeps the last good mirror only when no usable signing key remains', async () => {
      origin.keys = [oct, weak.publicJwk, ...shared, leaked];
      s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk] }) as never });
      const result = await run();
      expect(result.published).toBe(false);
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(result.report.findings).toContainEqual(
        expect.objectContaining({ code: 'jwks_invalid', detail: 'the key set holds no usable signing key' }),
      );
    });
  });

  it('keeps the last good mirror when the origin is unreachable or serves an empty set', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk] }) as never });
    origin.mode = 'fail';
    expect((await run()).report.findings).toContainEqual(expect.objectContaining({ code: 'jwks_unreachable' }));
    origin.mode = 'ok';
    origin.keys = [];
    expect((await run()).report.findings).toContainEqual(expect.objectContaining({ code: 'jwks_invalid' }));
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('keeps the first-seen record across runs', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body({ keys: [k1.publicJwk, k2.publicJwk] }) as never });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ firstSeen: { k1: '2020-01-01T00:00:00Z' } }) } });
    const result = await run();
    expect(result.report.findings).toContainEqual(expect.objectContaining({ code: 'key_age_exceeded', kid: 'k1' }));
    const saved = JSON.parse(String(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.Value));
    expect(saved.firstSeen.k1).toBe('2020-01-01T00:00:00Z');
    expect(saved.firstSeen.k2).toBeDefined();
  });

  it('reads its settings from the environment and names what is missing', () => {
    expect(() => settingsFromEnv({ JWKS_URI: 'https://x' })).toThrow('MIRROR_BUCKET is not set');
    expect(() => settingsFromEnv({})).toThrow('ISSUER or JWKS_URI must be set');
    expect(settingsFromEnv({ ISSUER: 'https://i', MIRROR_BUCKET: 'b', MIRROR_KEY: 'k', STATE_PARAMETER: '/s' }).cacheControl).toContain(
      'stale-if-error',
    );
  });
});

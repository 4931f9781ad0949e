import { Agent } from 'node:https';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { TLS } from '../support/tls';
import { FakeAws } from './support/aws-fakes';
import { evaluateIam, type PolicyStatement } from './support/iam-evaluator';

// The evaluator and the fakes that the deploy tests trust: each rule checked on its own.

const BUCKET = 'mirror-bucket';
const enforceSsl: PolicyStatement = {
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

describe('the test IAM evaluator', () => {
  const role: PolicyStatement[] = [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${BUCKET}/ops/*` }];

  it('matches resource wildcards across slashes, and actions case-insensitively', () => {
    expect(evaluateIam({ action: 'S3:getobject', resource: `arn:aws:s3:::${BUCKET}/ops/a/jwks.json` }, role)).toBe('Allow');
    expect(evaluateIam({ action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}/other/jwks.json` }, role)).toBe('ImplicitDeny');
    expect(evaluateIam({ action: 's3:DeleteObject', resource: `arn:aws:s3:::${BUCKET}/ops/jwks.json` }, role)).toBe('ImplicitDeny');
  });

  it("lets an explicit Deny of the resource policy win (enforceSSL's aws:SecureTransport)", () => {
    const request = {
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${BUCKET}/ops/jwks.json`,
      principal: { AWS: 'arn:aws:iam::1:role/r' },
    };
    expect(evaluateIam({ ...request, context: { 'aws:SecureTransport': 'true' } }, role, [enforceSsl])).toBe('Allow');
    expect(evaluateIam({ ...request, context: { 'aws:SecureTransport': 'false' } }, role, [enforceSsl])).toBe('ExplicitDeny');
  });

  it('fails a positive condition on a missing key, and refuses to judge an operator it does not know', () => {
    const conditioned: PolicyStatement = { ...(role[0] as PolicyStatement), Condition: { StringEquals: { 's3:prefix': 'ops/' } } };
    expect(evaluateIam({ action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}/ops/x` }, [conditioned])).toBe('ImplicitDeny');
    const odd: PolicyStatement = { ...(role[0] as PolicyStatement), Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } } };
    expect(() => evaluateIam({ action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}/ops/x` }, [odd])).toThrow(/DateGreaterThan/);
  });
});

describe('the S3 fake answers a missing object as S3 documents it', () => {
  const fakes = new FakeAws('111111111111', 'eu-west-1');
  let client: S3Client;
  beforeAll(async () => {
    await fakes.start();
    fakes.bucketPolicies.set(BUCKET, [enforceSsl]);
    client = new S3Client({
      region: 'eu-west-1',
      endpoint: fakes.endpoints.s3,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' },
      requestHandler: { httpsAgent: new Agent({ ca: TLS.cert }) },
    });
  });
  afterAll(() => fakes.stop());
  const allowObject: PolicyStatement = {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: `arn:aws:s3:::${BUCKET}/ops/jwks.json`,
  };
  const as = (statements: PolicyStatement[]) =>
    fakes.callers.set('AKIATEST', { name: 'test', roleArn: 'arn:aws:iam::111111111111:role/t', statements });
  const get = () =>
    client
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ops/jwks.json' }))
      .catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);

  it('403 AccessDenied without s3:ListBucket', async () => {
    as([allowObject]);
    await expect(get()).resolves.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('404 NoSuchKey with s3:ListBucket on the bucket, and a prefix-conditioned ListBucket does not count', async () => {
    as([
      allowObject,
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}`, Condition: { StringLike: { 's3:prefix': 'ops/*' } } },
    ]);
    await expect(get()).resolves.toMatchObject({ name: 'AccessDenied' });
    as([allowObject, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` }]);
    await expect(get()).resolves.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  it('stores what PutObject sends (Cache-Control included) and serves it back', async () => {
    as([allowObject]);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ops/jwks.json', Body: '{"keys":[]}', CacheControl: 'max-age=60' }));
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ops/jwks.json' }));
    expect(await out.Body?.transformToString()).toBe('{"keys":[]}');
    expect(out.CacheControl).toBe('max-age=60');
  });
});

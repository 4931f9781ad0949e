import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLS } from '../../support/tls';
import { evaluateIam, type IamDecision, type PolicyStatement } from './iam-evaluator';

/** A role the fakes know by the access key id its process signs with. */
export interface FakeCaller {
  name: string;
  roleArn: string;
  statements: PolicyStatement[];
}

/** One API call a fake answered, with the permission decision it took. */
export interface RecordedCall {
  caller: string;
  action: string;
  resource: string;
  decision: IamDecision;
  status: number;
}

/** A distribution the fake edge serves: an S3 origin reached through origin access control. */
export interface FakeDistribution {
  id: string;
  arn: string;
  bucket: string;
}

interface StoredObject {
  body: Buffer;
  contentType?: string;
  cacheControl?: string;
}

const xml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Decode an `aws-chunked` body (the SDK's streaming upload with trailing checksums). */
function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] as string, 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ server: Server; url: string }> {
  const server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
    handler(req, res).catch((error: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error.stack);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * Loopback HTTPS fakes of the parts of S3, SSM, CloudFront (API and edge) that scopegate's
 * functions use, enforcing the synthesized template's permissions: each request is mapped
 * to its IAM action and resource ARN and evaluated against the caller's role and the
 * bucket policy, with `aws:SecureTransport` from the connection. S3 answers a missing
 * object as S3 documents it: 404 `NoSuchKey` to a caller allowed `s3:ListBucket` on the
 * bucket, 403 `AccessDenied` to anyone else.
 */
export class FakeAws {
  readonly callers = new Map<string, FakeCaller>();
  readonly calls: RecordedCall[] = [];
  readonly objects = new Map<string, StoredObject>();
  readonly parameters = new Map<string, { value: string; type: string; version: number }>();
  readonly invalidations: { distributionId: string; paths: string[] }[] = [];
  readonly bucketPolicies = new Map<string, PolicyStatement[]>();
  readonly distributions: FakeDistribution[] = [];
  readonly endpoints = { s3: '', ssm: '', cloudfront: '', edge: '' };
  private readonly servers: Server[] = [];

  constructor(
    readonly account: string,
    readonly region: string,
  ) {}

  async start(): Promise<void> {
    for (const [name, handler] of [
      ['s3', (req: IncomingMessage, res: ServerResponse) => this.s3(req, res)],
      ['ssm', (req: IncomingMessage, res: ServerResponse) => this.ssm(req, res)],
      ['cloudfront', (req: IncomingMessage, res: ServerResponse) => this.cloudfront(req, res)],
      ['edge', (req: IncomingMessage, res: ServerResponse) => this.edge(req, res)],
    ] as const) {
      const { server, url } = await listen(handler);
      this.servers.push(server);
      this.endpoints[name] = url;
    }
  }

  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Evaluate and record one call of a caller (by access key) or a service principal. */
  private authorize(
    req: IncomingMessage,
    action: string,
    resource: string,
    options: { bucket?: string; service?: string; sourceArn?: string } = {},
  ): { decision: IamDecision; caller: string; statements: PolicyStatement[] } {
    const caller = options.service === undefined ? this.callers.get(accessKeyOf(req) ?? '') : undefined;
    const secure = String((req.socket as { encrypted?: boolean }).encrypted === true);
    const context: Record<string, string> = { 'aws:SecureTransport': secure };
    if (options.sourceArn) context['aws:SourceArn'] = options.sourceArn;
    const resourcePolicy = options.bucket ? (this.bucketPolicies.get(options.bucket) ?? []) : [];
    const principal = options.service ? { Service: options.service } : caller ? { AWS: caller.roleArn } : undefined;
    const decision =
      caller === undefined && options.service === undefined
        ? 'ImplicitDeny'
        : evaluateIam({ action, resource, context, principal }, caller?.statements ?? [], resourcePolicy);
    return { decision, caller: caller?.name ?? options.service ?? 'anonymous', statements: caller?.statements ?? [] };
  }

  private record(caller: string, action: string, resource: string, decision: IamDecision, status: number): void {
    this.calls.push({ caller, action, resource, decision, status });
  }

  /** S3 as a principal sees it (path-style: /bucket/key). */
  private async s3(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://s3');
    const [, bucket = '', ...rest] = decodeURIComponent(url.pathname).split('/');
    const key = rest.join('/');
    const raw = await readBody(req);
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const { decision, caller } = this.authorize(req, 's3:GetObject', objectArn, { bucket });
      const stored = this.objects.get(`${bucket}/${key}`);
      let status = 200;
      if (decision !== 'Allow') status = 403;
      else if (stored === undefined) {
        // S3: without s3:ListBucket on the bucket, a missing key is indistinguishable from a denial.
        const list = this.authorize(req, 's3:ListBucket', `arn:aws:s3:::${bucket}`, { bucket });
        status = list.decision === 'Allow' ? 404 : 403;
      }
      this.record(caller, 's3:GetObject', objectArn, decision, status);
      if (status !== 200 || stored === undefined) {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : xml(status === 404 ? 'NoSuchKey' : 'AccessDenied', status === 404 ? 'The specified key does not exist.' : 'Access Denied'),
        );
        return;
      }
      res.writeHead(200, {
        'content-type': stored.contentType ?? 'binary/octet-stream',
        'content-length': stored.body.length,
        ...(stored.cacheControl ? { 'cache-control': stored.cacheControl } : {}),
        etag: '"fake"',
      });
      res.end(req.method === 'HEAD' ? undefined : stored.body);
      return;
    }
    if (req.method === 'PUT') {
      const { decision, caller } = this.authorize(req, 's3:PutObject', objectArn, { bucket });
      const status = decision === 'Allow' ? 200 : 403;
      this.record(caller, 's3:PutObject', objectArn, decision, status);
      if (status !== 200) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(xml('AccessDenied', 'Access Denied'));
        return;
      }
      const chunked = String(req.headers['content-encoding'] ?? '').includes('aws-chunked');
      this.objects.set(`${bucket}/${key}`, {
        body: chunked ? decodeAwsChunked(raw) : raw,
        contentType: req.headers['content-type'],
        cacheControl: req.headers['cache-control'],
      });
      res.writeHead(200, { etag: '"fake"' });
      res.end();
      return;
    }
    res.writeHead(405);
    res.end();
  }

  private parameterArn(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.account}:parameter${name.startsWith('/') ? name : `/${name}`}`;
  }

  /** SSM's JSON 1.1 protocol: GetParameter and PutParameter. */
  private async ssm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>;
    const operation = target.replace(/^AmazonSSM\./, '');
    const name = String(input.Name ?? '');
    const arn = this.parameterArn(name);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    if (operation !== 'GetParameter' && operation !== 'PutParameter') return answer(400, { __type: 'InvalidAction', message: target });
    const action = `ssm:${operation}`;
    const { decision, caller } = this.authorize(req, action, arn);
    if (decision !== 'Allow') {
      this.record(caller, action, arn, decision, 400);
      return answer(400, { __type: 'AccessDeniedException', message: `not authorized to perform ${action} on ${arn}` });
    }
    const stored = this.parameters.get(name);
    if (operation === 'GetParameter') {
      this.record(caller, action, arn, decision, stored ? 200 : 400);
      if (stored === undefined) return answer(400, { __type: 'ParameterNotFound' });
      return answer(200, { Parameter: { Name: name, Type: stored.type, Value: stored.value, Version: stored.version, ARN: arn } });
    }
    this.record(caller, action, arn, decision, 200);
    const version = (stored?.version ?? 0) + 1;
    this.parameters.set(name, { value: String(input.Value), type: String(input.Type ?? stored?.type ?? 'String'), version });
    return answer(200, { Version: version, Tier: 'Standard' });
  }

  /** CloudFront's REST API: CreateInvalidation. */
  private async cloudfront(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation$/.exec(req.url ?? '');
    const body = (await readBody(req)).toString('utf8');
    if (req.method !== 'POST' || match === null) {
      res.writeHead(404);
      res.end();
      return;
    }
    const id = match[1] as string;
    const arn = `arn:aws:cloudfront::${this.account}:distribution/${id}`;
    const { decision, caller } = this.authorize(req, 'cloudfront:CreateInvalidation', arn);
    this.record(caller, 'cloudfront:CreateInvalidation', arn, decision, decision === 'Allow' ? 201 : 403);
    if (decision !== 'Allow') {
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>denied</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
      );
      return;
    }
    const paths = [...body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1] as string);
    this.invalidations.push({ distributionId: id, paths });
    const reference = /<CallerReference>([^<]*)<\/CallerReference>/.exec(body)?.[1] ?? '';
    res.writeHead(201, {
      'content-type': 'text/xml',
      location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${id}/invalidation/I1`,
    });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I${this.invalidations.length}</Id><Status>InProgress</Status><CreateTime>${new Date().toISOString()}</CreateTime><InvalidationBatch><Paths><Quantity>${paths.length}</Quantity><Items>${paths.map((p) => `<Path>${p}</Path>`).join('')}</Items></Paths><CallerReference>${reference}</CallerReference></InvalidationBatch></Invalidation>`,
    );
  }

  /**
   * The distribution's edge: a viewer GET reads the origin object as the CloudFront
   * service principal (origin access control), allowed only by the bucket policy. A
   * missing object is a 403 at the viewer, as CloudFront with an S3 OAC origin answers.
   */
  private async edge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const distribution = this.distributions[0];
    const key = decodeURIComponent(new URL(req.url ?? '/', 'https://edge').pathname).replace(/^\//, '');
    if (distribution === undefined) throw new Error('no distribution');
    const objectArn = `arn:aws:s3:::${distribution.bucket}/${key}`;
    const { decision, caller } = this.authorize(req, 's3:GetObject', objectArn, {
      bucket: distribution.bucket,
      service: 'cloudfront.amazonaws.com',
      sourceArn: distribution.arn,
    });
    const stored = this.objects.get(`${distribution.bucket}/${key}`);
    const status = decision === 'Allow' && stored !== undefined ? 200 : 403;
    this.record(`edge:${caller}`, 's3:GetObject', objectArn, decision, status);
    if (status !== 200 || stored === undefined) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(xml('AccessDenied', 'Access Denied'));
      return;
    }
    res.writeHead(200, {
      'content-type': stored.contentType ?? 'application/json',
      ...(stored.cacheControl ? { 'cache-control': stored.cacheControl } : {}),
    });
    res.end(stored.body);
  }
}

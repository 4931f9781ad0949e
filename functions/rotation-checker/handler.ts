import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AuditOptions, type AuditReport, audit, hasErrors, keySetFingerprint } from '../shared/audit';

/** Default `Cache-Control` of the published key set: short, revalidated, served stale on origin errors. */
export const DEFAULT_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60, stale-if-error=86400';

/** What the checker reads from its environment (the CDK construct sets all of it). */
export interface CheckerSettings {
  issuer?: string;
  jwksUri?: string;
  /** The CloudFront URL of the mirror, audited like any reader would see it. */
  mirrorUrl?: string;
  bucket: string;
  objectKey: string;
  distributionId?: string;
  stateParameter: string;
  cacheControl: string;
  maxKeyAgeDays?: number;
  maxCacheTtlSeconds?: number;
}

/** Read {@link CheckerSettings} from environment variables; names the missing one. */
export function settingsFromEnv(env: Record<string, string | undefined>): CheckerSettings {
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value.length === 0) throw new Error(`${name} is not set`);
    return value;
  };
  if (!env.ISSUER && !env.JWKS_URI) throw new Error('ISSUER or JWKS_URI must be set');
  const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
  return {
    issuer: env.ISSUER || undefined,
    jwksUri: env.JWKS_URI || undefined,
    mirrorUrl: env.MIRROR_URL || undefined,
    bucket: need('MIRROR_BUCKET'),
    objectKey: need('MIRROR_KEY'),
    distributionId: env.DISTRIBUTION_ID || undefined,
    stateParameter: need('STATE_PARAMETER'),
    cacheControl: env.CACHE_CONTROL || DEFAULT_CACHE_CONTROL,
    maxKeyAgeDays: num('MAX_KEY_AGE_DAYS'),
    maxCacheTtlSeconds: num('MAX_CACHE_TTL_SECONDS'),
  };
}

/** AWS clients and overrides; tests mock the clients with aws-sdk-client-mock. */
export interface CheckerDependencies {
  s3?: S3Client;
  cloudfront?: CloudFrontClient;
  ssm?: SSMClient;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => number;
  /** Extra audit options (e.g. `http.ca` in tests). */
  auditOptions?: Partial<AuditOptions>;
}

/** What one run did. */
export interface CheckerResult {
  report: AuditReport;
  published: boolean;
  invalidated: boolean;
}

async function readState(ssm: SSMClient, name: string): Promise<{ firstSeen: Record<string, string>; readable: boolean }> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    const parsed = JSON.parse(out.Parameter?.Value ?? '{}') as { firstSeen?: Record<string, string> };
    return { firstSeen: parsed.firstSeen ?? {}, readable: true };
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return { firstSeen: {}, readable: true };
    return { firstSeen: {}, readable: false };
  }
}

async function readMirrorObject(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await out.Body?.transformToString();
    if (text === undefined) return undefined;
    const json = JSON.parse(text) as { keys?: Record<string, unknown>[] };
    return Array.isArray(json.keys) ? keySetFingerprint(json.keys) : undefined;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey' || (error as Error).name === 'NotFound') return undefined;
    throw error;
  }
}

/**
 * The scheduled rotation checker: audit the issuer and the mirror; when the issuer's key
 * set is valid and differs from the mirror object, publish it (then invalidate that one
 * path); never publish an invalid or empty set, so the last good one stays. Keeps the
 * first-seen record in SSM; emits findings as metrics and one structured report.
 */
export async function runChecker(settings: CheckerSettings, deps: CheckerDependencies = {}): Promise<CheckerResult> {
  const s3 = deps.s3 ?? new S3Client({});
  const cloudfront = deps.cloudfront ?? new CloudFrontClient({});
  const ssm = deps.ssm ?? new SSMClient({});
  const logger = deps.logger ?? new Logger({ serviceName: 'scopegate-rotation-checker' });
  const metrics = deps.metrics ?? new Metrics({ namespace: 'scopegate', serviceName: 'scopegate-rotation-checker' });

  const state = await readState(ssm, settings.stateParameter);
  const report = await audit({
    issuer: settings.issuer,
    jwksUri: settings.jwksUri,
    mirrorUri: settings.mirrorUrl,
    firstSeen: state.firstSeen,
    maxKeyAgeDays: settings.maxKeyAgeDays,
    maxCacheTtlSeconds: settings.maxCacheTtlSeconds,
    now: deps.now,
    ...deps.auditOptions,
  });

  let published = false;
  let invalidated = false;
  if (report.verifiedJwks !== undefined) {
    const current = await readMirrorObject(s3, settings.bucket, settings.objectKey);
    const next = keySetFingerprint(report.verifiedJwks.keys);
    if (current !== next) {
      await s3.send(
        new PutObjectCommand({
          Bucket: settings.bucket,
          Key: settings.objectKey,
          Body: `${JSON.stringify(report.verifiedJwks)}\n`,
          ContentType: 'application/json',
          CacheControl: settings.cacheControl,
        }),
      );
      published = true;
    }
    if ((published || report.mirrorInSync === false) && settings.distributionId !== undefined) {
      await cloudfront.send(
        new CreateInvalidationCommand({
          DistributionId: settings.distributionId,
          InvalidationBatch: {
            CallerReference: `scopegate-${next.slice(0, 16)}-${Date.now()}`,
            Paths: { Quantity: 1, Items: [`/${settings.objectKey}`] },
          },
        }),
      );
      invalidated = true;
    }
  }

  const changed = JSON.stringify(report.firstSeen) !== JSON.stringify(state.firstSeen);
  if (state.readable && changed) {
    await ssm.send(
      new PutParameterCommand({
        Name: settings.stateParameter,
        Value: JSON.stringify({ firstSeen: report.firstSeen }),
        Type: 'String',
        Overwrite: true,
      }),
    );
  }

  for (const finding of report.findings) {
    const single = metrics.singleMetric();
    single.addDimension('code', finding.code);
    single.addMetric('Findings', MetricUnit.Count, 1);
  }
  metrics.addMetric('AuditErrors', MetricUnit.Count, report.findings.filter((f) => f.severity === 'error').length);
  metrics.addMetric('KeySetPublished', MetricUnit.Count, published ? 1 : 0);
  metrics.publishStoredMetrics();
  const log = hasErrors(report) ? logger.error.bind(logger) : logger.info.bind(logger);
  log('rotation_audit', { ...report, verifiedJwks: undefined, published, invalidated });
  return { report, published, invalidated };
}

/** The Lambda entry point (EventBridge Scheduler). */
export const handler = async (): Promise<{ findings: AuditReport['findings']; published: boolean; invalidated: boolean }> => {
  const { report, published, invalidated } = await runChecker(settingsFromEnv(process.env));
  return { findings: report.findings, published, invalidated };
};

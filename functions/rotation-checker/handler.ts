import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { Dimension, METRIC_NAMESPACE, MetricName, Service } from '../../core/metrics';
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
  /** The `issuer` dimension of this checker's metrics. Default the issuer, else the key set URL. */
  metricIssuer: string;
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
    metricIssuer: env.METRIC_ISSUER || env.ISSUER || (env.JWKS_URI as string),
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

/** What the mirror object holds: its key set's fingerprint, nothing (missing), or unknown (not readable). */
type MirrorState = { kind: 'present'; fingerprint: string | undefined } | { kind: 'missing' } | { kind: 'unreadable'; error: Error };

/**
 * Read the mirror object. S3 answers a GetObject on a missing key with 404 `NoSuchKey` only
 * to a caller that may `s3:ListBucket`; to anyone else with 403 `AccessDenied`, exactly as
 * for a real permission failure. The construct grants `s3:ListBucket`, so a 403 here is
 * not taken for "missing": it is reported as unreadable (a log line and a finding-like
 * metric), and the run goes on to publish, which is safe (the set was verified) and which
 * fails loudly if writing is denied too.
 */
async function readMirrorObject(s3: S3Client, bucket: string, key: string): Promise<MirrorState> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await out.Body?.transformToString();
    if (text === undefined) return { kind: 'present', fingerprint: undefined };
    try {
      const json = JSON.parse(text) as { keys?: Record<string, unknown>[] };
      return { kind: 'present', fingerprint: Array.isArray(json.keys) ? keySetFingerprint(json.keys) : undefined };
    } catch {
      return { kind: 'present', fingerprint: undefined };
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return { kind: 'missing' };
    if (name === 'AccessDenied' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
      return { kind: 'unreadable', error: error as Error };
    }
    throw error;
  }
}

/**
 * The scheduled rotation checker: audit the issuer and the mirror; publish the issuer's
 * usable public keys ({@link AuditReport.verifiedJwks}) when they differ from the mirror
 * object (then invalidate that one path), so that a key the issuer withdrew leaves the mirror
 * at the next run even while the issuer also publishes a key the audit refuses (that key is
 * left out, and its finding raises the alarm). Only when no usable signing key remains, or
 * the set cannot be had, is nothing published: the last good mirror stays. Keeps the
 * first-seen record in SSM; emits findings as metrics and one structured report.
 */
export async function runChecker(settings: CheckerSettings, deps: CheckerDependencies = {}): Promise<CheckerResult> {
  const s3 = deps.s3 ?? new S3Client({});
  const cloudfront = deps.cloudfront ?? new CloudFrontClient({});
  const ssm = deps.ssm ?? new SSMClient({});
  const logger = deps.logger ?? new Logger({ serviceName: Service.RotationChecker });
  const metrics = deps.metrics ?? new Metrics({ namespace: METRIC_NAMESPACE, serviceName: Service.RotationChecker });

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
  let mirrorUnreadable = false;
  if (report.verifiedJwks !== undefined) {
    const current = await readMirrorObject(s3, settings.bucket, settings.objectKey);
    if (current.kind === 'unreadable') {
      mirrorUnreadable = true;
      logger.warn('mirror_unreadable', { bucket: settings.bucket, key: settings.objectKey, error: current.error.message });
    }
    const next = keySetFingerprint(report.verifiedJwks.keys);
    if (current.kind !== 'present' || current.fingerprint !== next) {
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
    single.addDimensions({ [Dimension.Issuer]: settings.metricIssuer, [Dimension.Code]: finding.code });
    single.addMetric(MetricName.Findings, MetricUnit.Count, 1);
  }
  // One line with the issuer dimension, so that two checkers never share an alarm's metric.
  metrics.addDimension(Dimension.Issuer, settings.metricIssuer);
  metrics.addMetric(MetricName.AuditErrors, MetricUnit.Count, report.findings.filter((f) => f.severity === 'error').length);
  metrics.addMetric(MetricName.KeySetPublished, MetricUnit.Count, published ? 1 : 0);
  metrics.addMetric(MetricName.AuditRuns, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  const log = hasErrors(report) ? logger.error.bind(logger) : logger.info.bind(logger);
  log('rotation_audit', { ...report, verifiedJwks: undefined, published, invalidated, mirrorUnreadable });
  return { report, published, invalidated };
}

let logger: Logger | undefined;

/**
 * The Lambda entry point (EventBridge Scheduler, and the deploy-time trigger). Every log
 * line carries the Lambda context (request id, cold start).
 */
export const handler = async (
  _event?: unknown,
  context?: Context,
): Promise<{ findings: AuditReport['findings']; published: boolean; invalidated: boolean }> => {
  logger ??= new Logger({ serviceName: Service.RotationChecker });
  if (context !== undefined) logger.addContext(context);
  const { report, published, invalidated } = await runChecker(settingsFromEnv(process.env), { logger });
  return { findings: report.findings, published, invalidated };
};

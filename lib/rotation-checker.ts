import { CfnResource, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { MetricName, Service } from '../core/metrics';
import type { JwksDistribution } from './jwks-distribution';
import { ScopegateMetrics } from './metrics';
import { scopegateFunction } from './node-function';

/** Properties of {@link RotationChecker}. */
export interface RotationCheckerProps {
  /** The issuer (its `iss`); OIDC discovery gives its key set unless `originJwksUri` is set. */
  readonly issuer: string;
  /**
   * The issuer's own key set URL, when discovery is not to be used.
   * @default - found by OIDC discovery of `issuer`
   */
  readonly originJwksUri?: string;
  /** Where the verified copy is published. */
  readonly distribution: JwksDistribution;
  /** The object key of the copy, e.g. `ops/jwks.json`. */
  readonly objectKey: string;
  /**
   * How often to run.
   * @default Duration.hours(1)
   */
  readonly schedule?: Duration;
  /**
   * Report keys older than this (whole days).
   * @default Duration.days(90)
   */
  readonly maxKeyAge?: Duration;
  /**
   * Report key set caching longer than this (whole seconds).
   * @default Duration.hours(1)
   */
  readonly maxCacheTtl?: Duration;
  /**
   * `max-age` of the published copy (its `Cache-Control`), which the edge and every
   * authorizer honour: keep it below the issuer's pre-publication window. Never above
   * `maxCacheTtl`.
   * @default Duration.minutes(5)
   */
  readonly mirrorTtl?: Duration;
  /**
   * `Cache-Control` of the published copy; overrides `mirrorTtl`.
   * @default - `public, max-age=<mirrorTtl>, stale-while-revalidate=60, stale-if-error=86400`
   */
  readonly cacheControl?: string;
  /**
   * Where the alarm on error findings, failed runs and missing runs goes.
   * @default - the alarm has no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Run once at deploy (a CDK trigger after the distribution exists), so the mirror is
   * seeded before the first request.
   * @default true
   */
  readonly seedAtDeploy?: boolean;
  /**
   * X-Ray active tracing of the function.
   * @default false
   */
  readonly tracing?: boolean;
}

/**
 * The scheduled key-rotation checker for one issuer: the function on an EventBridge
 * Scheduler schedule and once at deploy, allowed exactly its object (and to list its
 * bucket, so that S3 answers a missing object with 404), its distribution's invalidations
 * and its state parameter; failed runs land in a queue; one alarm per issuer on error
 * findings, failed runs and runs that did not happen.
 */
export class RotationChecker extends Construct {
  /** The checker function. */
  readonly function: lambda.IFunction;
  /** Where the checker keeps the first-seen time of each `kid`. */
  readonly stateParameter: ssm.IStringParameter;
  /** The alarm on error findings, failed runs and missing runs. */
  readonly alarm: cloudwatch.IAlarm;
  /** Failed asynchronous runs (the schedule's), after Lambda's retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The deploy-time run; undefined when `seedAtDeploy` is false. */
  readonly seed: triggers.Trigger | undefined;

  constructor(scope: Construct, id: string, props: RotationCheckerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const stateParameter = new ssm.StringParameter(this, 'State', {
      description: `scopegate rotation checker state (first-seen kids) for ${props.issuer}`,
      stringValue: '{}',
      tier: ssm.ParameterTier.STANDARD,
    });
    const maxCacheTtlSeconds = (props.maxCacheTtl ?? Duration.hours(1)).toSeconds();
    const mirrorTtlSeconds = Math.min((props.mirrorTtl ?? Duration.seconds(300)).toSeconds(), maxCacheTtlSeconds);
    const cacheControl = props.cacheControl ?? `public, max-age=${mirrorTtlSeconds}, stale-while-revalidate=60, stale-if-error=86400`;
    const deadLetterQueue = new sqs.Queue(this, 'FailedRuns', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the checker's on-failure destination (a dead-letter queue); it needs no DLQ of its own.",
    });
    this.stateParameter = stateParameter;
    this.deadLetterQueue = deadLetterQueue;
    const fn = scopegateFunction(this, 'Function', {
      bundle: 'rotation-checker',
      description: `scopegate key-rotation checker for ${props.issuer}`,
      memorySize: Size.mebibytes(256),
      timeout: Duration.seconds(60),
      tracing: props.tracing,
      onFailure: new destinations.SqsDestination(deadLetterQueue),
      environment: {
        ISSUER: props.originJwksUri ? '' : props.issuer,
        JWKS_URI: props.originJwksUri ?? '',
        METRIC_ISSUER: props.issuer,
        MIRROR_URL: props.distribution.urlOf(props.objectKey),
        MIRROR_BUCKET: props.distribution.bucket.bucketName,
        MIRROR_KEY: props.objectKey,
        DISTRIBUTION_ID: props.distribution.distribution.distributionId,
        STATE_PARAMETER: stateParameter.parameterName,
        CACHE_CONTROL: cacheControl,
        MAX_KEY_AGE_DAYS: String((props.maxKeyAge ?? Duration.days(90)).toDays()),
        MAX_CACHE_TTL_SECONDS: String(maxCacheTtlSeconds),
        POWERTOOLS_SERVICE_NAME: Service.RotationChecker,
      },
    });
    this.function = fn;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.distribution.bucket.arnForObjects(props.objectKey)],
      }),
    );
    // Without s3:ListBucket, S3 answers a GetObject on a missing key with 403 AccessDenied,
    // indistinguishable from a real denial. With it, a missing mirror is a 404 NoSuchKey. No
    // s3:prefix condition: S3 checks ListBucket for a missing-object answer without one, so
    // a prefix-conditioned grant would still give 403. The bucket holds public keys only.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.distribution.bucket.bucketArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudfront:CreateInvalidation'],
        resources: [
          stack.formatArn({
            service: 'cloudfront',
            region: '',
            resource: 'distribution',
            resourceName: props.distribution.distribution.distributionId,
          }),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [stateParameter.parameterArn] }),
    );
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      // Only this account's schedules may act through the role (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: `Invokes the scopegate rotation checker for ${props.issuer}`,
    });
    const schedule = props.schedule ?? Duration.hours(1);
    new scheduler.Schedule(this, 'Schedule', {
      description: `scopegate key-rotation audit of ${props.issuer}`,
      schedule: scheduler.ScheduleExpression.rate(schedule),
      target: new targets.LambdaInvoke(fn, { retryAttempts: 0, role: schedulerRole }),
    });
    const fnId = stack.getLogicalId(fn.node.defaultChild as CfnResource);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'Invoke permission on this one function and its versions (ARN:*), as grantInvoke writes it; nothing else.',
    });

    if (props.seedAtDeploy !== false) {
      // Seed the mirror during the deploy, once the distribution, the bucket policy and the
      // state parameter exist: the first request after a deploy finds keys at the mirror.
      this.seed = new triggers.Trigger(this, 'SeedAtDeploy', {
        handler: fn,
        executeAfter: [props.distribution, stateParameter],
        executeOnHandlerChange: true,
        invocationType: triggers.InvocationType.REQUEST_RESPONSE,
        timeout: Duration.seconds(90),
      });
      triggerProviderLogs(stack);
    }

    // One period covers at least one scheduled run (twice the interval, for the schedule's
    // jitter), at most a day (the alarm's limit).
    const periodMinutes = Math.min(1440, Math.max(5, 2 * schedule.toMinutes()));
    const period = Duration.minutes(periodMinutes);
    const errors = new cloudwatch.MathExpression({
      // FILL: a crashed run writes no AuditErrors, and metric math over a missing value is
      // missing (OK); filled with 0, the failure alone breaches. A period with no completed
      // run at all (schedule broken, function timing out) breaches too.
      expression: 'FILL(findings, 0) + FILL(failures, 0) + IF(FILL(runs, 0) < 1, 1, 0)',
      usingMetrics: {
        findings: ScopegateMetrics.checker(MetricName.AuditErrors, props.issuer, period, 'Maximum'),
        runs: ScopegateMetrics.checker(MetricName.AuditRuns, props.issuer, period, 'Sum'),
        failures: fn.metricErrors({ period, statistic: 'Sum' }),
      },
      label: 'error findings, failed runs and missing runs',
      period,
    });
    const alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `scopegate: the key-rotation audit of ${props.issuer} found errors, failed, or did not run. See docs/deploying.md, "Alarms".`,
      metric: errors,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data at all (not even the function's own metrics) means no run: breach.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarm = alarm;
    if (props.alarmTopic) alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}

/** The construct id aws-cdk-lib gives the one CDK trigger provider of a stack. */
const TRIGGER_PROVIDER_ID = 'AWSCDK.TriggerCustomResourceProviderCustomResourceProvider';

/**
 * The CDK trigger provider's function (one per stack, aws-cdk-lib's) logs into a log group
 * with a retention, rather than one Lambda would create on first run and keep forever.
 */
function triggerProviderLogs(stack: Stack): void {
  const provider = stack.node.tryFindChild(TRIGGER_PROVIDER_ID);
  const handler = provider?.node.tryFindChild('Handler');
  if (provider === undefined || !(handler instanceof CfnResource) || handler.cfnResourceType !== 'AWS::Lambda::Function') {
    throw new Error(`the CDK trigger provider (${TRIGGER_PROVIDER_ID}/Handler) was not found: aws-cdk-lib changed how it builds triggers`);
  }
  if (provider.node.tryFindChild('Logs') !== undefined) return;
  const group = new logs.LogGroup(provider, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
  // Its role has AWSLambdaBasicExecutionRole, which may write to any log group.
  handler.addPropertyOverride('LoggingConfig', { LogGroup: group.logGroupName });
}

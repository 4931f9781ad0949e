import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { JwksDistribution } from './jwks-distribution';
import { scopegateFunction } from './node-function';

/** Properties of {@link RotationChecker}. */
export interface RotationCheckerProps {
  /** The issuer; OIDC discovery gives its key set. */
  issuer: string;
  /** The issuer's own key set URL, when discovery is not to be used. */
  originJwksUri?: string;
  /** Where the verified copy is published. */
  distribution: JwksDistribution;
  /** The object key of the copy, e.g. `ops/jwks.json`. */
  objectKey: string;
  /** How often to run. Default every hour. */
  schedule?: Duration;
  /** Report keys older than this many days. Default 90. */
  maxKeyAgeDays?: number;
  /** Report key set caching longer than this, in seconds. Default 3600. */
  maxCacheTtlSeconds?: number;
  /** `Cache-Control` of the published copy. Default short, with `stale-if-error`. */
  cacheControl?: string;
  /** Where the alarm on error findings (or a failed run) goes. */
  alarmTopic?: sns.ITopic;
}

/**
 * The scheduled key-rotation checker for one issuer: the function on an EventBridge
 * Scheduler schedule, allowed exactly its object, its distribution's invalidations and
 * its state parameter, with an alarm on error findings and on failed runs.
 */
export class RotationChecker extends Construct {
  readonly function: NodejsFunction;
  readonly stateParameter: ssm.StringParameter;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RotationCheckerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateParameter = new ssm.StringParameter(this, 'State', {
      description: `scopegate rotation checker state (first-seen kids) for ${props.issuer}`,
      stringValue: '{}',
    });
    const cacheControl =
      props.cacheControl ??
      `public, max-age=${Math.min(300, props.maxCacheTtlSeconds ?? 3600)}, stale-while-revalidate=60, stale-if-error=86400`;
    this.function = scopegateFunction(this, 'Function', {
      entry: 'rotation-checker/handler.ts',
      description: `scopegate key-rotation checker for ${props.issuer}`,
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: {
        ISSUER: props.originJwksUri ? '' : props.issuer,
        JWKS_URI: props.originJwksUri ?? '',
        MIRROR_URL: props.distribution.urlOf(props.objectKey),
        MIRROR_BUCKET: props.distribution.bucket.bucketName,
        MIRROR_KEY: props.objectKey,
        DISTRIBUTION_ID: props.distribution.distribution.distributionId,
        STATE_PARAMETER: this.stateParameter.parameterName,
        CACHE_CONTROL: cacheControl,
        MAX_KEY_AGE_DAYS: String(props.maxKeyAgeDays ?? 90),
        MAX_CACHE_TTL_SECONDS: String(props.maxCacheTtlSeconds ?? 3600),
        POWERTOOLS_SERVICE_NAME: 'scopegate-rotation-checker',
      },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.distribution.bucket.arnForObjects(props.objectKey)],
      }),
    );
    this.function.addToRolePolicy(
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
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [this.stateParameter.parameterArn] }),
    );
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: `Invokes the scopegate rotation checker for ${props.issuer}`,
    });
    new scheduler.Schedule(this, 'Schedule', {
      description: `scopegate key-rotation audit of ${props.issuer}`,
      schedule: scheduler.ScheduleExpression.rate(props.schedule ?? Duration.hours(1)),
      target: new targets.LambdaInvoke(this.function, { retryAttempts: 0, role: schedulerRole }),
    });
    const fnId = stack.getLogicalId(this.function.node.defaultChild as CfnResource);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'Invoke permission on this one function and its versions (ARN:*), as grantInvoke writes it; nothing else.',
    });
    const errors = new cloudwatch.MathExpression({
      expression: 'findings + failures',
      usingMetrics: {
        findings: new cloudwatch.Metric({
          namespace: 'scopegate',
          metricName: 'AuditErrors',
          dimensionsMap: { service: 'scopegate-rotation-checker' },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        failures: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      },
      label: 'error findings and failed runs',
    });
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `scopegate: the key-rotation audit of ${props.issuer} found errors or failed`,
      metric: errors,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}

import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import exampleRoutes from '../examples/routes.json';
import { Dimension, MetricName } from '../functions/shared/metrics';
import { DISCOVERY_SUFFIX } from '../functions/shared/oidc-discovery';
import { Reason } from '../functions/shared/reasons';
import type { EnvironmentSettings } from './environment';
import { JwksDistribution } from './jwks-distribution';
import { ScopegateMetrics } from './metrics';
import { RotationChecker } from './rotation-checker';
import { ScopeAuthorizer } from './scope-authorizer';

/** Properties of {@link ScopegateStack}. */
export interface ScopegateStackProps extends StackProps {
  /** The environment's settings, read from `cdk.json` by `readEnvironment`. */
  readonly settings: EnvironmentSettings;
}

/** The contract's example routes (`examples/routes.json`), deployed on the demo API with mock integrations. */
export const DEMO_ROUTES: { method: string; path: string; scopes: string[]; maxAuthAgeSeconds?: number }[] = exampleRoutes;

/**
 * One environment of scopegate: the JWKS distribution, a rotation checker per issuer, the
 * authorizer, a demo REST API behind it with the gateway responses of the contract, an
 * alarm topic and a dashboard.
 */
export class ScopegateStack extends Stack {
  readonly authorizer: ScopeAuthorizer;
  readonly jwks: JwksDistribution;
  readonly api: apigw.RestApi | undefined;
  /** The alarm topic: every alarm of the stack notifies it. */
  readonly alarmTopic: sns.Topic;
  /** The authorizer's and the API's alarms, by name (the rotation checkers carry their own). */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: ScopegateStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.jwks = new JwksDistribution(this, 'Jwks', {
      defaultTtl: Duration.seconds(s.rotation.mirrorTtlSeconds),
      maxTtl: Duration.seconds(s.rotation.maxCacheTtlSeconds),
    });

    const topic = new sns.Topic(this, 'Alarms', { displayName: `scopegate ${s.name} alarms`, enforceSSL: true });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; alarm messages carry no secrets.',
    });
    // enforceSSL writes a topic policy, which replaces SNS's default one: without an Allow
    // for CloudWatch, alarms could not publish. Only this account's alarms may.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.alarmTopic = topic;
    if (s.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(s.alarmEmail));

    const checkers = s.issuers.map(
      (issuer) =>
        new RotationChecker(this, `Rotation-${issuer.name}`, {
          issuer: issuer.issuer,
          originJwksUri: issuer.originJwksUri,
          distribution: this.jwks,
          objectKey: `${issuer.name}/jwks.json`,
          schedule: Duration.minutes(s.rotation.scheduleMinutes),
          maxKeyAge: Duration.days(s.rotation.maxKeyAgeDays),
          maxCacheTtl: Duration.seconds(s.rotation.maxCacheTtlSeconds),
          mirrorTtl: Duration.seconds(s.rotation.mirrorTtlSeconds),
          alarmTopic: topic,
          tracing: s.tracing,
        }),
    );

    this.authorizer = new ScopeAuthorizer(this, 'ScopeAuthorizer', {
      issuers: s.issuers.map((issuer) => ({
        issuer: issuer.issuer,
        jwksUri: this.jwks.urlOf(`${issuer.name}/jwks.json`),
        // The mirror first; the issuer itself when the mirror is not seeded yet or lacks a
        // key the issuer signs with as soon as it publishes it (see docs/deploying.md).
        jwksFallbackUris: [issuer.originJwksUri ?? `${issuer.issuer.replace(/\/$/, '')}${DISCOVERY_SUFFIX}`],
        ...(issuer.audience.length > 0 ? { audience: issuer.audience } : {}),
        profile: issuer.profile,
        clientIds: issuer.clientIds,
        clientClaim: issuer.clientClaim,
        algorithms: issuer.algorithms,
        tokenType: issuer.tokenType,
        scopeClaim: issuer.scopeClaim,
      })),
      cacheTtl: Duration.seconds(s.authorizerCacheTtlSeconds),
      clockTolerance: Duration.seconds(s.clockToleranceSeconds),
      parameterName: `/scopegate/${s.name}/authorizer-config`,
      tracing: s.tracing,
      enforcement: s.enforcement,
    });

    // Without the demo API the authorizer waits for your API: attach it from your own stack
    // (docs/attaching.md), or from another app by the function's ARN.
    if (s.demoApi) this.api = this.demoApi(s);
    else
      new CfnOutput(this, 'AuthorizerFunctionArn', {
        value: this.authorizer.function.functionArn,
        description: 'The scopegate authorizer function, for APIs defined elsewhere',
      });
    this.addAlarms(topic);
    this.dashboard(s, checkers);
  }

  private demoApi(s: EnvironmentSettings): apigw.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const api = new apigw.RestApi(this, 'DemoApi', {
      restApiName: `scopegate-demo-${s.name}`,
      description: 'scopegate demo API: the contract example routes behind the scope authorizer',
      cloudWatchRole: true,
      deployOptions: {
        stageName: s.name,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        throttlingRateLimit: s.throttling.rateLimit,
        throttlingBurstLimit: s.throttling.burstLimit,
        tracingEnabled: true,
      },
    });
    const validator = api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
    // The gateway responses (401/403 WWW-Authenticate, 503 Retry-After) come with the authorizer.
    const mock = new apigw.MockIntegration({
      passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      integrationResponses: [
        {
          statusCode: '200',
          responseTemplates: {
            'application/json':
              '{"route": "$context.httpMethod $context.resourcePath", "principal": "$context.authorizer.principalId", "scope": "$context.authorizer.scope"}',
          },
        },
      ],
    });
    for (const route of DEMO_ROUTES) {
      this.authorizer.addMethod(api.root.resourceForPath(route.path), route.method, mock, {
        scopes: route.scopes,
        maxAuthAge: route.maxAuthAgeSeconds === undefined ? undefined : Duration.seconds(route.maxAuthAgeSeconds),
        methodOptions: { requestValidator: validator, methodResponses: [{ statusCode: '200' }] },
      });
    }
    if (api.node.tryFindChild('CloudWatchRole')) {
      Validations.of(api.node.findChild('CloudWatchRole')).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level logging role uses the AWS-documented managed policy for pushing execution logs.",
      });
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'A demo API with mock integrations; attach a WAF web ACL to production APIs as policy requires.',
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Methods are guarded by the scopegate Lambda TOKEN authorizer, not a Cognito user pool authorizer, by design.',
    });
    return api;
  }

  /** Alarms on the authorizer (and the demo API), each to the topic; what to do is in docs/deploying.md. */
  private addAlarms(topic: sns.ITopic): void {
    const fiveMinutes = Duration.minutes(5);
    const atLeastOnce = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmDescription: `scopegate: ${description} See docs/deploying.md, "Alarms".`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(topic));
      this.alarms[id] = alarm;
      return alarm;
    };
    const fn = this.authorizer.function;
    atLeastOnce(
      'KeysUnavailableAlarm',
      ScopegateMetrics.decisions(Reason.KeysUnavailable, fiveMinutes),
      'requests failed with 503 because no key set (mirror nor issuer) could be fetched.',
    );
    atLeastOnce(
      'ConfigUnavailableAlarm',
      ScopegateMetrics.decisions(Reason.ConfigUnavailable, fiveMinutes),
      'requests failed with 503 because the authorizer configuration could not be read or is invalid.',
    );
    atLeastOnce(
      'IntrospectionUnavailableAlarm',
      ScopegateMetrics.decisions(Reason.IntrospectionUnavailable, fiveMinutes),
      'requests failed with 503 because an introspection endpoint did not answer.',
    );
    // Lambda's Errors metric counts every 401 too (the contract makes a 401 a thrown
    // Error), so unexpected failures are read from what explains them: internal_error
    // decisions, and invocations that ran into the function's timeout.
    const timeoutMs = this.authorizer.timeout.toMilliseconds();
    atLeastOnce(
      'AuthorizerErrorsAlarm',
      new cloudwatch.MathExpression({
        expression: `FILL(internal, 0) + IF(FILL(longest, 0) >= ${timeoutMs * 0.95}, 1, 0)`,
        usingMetrics: {
          internal: ScopegateMetrics.decisions(Reason.Internal, fiveMinutes),
          longest: fn.metricDuration({ period: fiveMinutes, statistic: 'Maximum' }),
        },
        label: 'internal errors and timeouts',
        period: fiveMinutes,
      }),
      'the authorizer failed unexpectedly (internal_error decisions, or an invocation that timed out).',
    );
    atLeastOnce(
      'AuthorizerThrottlesAlarm',
      fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      'authorizer invocations were throttled.',
    );
    if (this.api) {
      atLeastOnce('Api5xxAlarm', this.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), 'the API answered 5xx.');
    }
  }

  private dashboard(s: EnvironmentSettings, checkers: RotationChecker[]): void {
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `scopegate-${s.name}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Decisions by reason',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.Decisions, [Dimension.Reason], 'decisions')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Authorizer latency (ms)',
            width: 12,
            left: [
              this.authorizer.function.metricDuration({ statistic: 'p50', label: 'Lambda p50' }),
              this.authorizer.function.metricDuration({ statistic: 'p99', label: 'Lambda p99' }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'JWKS fetches',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.JwksFetches, [Dimension.Outcome], 'fetches')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Rotation findings',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.Findings, [Dimension.Code, Dimension.Issuer], 'findings')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Would deny (report-only)',
            width: 24,
            left: [ScopegateMetrics.searchAll(MetricName.WouldDeny, 'would deny')],
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 24,
            alarms: [...checkers.map((c) => c.alarm), ...Object.values(this.alarms)],
          }),
        ],
      ],
    });
  }
}

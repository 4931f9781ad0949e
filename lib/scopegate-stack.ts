import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import exampleRoutes from '../examples/routes.json';
import type { EnvironmentSettings } from './environment';
import { JwksDistribution } from './jwks-distribution';
import { RotationChecker } from './rotation-checker';
import { ScopeAuthorizer } from './scope-authorizer';

/** Properties of {@link ScopegateStack}. */
export interface ScopegateStackProps extends StackProps {
  settings: EnvironmentSettings;
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
    if (s.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(s.alarmEmail));

    const checkers = s.issuers.map(
      (issuer) =>
        new RotationChecker(this, `Rotation-${issuer.name}`, {
          issuer: issuer.issuer,
          originJwksUri: issuer.originJwksUri,
          distribution: this.jwks,
          objectKey: `${issuer.name}/jwks.json`,
          schedule: Duration.minutes(s.rotation.scheduleMinutes),
          maxKeyAgeDays: s.rotation.maxKeyAgeDays,
          maxCacheTtlSeconds: s.rotation.maxCacheTtlSeconds,
          alarmTopic: topic,
        }),
    );

    this.authorizer = new ScopeAuthorizer(this, 'ScopeAuthorizer', {
      issuers: s.issuers.map((issuer) => ({
        issuer: issuer.issuer,
        jwksUri: this.jwks.urlOf(`${issuer.name}/jwks.json`),
        audience: issuer.audience,
        algorithms: issuer.algorithms,
        tokenType: issuer.tokenType,
        scopeClaim: issuer.scopeClaim,
      })),
      cacheTtl: Duration.seconds(s.authorizerCacheTtlSeconds),
      clockToleranceSeconds: s.clockToleranceSeconds,
      parameterName: `/scopegate/${s.name}/authorizer-config`,
    });

    // Without the demo API the authorizer waits for methods: add them from your own stack.
    if (s.demoApi) this.api = this.demoApi(s);
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
    const gatewayResponse = (id: string, type: apigw.ResponseType, statusCode: string, headers: Record<string, string>) =>
      api.addGatewayResponse(id, { type, statusCode, responseHeaders: headers });
    gatewayResponse('Unauthorized', apigw.ResponseType.UNAUTHORIZED, '401', {
      'WWW-Authenticate': `'Bearer error="invalid_token"'`,
    });
    gatewayResponse('AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', {
      'WWW-Authenticate': `'Bearer error="insufficient_scope"'`,
    });
    gatewayResponse('AuthorizerFailure', apigw.ResponseType.AUTHORIZER_FAILURE, '503', { 'Retry-After': `'5'` });
    gatewayResponse('AuthorizerConfigurationError', apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, '503', { 'Retry-After': `'5'` });

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
        maxAuthAgeSeconds: route.maxAuthAgeSeconds,
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

  private dashboard(s: EnvironmentSettings, checkers: RotationChecker[]): void {
    const search = (expression: string, label: string) =>
      new cloudwatch.MathExpression({ expression, label, usingMetrics: {}, period: Duration.minutes(5) });
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `scopegate-${s.name}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Decisions by reason',
            width: 12,
            left: [search(`SEARCH('{scopegate,reason,service} MetricName="Decisions"', 'Sum', 300)`, 'decisions')],
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
            left: [search(`SEARCH('{scopegate,outcome,service} MetricName="JwksFetches"', 'Sum', 300)`, 'fetches')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Rotation findings',
            width: 12,
            left: [search(`SEARCH('{scopegate,code,service} MetricName="Findings"', 'Sum', 300)`, 'findings')],
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Rotation alarms', width: 24, alarms: checkers.map((c) => c.alarm) })],
      ],
    });
  }
}

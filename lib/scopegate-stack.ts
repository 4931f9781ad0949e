import { Duration, Size, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentIssuer, EnvironmentSettings } from './environment';
import type { ScopeIntrospection } from './introspection';
import { Scopegate, type ScopegateIssuer, scopegateAccessLogFormat } from './scopegate';

/** Properties of {@link ScopegateStack}. */
export interface ScopegateStackProps extends StackProps {
  /** The environment's settings, read from `cdk.json` by `readEnvironment`. */
  readonly settings: EnvironmentSettings;
}

/**
 * One environment of `cdk.json`, as a user's app would deploy it: a {@link Scopegate} over
 * the environment's issuers and route table, and, only where the environment asks for it
 * (`demoApi: true`), a demo REST API whose methods are the route table on mock integrations.
 * Without the demo API the route table is the authorizer's configuration, for an API defined
 * elsewhere that calls the function (its ARN is an output).
 */
export class ScopegateStack extends Stack {
  /** The whole product: mirror, rotation checkers, authorizer, alarms, dashboard, outputs. */
  readonly scopegate: Scopegate;
  /** The demo API, when the environment asks for it. */
  readonly api: apigw.RestApi | undefined;

  constructor(scope: Construct, id: string, props: ScopegateStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.api = s.demoApi ? demoApi(this, s) : undefined;
    // The id 'Default' keeps the construct out of its children's logical ids: the resources
    // keep the ids they had when this stack built them itself (an upgrade replaces nothing).
    this.scopegate = new Scopegate(this, 'Default', {
      name: s.name,
      issuers: s.issuers.map(scopegateIssuer),
      routes: s.routes.table,
      ...(this.api !== undefined
        ? {
            api: this.api,
            integration: mockIntegration(),
            methodOptions: {
              requestValidator: this.api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true }),
              methodResponses: [{ statusCode: '200' }],
            },
          }
        : {}),
      authorizerOptions: {
        cacheTtl: Duration.seconds(s.authorizerCacheTtlSeconds),
        clockTolerance: Duration.seconds(s.clockToleranceSeconds),
        parameterName: `/scopegate/${s.name}/authorizer-config`,
        enforcement: s.enforcement,
        mode: s.mode,
        unrouted: s.unrouted,
        maxTokenSize: s.maxTokenBytes === undefined ? undefined : Size.bytes(s.maxTokenBytes),
        minRsaBits: s.minRsaBits,
        jwks:
          s.jwks === undefined
            ? undefined
            : {
                maxSize: s.jwks.maxBytes === undefined ? undefined : Size.bytes(s.jwks.maxBytes),
                timeout: s.jwks.timeoutMs === undefined ? undefined : Duration.millis(s.jwks.timeoutMs),
                minRefetchInterval:
                  s.jwks.minRefetchIntervalSeconds === undefined ? undefined : Duration.seconds(s.jwks.minRefetchIntervalSeconds),
                maxAge: s.jwks.maxAgeSeconds === undefined ? undefined : Duration.seconds(s.jwks.maxAgeSeconds),
              },
      },
      rotation: {
        schedule: Duration.minutes(s.rotation.scheduleMinutes),
        maxKeyAge: Duration.days(s.rotation.maxKeyAgeDays),
        maxCacheTtl: Duration.seconds(s.rotation.maxCacheTtlSeconds),
        mirrorTtl: Duration.seconds(s.rotation.mirrorTtlSeconds),
      },
      alarmEmail: s.alarmEmail,
      tracing: s.tracing,
    });
  }

  /** The authorizer (the Scopegate's). */
  get authorizer() {
    return this.scopegate.authorizer;
  }
}

/** A cdk.json issuer as the construct takes it (durations as `Duration`). */
function scopegateIssuer(issuer: EnvironmentIssuer): ScopegateIssuer {
  return {
    name: issuer.name,
    issuer: issuer.issuer,
    ...(issuer.audience.length > 0 ? { audience: issuer.audience } : {}),
    profile: issuer.profile,
    clientIds: issuer.clientIds,
    clientClaim: issuer.clientClaim,
    algorithms: issuer.algorithms,
    tokenType: issuer.tokenType,
    scopeClaim: issuer.scopeClaim,
    originJwksUri: issuer.originJwksUri,
    ...(issuer.introspection !== undefined ? { introspection: introspectionOf(issuer.introspection) } : {}),
    ...(issuer.senderConstraint !== undefined ? { senderConstraint: issuer.senderConstraint } : {}),
  };
}

function introspectionOf(settings: NonNullable<EnvironmentIssuer['introspection']>): ScopeIntrospection {
  const { cacheMaxSeconds, timeoutMs, ...rest } = settings;
  return {
    ...rest,
    ...(cacheMaxSeconds !== undefined ? { cacheMaxAge: Duration.seconds(cacheMaxSeconds) } : {}),
    ...(timeoutMs !== undefined ? { timeout: Duration.millis(timeoutMs) } : {}),
  };
}

/**
 * The demo API: logged (access log with the authorizer's fields, execution log on errors),
 * throttled and traced. Its execution logging needs API Gateway's account-level CloudWatch
 * role, which the stack sets (`AWS::ApiGateway::Account`, one per account and Region): that is
 * why the demo API is deployed only where an environment asks for it.
 */
function demoApi(stack: Stack, s: EnvironmentSettings): apigw.RestApi {
  const accessLogs = new logs.LogGroup(stack, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
  const api = new apigw.RestApi(stack, 'DemoApi', {
    restApiName: `scopegate-demo-${s.name}`,
    description: 'scopegate demo API: the route table on mock integrations, behind the scope authorizer',
    cloudWatchRole: true,
    deployOptions: {
      stageName: s.name,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: scopegateAccessLogFormat(),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      throttlingRateLimit: s.throttling.rateLimit,
      throttlingBurstLimit: s.throttling.burstLimit,
      tracingEnabled: true,
    },
  });
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
  if (s.routes.table.publicRoutes.length > 0) {
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'The public operations of the route table (security: [] in the OpenAPI document) ask no token, by design.',
    });
  }
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'Methods are guarded by the scopegate Lambda TOKEN authorizer, not a Cognito user pool authorizer, by design.',
  });
  return api;
}

/** A mock integration that answers 200 with the route and the authorizer's principal and scope. */
function mockIntegration(): apigw.MockIntegration {
  return new apigw.MockIntegration({
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
}

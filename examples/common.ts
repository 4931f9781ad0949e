/**
 * What the examples share: the issuer they trust, the account they deploy to, and the
 * stage settings and cdk-nag acknowledgements of an example API.
 */
import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ScopeAuthorizerIssuer } from '../lib/scope-authorizer';

/** The examples' identity provider (any RFC 9068 issuer; see docs/providers.md). */
export const ISSUER: ScopeAuthorizerIssuer = {
  issuer: 'https://idp.example.com/realms/ops',
  jwksUri: 'https://idp.example.com/realms/ops/protocol/openid-connect/certs',
  audience: 'https://api.example.com',
  tokenType: 'at+jwt',
};

/** Where the examples deploy. */
export const ENV = { account: '111111111111', region: 'eu-west-1' };

/** A stage with access logs, execution logs on errors and tracing (what cdk-nag asks of every API). */
export function loggedStage(scope: Construct, stageName: string): apigw.StageOptions {
  const accessLogs = new logs.LogGroup(scope, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
  return {
    stageName,
    accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
    accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
    loggingLevel: apigw.MethodLoggingLevel.ERROR,
    tracingEnabled: true,
  };
}

/** What an example REST API leaves to its owner, said once. */
export function acknowledgeExampleApi(api: Construct): void {
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-APIG3',
    reason: 'An example API; attach a WAF web ACL to production APIs as policy requires.',
  });
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'Methods are guarded by the scopegate Lambda authorizer, not a Cognito user pool authorizer, by design.',
  });
}

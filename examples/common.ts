/**
 * What the examples share: the issuer they trust, the account they deploy to, and the
 * stage settings and cdk-nag acknowledgements of an example API.
 */
import { App, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ScopeAuthorizerIssuer } from 'scopegate';
import { scopegateAccessLogFormat } from 'scopegate';
import cdkJson from '../cdk.json';

/**
 * The context `cdk synth` gives every app of this repository: cdk.json's `context`, its
 * feature flags among it (`@aws-cdk/core:defaultCrossStackReferences: weak`,
 * `@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId`, …), which change the
 * templates. Tests and CI synthesize the examples with it, so they see what the CLI deploys.
 */
export const REPOSITORY_CONTEXT: Record<string, unknown> = cdkJson.context;

/** An app as `npx cdk synth --app "npx tsx examples/NAME.ts"` makes it in this repository: cdk.json's context. */
export function repositoryApp(outdir?: string): App {
  return new App({ context: REPOSITORY_CONTEXT, outdir });
}

/** The examples' identity provider (any RFC 9068 issuer; see docs/providers.md). */
export const ISSUER: ScopeAuthorizerIssuer = {
  issuer: 'https://idp.example.com/realms/ops',
  jwksUri: 'https://idp.example.com/realms/ops/protocol/openid-connect/certs',
  audience: 'https://api.example.com',
  tokenType: 'at+jwt',
};

/** Where the examples deploy. */
export const ENV = { account: '111111111111', region: 'eu-west-1' };

/**
 * A stage with access logs (with what API Gateway says of the authorizer: docs/operations.md),
 * execution logs on errors and tracing (what cdk-nag asks of every API).
 */
export function loggedStage(scope: Construct, stageName: string): apigw.StageOptions {
  const accessLogs = new logs.LogGroup(scope, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
  return {
    stageName,
    accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
    accessLogFormat: scopegateAccessLogFormat(),
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

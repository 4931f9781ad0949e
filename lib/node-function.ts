import * as path from 'node:path';
import { type Duration, type Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_BANNER, BUNDLE_EXTERNALS, BUNDLE_TARGET } from './bundle-options';

/** The repository root, where `functions/` and `package-lock.json` live. */
export const PROJECT_ROOT = path.join(__dirname, '..');

/** Options of {@link scopegateFunction}. */
export interface ScopegateFunctionProps {
  /** Path of the handler below `functions/`, e.g. `authorizer/handler.ts`. */
  readonly entry: string;
  /** The function's description; also names its role. */
  readonly description: string;
  /** Memory of the function (whole mebibytes). */
  readonly memorySize: Size;
  /** The function's timeout. */
  readonly timeout: Duration;
  /**
   * Environment variables, besides `NODE_OPTIONS`.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Log retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray active tracing (adds `xray:PutTraceSegments`/`PutTelemetryRecords` to the role).
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Where failed asynchronous invocations go, after Lambda's retries.
   * @default - none
   */
  readonly onFailure?: lambda.IDestination;
  /**
   * Format stack traces through the bundle's source map at run time (`--enable-source-maps`
   * in `NODE_OPTIONS`). Node then reads and parses the map (about 550 KB) at every cold start;
   * without it, stacks show the minified bundle's positions, which the map shipped in the
   * asset (`index.mjs.map`) decodes offline.
   * @default true
   */
  readonly sourceMapsAtRunTime?: boolean;
}

/**
 * A scopegate Lambda function as every construct here deploys one: esbuild-bundled
 * minified ESM with its source map beside it, the AWS SDK left to the runtime, Node.js 24 on arm64, its
 * own log group with a retention, and a role that may only write to that log group (no
 * managed policy).
 */
export function scopegateFunction(scope: Construct, id: string, props: ScopegateFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${props.description}`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}`] }),
  );
  const fn = new NodejsFunction(scope, id, {
    entry: path.join(PROJECT_ROOT, 'functions', props.entry),
    handler: 'handler',
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize.toMebibytes(),
    timeout: props.timeout,
    role,
    logGroup,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
    onFailure: props.onFailure,
    environment: { ...(props.sourceMapsAtRunTime === false ? {} : { NODE_OPTIONS: '--enable-source-maps' }), ...props.environment },
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    bundling: {
      minify: true,
      sourceMap: true,
      format: OutputFormat.ESM,
      target: BUNDLE_TARGET,
      mainFields: ['module', 'main'],
      externalModules: BUNDLE_EXTERNALS,
      banner: BUNDLE_BANNER,
    },
  });
  if (props.tracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (AWS documents Resource "*").',
    });
  }
  return fn;
}

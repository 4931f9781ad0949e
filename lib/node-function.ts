import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type Duration, type Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_FILE, BUNDLES_DIR, type FunctionName } from './bundle-options';

/**
 * The package root, the folder of scopegate's `package.json`: this module runs from `lib/`
 * in a checkout (the TypeScript sources) and from `dist/lib/` in the installed package.
 */
export const PACKAGE_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`scopegate: no package.json above ${from}`);
  }
}

/**
 * The folder of a function's bundle (`index.mjs` and `index.mjs.map`), which is its Lambda
 * asset: built by `scripts/build.ts` and shipped in the package, so that synthesizing needs
 * neither TypeScript nor esbuild.
 */
export function functionBundleDir(name: FunctionName): string {
  const dir = path.join(PACKAGE_ROOT, BUNDLES_DIR, name);
  if (!existsSync(path.join(dir, BUNDLE_FILE))) {
    throw new Error(
      `scopegate: the ${name} function's bundle ${path.join(dir, BUNDLE_FILE)} is missing; in a checkout of scopegate, run npm run build:functions`,
    );
  }
  return dir;
}

/** Options of {@link scopegateFunction}. */
export interface ScopegateFunctionProps {
  /** The function, by the name of its bundle. */
  readonly bundle: FunctionName;
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
 * A scopegate Lambda function as every construct here deploys one: its prebuilt bundle
 * (minified ESM with its source map beside it, the AWS SDK left to the runtime), Node.js 24
 * on arm64, its own log group with a retention, and a role that may only write to that log
 * group (no managed policy).
 */
export function scopegateFunction(scope: Construct, id: string, props: ScopegateFunctionProps): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${props.description}`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}`] }),
  );
  const fn = new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(functionBundleDir(props.bundle)),
    handler: 'index.handler', // the `handler` export of BUNDLE_FILE
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
  });
  if (props.tracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (AWS documents Resource "*").',
    });
  }
  return fn;
}

import { Duration, Lazy, Size } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { AuthorizerConfigDocument } from '../core/config';
import { isCognitoUserPoolIssuer } from './cognito-issuer';
import { grantIntrospectionSecrets } from './introspection';
import { scopegateFunction } from './node-function';
import type { ScopeAuthorizerProps } from './scope-authorizer-props';

/** The authorizer's function and the SSM parameter it reads its configuration from. */
export interface AuthorizerFunction {
  readonly parameter: ssm.StringParameter;
  readonly function: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
}

/**
 * The configuration parameter (`Config`) and the function (`Function`) under `scope`, the
 * function granted the parameter and the introspection secrets of `props.issuers`. The
 * parameter's value is `configuration()` as produced at synth, when every route is known.
 */
export function authorizerFunction(
  scope: Construct,
  props: ScopeAuthorizerProps,
  configuration: () => AuthorizerConfigDocument,
): AuthorizerFunction {
  const configurationMaxAgeSeconds = (props.configurationMaxAge ?? Duration.minutes(5)).toSeconds();
  if (configurationMaxAgeSeconds < 1 || configurationMaxAgeSeconds > 3600)
    throw new Error(`configurationMaxAge is ${configurationMaxAgeSeconds} s; it must be from 1 s to 1 h`);
  const parameter = new ssm.StringParameter(scope, 'Config', {
    parameterName: props.parameterName,
    description: 'scopegate authorizer configuration (generated from the API definition)',
    stringValue: Lazy.string({ produce: () => JSON.stringify(configuration()) }),
    // Chosen, not Intelligent-Tiering: that silently turns a grown configuration into a
    // paid Advanced parameter, which cannot be turned back into a Standard one.
    tier: props.parameterTier ?? ssm.ParameterTier.STANDARD,
  });
  const timeout = Duration.seconds(10);
  const fn = scopegateFunction(scope, 'Function', {
    bundle: 'authorizer',
    description: 'scopegate OAuth 2.0 scope authorizer',
    memorySize: props.memorySize ?? Size.mebibytes(256),
    timeout,
    environment: { AUTHZ_CONFIG_PARAMETER: parameter.parameterName, AUTHZ_CONFIG_TTL_SECONDS: String(configurationMaxAgeSeconds) },
    tracing: props.tracing,
    // Measured (docs/performance.md, "The 401 path"): the map costs every cold start ~10 ms
    // to read, and the stacks it would decode add nothing to the decision's log line.
    sourceMapsAtRunTime: false,
  });
  parameter.grantRead(fn);
  grantIntrospectionSecrets(
    scope,
    fn,
    props.issuers.flatMap((issuer) => (!isCognitoUserPoolIssuer(issuer) && issuer.introspection ? [issuer.introspection] : [])),
  );
  return { parameter, function: fn, logGroup: fn.logGroup, timeout };
}

/**
 * scopegate, the construct library: `import { ScopeAuthorizer } from 'scopegate'`.
 *
 * This module is the package's public surface (its `exports` map points here): the
 * constructs, their props, the enums and the configuration document types. Everything else
 * is internal and may move between versions.
 */

export type { AuthorizerConfigDocument, IssuerDocument, RouteDocument } from '../core/config';
export { Enforcement, Unrouted } from '../core/config';
export type { OpenApiRoute } from '../core/openapi';
export type { ProfileName } from '../core/profiles';
export { Reason, type ReasonCode } from '../core/reasons';
export { type CognitoUserPoolIssuer, cognitoIssuerConfig, cognitoIssuerUrl, isCognitoUserPoolIssuer } from './cognito-issuer';
export {
  ENVIRONMENT_ISSUER_KEYS,
  ENVIRONMENT_KEYS,
  type EnvironmentIssuer,
  type EnvironmentRoutes,
  type EnvironmentSettings,
  readEnvironment,
} from './environment';
export { type ScopeIntrospection, SenderConstraint } from './introspection';
export type { ScopeAuthorizerIssuer } from './issuer';
export { JwksDistribution, type JwksDistributionProps } from './jwks-distribution';
export { ScopegateMetrics } from './metrics';
export { RotationChecker, type RotationCheckerProps } from './rotation-checker';
export { ScopeAuthorizer } from './scope-authorizer';
// Every name of the props module is public: the construct's props, their parts and AuthorizerMode.
export * from './scope-authorizer-props';
export {
  RouteTable,
  Scopegate,
  type ScopegateApiOptions,
  type ScopegateAuthorizerOptions,
  type ScopegateIssuer,
  type ScopegateProps,
  type ScopegateRotationOptions,
  scopegateAccessLogFormat,
} from './scopegate';
export { ScopegateStack, type ScopegateStackProps } from './scopegate-stack';

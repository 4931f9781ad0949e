import { readFileSync } from 'node:fs';
import { Lazy } from 'aws-cdk-lib';
import { BEARER_VALIDATION_REGEX } from '../core/authorization';
import { parseOpenApiText, withScopegateAuthorizer } from '../core/openapi';
import { AUTHORIZATION_IDENTITY_SOURCE } from './api-attachment';
import { addGatewayResponsesToDocument, type GatewayResponseSpec } from './gateway-responses';
import { AuthorizerMode } from './scope-authorizer-props';

/** An OpenAPI document given as an object, or read from a YAML or JSON file. */
export function loadDocument(document: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof document !== 'string') return document;
  return parseOpenApiText(readFileSync(document, 'utf8'), document) as Record<string, unknown>;
}

/** What the scopegate authorizer of a `SpecRestApi`'s document is made of. */
export interface SpecAuthorizerOptions {
  /** The authorizer's type. */
  readonly mode: AuthorizerMode;
  /** The Lambda invocation URI (see `invokeUri`). */
  readonly authorizerUri: string;
  /** The cache TTL in effect, read at synth. */
  readonly ttlSeconds: () => number;
  /** The gateway responses to put in the document. */
  readonly gatewayResponses: readonly GatewayResponseSpec[];
}

/**
 * The body of a `SpecRestApi`: the document with the scopegate authorizer
 * (`x-amazon-apigateway-authorizer` under `components.securitySchemes`, each secured
 * operation's `security` pointing at it) and the contract's gateway responses.
 */
export function scopegateSpecBody(document: Record<string, unknown>, options: SpecAuthorizerOptions): Record<string, unknown> {
  const body = withScopegateAuthorizer(document, {
    type: options.mode,
    authorizerUri: options.authorizerUri,
    authorizerResultTtlInSeconds: Lazy.uncachedNumber({ produce: options.ttlSeconds }) as number,
    ...(options.mode === AuthorizerMode.TOKEN
      ? { identityValidationExpression: BEARER_VALIDATION_REGEX }
      : { identitySource: AUTHORIZATION_IDENTITY_SOURCE }),
  });
  addGatewayResponsesToDocument(body, options.gatewayResponses);
  return body;
}

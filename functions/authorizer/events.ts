import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { Reason } from '../../core/reasons';
import type { Decision, DecisionTarget } from './authorize';
import type { RequestBinding } from './sender-constraint';

/**
 * The event adapters: what API Gateway sends, read into what a decision is asked about, and a
 * decision shaped into what API Gateway expects back. Knows the event shapes; decides nothing.
 */

/** The events the handler answers: REST TOKEN and REQUEST events, and HTTP API (payload 2.0) events. */
export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

/** What the handler answers: an IAM policy (REST), or a simple response (HTTP API payload 2.0). */
export type AuthorizerResponse =
  | APIGatewayAuthorizerResult
  | APIGatewaySimpleAuthorizerWithContextResult<Record<string, string | number | boolean>>;

/** A request as a decision sees it: the Authorization value, what is asked, and (REQUEST events) the binding details. */
export interface AuthorizerRequest {
  authorization: string | undefined;
  target: DecisionTarget;
  binding?: RequestBinding;
}

function header(headers: Record<string, string | undefined> | null | undefined, wanted: string): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() === wanted && typeof value === 'string') return value;
  return undefined;
}

/** Whether the event is an HTTP API's (payload 2.0), answered with a simple response. */
export function isHttpApi(event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 {
  return (event as { version?: string }).version === '2.0';
}

/** The request of an event. */
export function requestOf(event: AuthorizerEvent): AuthorizerRequest {
  if (isHttpApi(event)) {
    // HTTP API: decide for the route API Gateway matched (`routeKey`), never re-routed from
    // `rawPath`, which starts with the stage on named stages and differs under custom domains.
    const context = event.requestContext;
    const url = `https://${context.domainName}${event.rawPath}`;
    return {
      authorization: header(event.headers, 'authorization'),
      target: { routeArn: event.routeArn, routeKey: event.routeKey },
      binding: {
        method: context.http.method,
        url,
        dpop: header(event.headers, 'dpop'),
        clientCertPem: context.authentication?.clientCert?.clientCertPem,
      },
    };
  }
  if (event.type === 'TOKEN') return { authorization: event.authorizationToken, target: event.methodArn };
  const context = event.requestContext;
  const host = context?.domainName ?? header(event.headers, 'host');
  return {
    authorization: header(event.headers, 'authorization'),
    target: event.methodArn,
    binding:
      context && host
        ? {
            method: event.httpMethod,
            url: `https://${host}${context.path ?? event.path}`,
            dpop: header(event.headers, 'dpop'),
            clientCertPem: context.identity?.clientCert?.clientCertPem,
          }
        : undefined,
  };
}

/**
 * The one place a decision becomes API Gateway's answer to `event`: the policy (REST) or
 * simple response (HTTP API); the 401 (`Unauthorized`, the only message API Gateway turns
 * into one); or a deliberate 500 naming the reason.
 */
export function answerOf(event: AuthorizerEvent, decision: Decision): AuthorizerResponse {
  switch (decision.outcome) {
    case 'policy':
      if (isHttpApi(event)) {
        // HTTP API simple response: the decision for this route only; cache per route
        // by adding $context.routeKey to the identity sources (docs/attaching.md).
        return {
          isAuthorized: decision.allowed,
          context: { ...decision.result.context, reason: decision.record.reason },
        };
      }
      return decision.result;
    case 'unauthorized':
      throw withoutStack('Unauthorized');
    case 'error':
      throw withoutStack(
        decision.record.reason === Reason.ConfigUnavailable
          ? 'Authorizer configuration unavailable'
          : `Authorizer failure: ${decision.record.reason}`,
      );
  }
}

/**
 * `new Error(message)` made without a stack trace: what this module throws for API Gateway
 * (`Unauthorized` for the 401, exactly; a named failure for the 500). The Lambda runtime logs
 * and reports every error a handler throws with its stack; these stacks would always point
 * here and say nothing the decision's log line (its reason code) does not, while a flood of
 * bad tokens, the path an attacker chooses, would pay for formatting them on every request
 * (docs/performance.md, "The 401 path").
 */
export function withoutStack(message: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Error(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

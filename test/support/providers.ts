import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { createHandler } from '../../functions/authorizer/handler';
import { ARN } from './fixtures';
import { captureTelemetry } from './telemetry';
import { TLS } from './tls';

/** What API Gateway would answer for one request, and the reason the authorizer logged. */
export interface Outcome {
  status: 200 | 401 | 403 | 500;
  reason: string;
  detail?: string;
  context?: Record<string, unknown>;
}

/**
 * The real Lambda handler for `config` (inline `AUTHZ_CONFIG`), trusting the loopback test
 * certificate, and a function that sends it a REST TOKEN event for `METHOD /path` with a
 * token, answering what API Gateway would.
 */
export function gateway(config: Record<string, unknown>): (token: string, request: string) => Promise<Outcome> {
  const telemetry = captureTelemetry();
  const handler = createHandler({ env: { AUTHZ_CONFIG: JSON.stringify(config) }, ca: TLS.cert, telemetry });
  return async (token, request) => {
    const [method, path] = request.split(' ') as [string, string];
    const before = telemetry.decisions.length;
    try {
      const result = (await handler({
        type: 'TOKEN',
        authorizationToken: `Bearer ${token}`,
        methodArn: `${ARN}${method}${path}`,
      })) as APIGatewayAuthorizerResult;
      const record = telemetry.decisions[before];
      return { status: record?.reason === 'allow' ? 200 : 403, reason: String(record?.reason), context: result.context ?? undefined };
    } catch (error) {
      const record = telemetry.decisions[before];
      return {
        status: (error as Error).message === 'Unauthorized' ? 401 : 500,
        reason: String(record?.reason),
        detail: record?.detail,
      };
    }
  };
}

/** Seconds since the epoch, now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

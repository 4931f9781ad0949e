// The peer for warm and cold comparisons: an aws-jwt-verify TOKEN authorizer with the same
// telemetry as scopegate's (one Powertools log line and one EMF metric line per decision),
// bundled the same way. It checks signature, iss, aud and exp, matches the asked route
// against the route table's scopes, and returns an Allow or a Deny for the asked method ARN
// only — what a careful team writes by hand before it needs exact cached policies.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { JwtVerifier } from 'aws-jwt-verify';

interface Route {
  method: string;
  path: string;
  scopes: string[];
}

const config = JSON.parse(process.env.AUTHZ_CONFIG ?? '{}') as {
  issuers: { issuer: string; audience: string; jwksUri: string }[];
  routes: Route[];
};
const issuer = config.issuers[0] as { issuer: string; audience: string; jwksUri: string };
export const verifier = JwtVerifier.create({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri });
const routes = config.routes.map((r) => ({
  ...r,
  pattern: new RegExp(`^${r.path.replace(/\{[^}/]+\+\}/g, '.+').replace(/\{[^}/]+\}/g, '[^/]+')}$`),
}));
const logger = new Logger({ serviceName: 'peer-authorizer' });
const metrics = new Metrics({ namespace: 'peer', serviceName: 'peer-authorizer' });

export const handler = async (event: { authorizationToken: string; methodArn: string }) => {
  const started = performance.now();
  const token = event.authorizationToken.replace(/^Bearer /i, '');
  let reason = 'allow';
  try {
    const payload = await verifier.verify(token, { audience: issuer.audience });
    const [, , , , , rest = ''] = event.methodArn.split(':');
    const [, , method, ...segments] = rest.split('/');
    const path = `/${segments.join('/')}`;
    const route = routes.find((r) => (r.method === method || r.method === '*') && r.pattern.test(path));
    const granted = new Set(String(payload.scope ?? '').split(' '));
    if (route === undefined) reason = 'no_route';
    else if (!route.scopes.every((s) => granted.has(s))) reason = 'insufficient_scope';
    const effect = reason === 'allow' ? 'Allow' : 'Deny';
    return {
      principalId: String(payload.sub),
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }] },
      context: { sub: String(payload.sub), scope: String(payload.scope ?? '') },
    };
  } catch {
    reason = 'invalid_token';
    throw new Error('Unauthorized');
  } finally {
    const latencyMs = performance.now() - started;
    logger.info('decision', { reason, latencyMs });
    metrics.addDimension('reason', reason);
    metrics.addMetric('Decisions', MetricUnit.Count, 1);
    metrics.addMetric('AuthorizerLatency', MetricUnit.Milliseconds, latencyMs);
    metrics.publishStoredMetrics();
  }
};

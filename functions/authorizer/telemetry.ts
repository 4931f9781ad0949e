import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DecisionRecord } from './authorize';

/** Where decisions and key fetches are reported; the handler's only side channel. */
export interface Telemetry {
  decision(record: DecisionRecord): void;
  jwksFetch(event: { jwksUri: string; ok: boolean; ms: number; error?: unknown }): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

/**
 * Powertools Logger (one JSON line per decision) and Metrics (EMF: `Decisions` and
 * `AuthorizerLatency` by `reason` in one line per decision, `JwksFetches` by `outcome`).
 */
export function powertoolsTelemetry(serviceName = 'scopegate-authorizer'): Telemetry {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: 'scopegate', serviceName });
  return {
    decision(record) {
      const level = record.effect === 'error' ? 'error' : record.effect === 'unauthorized' ? 'warn' : 'info';
      logger[level]('decision', { ...record });
      // One EMF line per decision: the count and the latency share the `reason` dimension.
      metrics.addDimension('reason', record.reason);
      metrics.addMetric('Decisions', MetricUnit.Count, 1);
      metrics.addMetric('AuthorizerLatency', MetricUnit.Milliseconds, record.latencyMs);
      metrics.publishStoredMetrics();
    },
    jwksFetch(event) {
      const level = event.ok ? 'info' : 'error';
      logger[level]('jwks_fetch', {
        jwksUri: event.jwksUri,
        ok: event.ok,
        ms: event.ms,
        error: event.error ? String(event.error) : undefined,
      });
      const single = metrics.singleMetric();
      single.addDimension('outcome', event.ok ? 'ok' : 'failed');
      single.addMetric('JwksFetches', MetricUnit.Count, 1);
    },
    warn(message, extra) {
      logger.warn(message, extra ?? {});
    },
  };
}

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { Dimension, METRIC_NAMESPACE, MetricName, Service } from '../shared/metrics';
import type { DecisionRecord } from './authorize';

/** The Powertools loggers made by {@link powertoolsTelemetry}, told of each invocation's Lambda context. */
const loggers = new Set<Logger>();
/** The current invocation's Lambda context, for a logger made during the invocation (the runtime may make it late). */
let lambdaContext: Context | undefined;

/** Where decisions and key fetches are reported; the handler's only side channel. */
export interface Telemetry {
  decision(record: DecisionRecord): void;
  jwksFetch(event: { jwksUri: string; ok: boolean; ms: number; error?: unknown }): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

/**
 * Powertools Logger (one JSON line per decision) and Metrics (EMF: `Decisions` and
 * `AuthorizerLatency` by `reason` in one line per decision, with `WouldDeny` when a
 * report-only decision let through what enforcement would deny; `JwksFetches` by `outcome`).
 */
export function powertoolsTelemetry(serviceName: string = Service.Authorizer): Telemetry {
  const logger = new Logger({ serviceName });
  loggers.add(logger);
  if (lambdaContext !== undefined) logger.addContext(lambdaContext);
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName });
  return {
    decision(record) {
      const level = record.effect === 'error' ? 'error' : record.effect === 'unauthorized' ? 'warn' : 'info';
      // The record as it is: Powertools copies its members into the line (a spread would copy
      // them once more), and a record holds no undefined member (each would cost a pass of
      // Powertools' merge and empty-key removal for nothing).
      logger[level]('decision', record as unknown as Record<string, unknown>);
      // One EMF line per decision: the count and the latency share the `reason` dimension.
      metrics.addDimension(Dimension.Reason, record.reason);
      metrics.addMetric(MetricName.Decisions, MetricUnit.Count, 1);
      metrics.addMetric(MetricName.AuthorizerLatency, MetricUnit.Milliseconds, record.latencyMs);
      if (wouldDeny(record)) metrics.addMetric(MetricName.WouldDeny, MetricUnit.Count, 1);
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
      single.addDimension(Dimension.Outcome, event.ok ? 'ok' : 'failed');
      single.addMetric(MetricName.JwksFetches, MetricUnit.Count, 1);
    },
    warn(message, extra) {
      logger.warn(message, extra ?? {});
    },
  };
}

/**
 * Wrap a handler so that every log line of the invocation carries the Lambda context
 * (`function_request_id`, `cold_start`, function name, memory, version), as Powertools'
 * `injectLambdaContext` does; the handler itself stays free of Lambda's context.
 */
export function withLambdaContext<E, R>(handler: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return (event, context) => {
    if (context !== undefined) {
      lambdaContext = context;
      for (const logger of loggers) logger.addContext(context);
    }
    return handler(event);
  };
}

/** Whether a decision let through, only because it was report-only, what enforcement would deny. */
export function wouldDeny(record: DecisionRecord): boolean {
  return record.enforced === false && record.reason !== 'allow';
}

import type { Context } from 'aws-lambda';
import { Dimension, METRIC_NAMESPACE, MetricName, Service } from '../../core/metrics';
import type { DecisionRecord } from './authorize';
import { EmfWriter, JsonLogger, type LogValue } from './log-lines';

/** The loggers made by {@link lambdaTelemetry}, told of each invocation's Lambda context. */
const loggers = new Set<JsonLogger>();
/** The current invocation's Lambda context, for a logger made during the invocation (the runtime may make it late). */
let lambdaContext: Context | undefined;

/** Where decisions and key fetches are reported; the handler's only side channel. */
export interface Telemetry {
  decision(record: DecisionRecord): void;
  jwksFetch(event: { jwksUri: string; ok: boolean; ms: number; error?: unknown }): void;
  warn(message: string, extra?: Record<string, LogValue>): void;
}

/**
 * One JSON log line per decision and per key fetch, and EMF metrics: `Decisions` and
 * `AuthorizerLatency` by `reason` in one line per decision, with `WouldDeny` when a
 * report-only decision let through what enforcement would deny; `JwksFetches` by `outcome`.
 * The lines are those Powertools Logger and Metrics wrote for the same calls
 * (`log-lines.ts`), without Powertools in the bundle.
 */
export function lambdaTelemetry(serviceName: string = Service.Authorizer): Telemetry {
  const logger = new JsonLogger(serviceName);
  loggers.add(logger);
  if (lambdaContext !== undefined) logger.addContext(lambdaContext);
  const metrics = new EmfWriter(METRIC_NAMESPACE, serviceName);
  return {
    decision(record) {
      const level = record.effect === 'error' ? 'ERROR' : record.effect === 'unauthorized' ? 'WARN' : 'INFO';
      logger.log(level, 'decision', record as unknown as Record<string, LogValue>);
      // One EMF line per decision: the count and the latency share the `reason` dimension.
      const decided = [
        { name: MetricName.Decisions, unit: 'Count', value: 1 },
        { name: MetricName.AuthorizerLatency, unit: 'Milliseconds', value: record.latencyMs },
      ] as const;
      metrics.write(
        { [Dimension.Reason]: record.reason },
        wouldDeny(record) ? [...decided, { name: MetricName.WouldDeny, unit: 'Count', value: 1 }] : decided,
      );
    },
    jwksFetch(event) {
      logger.log(event.ok ? 'INFO' : 'ERROR', 'jwks_fetch', {
        jwksUri: event.jwksUri,
        ok: event.ok,
        ms: event.ms,
        error: event.error ? String(event.error) : undefined,
      });
      metrics.write({ [Dimension.Outcome]: event.ok ? 'ok' : 'failed' }, [{ name: MetricName.JwksFetches, unit: 'Count', value: 1 }]);
    },
    warn(message, extra) {
      logger.log('WARN', message, extra);
    },
  };
}

/**
 * Wrap a handler so that every log line of the invocation carries the Lambda context
 * (`function_request_id`, `cold_start`, function name, memory), as Powertools'
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

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Dimension, type DimensionName, METRIC_NAMESPACE, MetricName, type ScopegateMetricName, Service } from '../core/metrics';
import type { ReasonCode } from '../core/reasons';

/**
 * Metric factories over the shared vocabulary (`core/metrics.ts`): alarms and
 * dashboards are built from these, never from names typed at the call site.
 */
export const ScopegateMetrics = {
  /** Authorizer decisions with one reason code, summed. */
  decisions(reason: ReasonCode, period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: MetricName.Decisions,
      dimensionsMap: { [Dimension.Service]: Service.Authorizer, [Dimension.Reason]: reason },
      statistic: 'Sum',
      period,
    });
  },

  /** A rotation checker's metric for one issuer (the dimension that keeps two checkers apart). */
  checker(
    name: typeof MetricName.AuditErrors | typeof MetricName.AuditRuns | typeof MetricName.KeySetPublished,
    issuer: string,
    period: Duration,
    statistic = 'Maximum',
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [Dimension.Service]: Service.RotationChecker, [Dimension.Issuer]: issuer },
      statistic,
      period,
    });
  },

  /**
   * A CloudWatch SEARCH over one scopegate metric, for dashboards. `dimensions` is the whole
   * dimension set the metric is emitted with, besides `service` (SEARCH matches exact sets).
   */
  search(
    metricName: ScopegateMetricName,
    dimensions: readonly Exclude<DimensionName, typeof Dimension.Service>[],
    label: string,
  ): cloudwatch.MathExpression {
    const schema = [METRIC_NAMESPACE, ...dimensions, Dimension.Service].join(',');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${metricName}"', 'Sum', 300)`,
      label,
      usingMetrics: {},
      period: Duration.minutes(5),
    });
  },

  /**
   * A CloudWatch SEARCH over one scopegate metric whatever its dimensions, for dashboards of
   * metrics whose dimension set may grow.
   */
  searchAll(metricName: ScopegateMetricName, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('Namespace="${METRIC_NAMESPACE}" MetricName="${metricName}"', 'Sum', 300)`,
      label,
      usingMetrics: {},
      period: Duration.minutes(5),
    });
  },
} as const;

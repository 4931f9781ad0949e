/**
 * The metric vocabulary shared by the functions (which emit EMF: the rotation checker through
 * Powertools, the authorizer the same lines through `log-lines.ts`) and the CDK constructs
 * (which build alarms and dashboards from it): every metric name, dimension name and service
 * name is written here once.
 */

/** The CloudWatch namespace of every scopegate metric. */
export const METRIC_NAMESPACE = 'scopegate';

/** Powertools service names; each is also the value of the `service` dimension. */
export const Service = {
  Authorizer: 'scopegate-authorizer',
  RotationChecker: 'scopegate-rotation-checker',
} as const;

/** One of {@link Service}. */
export type ServiceName = (typeof Service)[keyof typeof Service];

/** Metric names. */
export const MetricName = {
  /** Authorizer: one per decision, by `reason`. */
  Decisions: 'Decisions',
  /** Authorizer: decision latency in milliseconds, by `reason`. */
  AuthorizerLatency: 'AuthorizerLatency',
  /** Authorizer: key set fetches, by `outcome` (`ok`, `failed`). */
  JwksFetches: 'JwksFetches',
  /** Authorizer: one per request let through by report-only that enforcement would deny, by `reason`. */
  WouldDeny: 'WouldDeny',
  /** Rotation checker: findings of one run, by `issuer` and `code`. */
  Findings: 'Findings',
  /** Rotation checker: error findings of one run, by `issuer` (0 when clean). */
  AuditErrors: 'AuditErrors',
  /** Rotation checker: 1 when the run published a new key set, by `issuer`. */
  KeySetPublished: 'KeySetPublished',
  /** Rotation checker: 1 per completed run, by `issuer` (a missing value means no run completed). */
  AuditRuns: 'AuditRuns',
} as const;

/** One of the {@link MetricName} values. */
export type ScopegateMetricName = (typeof MetricName)[keyof typeof MetricName];

/** Dimension names. */
export const Dimension = {
  /** On every metric (Powertools adds it; so does the authorizer's `log-lines.ts`): the {@link Service} name. */
  Service: 'service',
  Reason: 'reason',
  Outcome: 'outcome',
  Code: 'code',
  /** The issuer a rotation checker audits (its `iss` URL), so two checkers never share a metric. */
  Issuer: 'issuer',
} as const;

/** One of the {@link Dimension} names. */
export type DimensionName = (typeof Dimension)[keyof typeof Dimension];

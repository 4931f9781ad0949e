import { Dimension, METRIC_NAMESPACE, MetricName, Service } from '../../core/metrics';
import { Reason } from '../../core/reasons';
import { ScopegateMetrics } from '../../lib/metrics';

describe('ScopegateMetrics (alarms and dashboards from the shared vocabulary)', () => {
  it('builds the decision metric with the names the authorizer emits', () => {
    const metric = ScopegateMetrics.decisions(Reason.KeysUnavailable);
    expect(metric.namespace).toBe(METRIC_NAMESPACE);
    expect(metric.metricName).toBe(MetricName.Decisions);
    expect(metric.dimensions).toEqual({ [Dimension.Service]: Service.Authorizer, [Dimension.Reason]: 'keys_unavailable' });
  });

  it('builds SEARCH expressions over the dimension set the metric is emitted with', () => {
    const search = ScopegateMetrics.search(MetricName.Findings, [Dimension.Code, Dimension.Issuer], 'findings');
    expect(search.expression).toBe(`SEARCH('{scopegate,code,issuer,service} MetricName="Findings"', 'Sum', 300)`);
    expect(ScopegateMetrics.searchAll(MetricName.WouldDeny, 'would deny').expression).toBe(
      `SEARCH('Namespace="scopegate" MetricName="WouldDeny"', 'Sum', 300)`,
    );
  });

  it('accepts only vocabulary names (a name typed at the call site does not compile)', () => {
    // The @ts-expect-error lines fail `npm run typecheck` if the factories accept any string again.
    // @ts-expect-error not a scopegate metric name
    ScopegateMetrics.searchAll('Decision', 'typo');
    // @ts-expect-error not a scopegate dimension name
    ScopegateMetrics.search(MetricName.Decisions, ['Reason'], 'typo');
    // @ts-expect-error not a reason code
    ScopegateMetrics.decisions('keys-unavailable');
  });
});

import { describe, expect, it } from 'vitest';
import { ForwarderMetric, SinkMetric } from '../../../../contracts/metrics';
import { IotRuleMetricFactory } from '../../../../lib/monitor/iot-rule/iot-rule-metric-factory';
import { ReconciliationMonitoring } from '../../../../lib/monitor/records/reconciliation-monitoring';
import { RecordsMetricFactory } from '../../../../lib/monitor/records/records-metric-factory';
import { widgetMetrics } from '../../../helpers/cloudwatch';
import { emfSource, synthSegment } from '../../../helpers/monitoring-segment';

const forwarder = emfSource('forwarder');
const sink = emfSource('sink');

describe('ReconciliationMonitoring', () => {
  it('draws one full-width bar graph: every rule’s matches summed, then forwarded, invalid, stored, quarantined', () => {
    // Given two rules
    const { widgets, template } = synthSegment(
      (facade) =>
        new ReconciliationMonitoring(facade, {
          rules: ['Pipe_1', 'Pipe_2'].map((ruleName) => new IotRuleMetricFactory({ ruleName })),
          forwarder: new RecordsMetricFactory({ function: forwarder }),
          sink: new RecordsMetricFactory({ function: sink }),
        }),
    );
    const [graph, ...others] = widgets.filter((w) => w.type === 'metric');
    if (!graph) throw new Error('no graph');
    expect(others).toEqual([]);
    expect(graph).toMatchObject({ width: 24, properties: { view: 'bar', setPeriodToTimeRange: true } });
    expect(widgetMetrics(graph).map((m) => `${m.dimensions.RuleName ?? m.dimensions.service}/${m.metricName}`)).toEqual(
      [
        'Pipe_1/TopicMatch',
        'Pipe_2/TopicMatch',
        `forwarder/${ForwarderMetric.Forwarded}`,
        `forwarder/${ForwarderMetric.Invalid}`,
        `sink/${SinkMetric.Written}`,
        `sink/${SinkMetric.Duplicates}`,
        `sink/${SinkMetric.Invalid}`,
      ],
    );
    expect(JSON.stringify(graph.properties.metrics)).toContain('SUM([FILL(rule1, 0), FILL(rule2, 0)])');
    // Then it explains how the stages add up, and alarms on nothing
    expect(widgets.some((w) => w.type === 'text' && String(w.properties.markdown).startsWith('Matched ≈'))).toBe(true);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});

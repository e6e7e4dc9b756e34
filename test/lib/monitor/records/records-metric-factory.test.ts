import { describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../../contracts/metrics';
import { RecordsMetricFactory } from '../../../../lib/monitor/records/records-metric-factory';
import { emfSource } from '../../../helpers/monitoring-segment';

const sink = emfSource('sink');

describe('RecordsMetricFactory', () => {
  it('builds each EMF metric through its source, summed per five minutes', () => {
    // Given the sink's EMF source
    // When a factory builds its Written metric
    const metric = new RecordsMetricFactory({ function: sink }).metricSum(SinkMetric.Written, 'written');
    // Then it has the source's namespace and dimensions, the metric's name and the label, summed per five minutes
    expect(metric).toMatchObject({
      namespace: 'Test',
      metricName: SinkMetric.Written,
      statistic: 'Sum',
      label: 'written',
    });
    expect(metric.dimensions).toEqual({ service: 'sink', pipeline: 'Pipe' });
    expect(metric.period.toSeconds()).toBe(300);
  });
});

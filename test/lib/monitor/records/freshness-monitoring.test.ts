import { describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../../contracts/metrics';
import { FreshnessMonitoring } from '../../../../lib/monitor/records/freshness-monitoring';
import { alarmMetrics } from '../../../helpers/cloudwatch';
import { emfSource, segmentNaming, synthSegment } from '../../../helpers/monitoring-segment';

const sink = emfSource('sink');

describe('FreshnessMonitoring', () => {
  it('alarms on the p99 from IoT receive to stored, the threshold in seconds against a metric in milliseconds', () => {
    // Given the sink's freshness segment with a maximum p99 of 45 s
    // When it is synthesized
    const { segment, alarm, graphTitles } = synthSegment(
      (facade) =>
        new FreshnessMonitoring(facade, { function: sink, alarmNaming: segmentNaming, maxFreshnessP99Seconds: 45 }),
    );
    // Then its alarm is on the IoT receive → stored p99 at 45,000 ms on 2 datapoints, and both freshness metrics
    // are graphed
    const properties = alarm(segment.freshnessP99HighAlarm);
    expect(properties).toMatchObject({ AlarmName: 'Pipe-FreshnessP99High', Threshold: 45_000, DatapointsToAlarm: 2 });
    expect(alarmMetrics(properties).map((m) => m.metricName)).toEqual([SinkMetric.FreshnessIngest]);
    expect(JSON.stringify(properties.Metrics ?? properties)).toMatch(/"(Stat|Statistic)":"p99"/);
    expect(graphTitles).toEqual([
      'Device time → stored (FreshnessDeviceMs)',
      'IoT receive → stored (FreshnessIngestMs)',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { ForwarderMetric } from '../../../../contracts/metrics';
import { ForwarderRecordsMonitoring } from '../../../../lib/monitor/records/forwarder-records-monitoring';
import { alarmMetrics } from '../../../helpers/cloudwatch';
import { emfSource, mathOf, segmentNaming, synthSegment } from '../../../helpers/monitoring-segment';

const forwarder = emfSource('forwarder');

describe('ForwarderRecordsMonitoring', () => {
  const synth = synthSegment(
    (facade) =>
      new ForwarderRecordsMonitoring(facade, {
        function: forwarder,
        alarmNaming: segmentNaming,
        maxRecordsFailedPercent: 9,
      }),
  );

  it('alarms on failed / received forwarder records in percent, 2 of 3 five-minute periods', () => {
    // Given the forwarder's records segment, with a maximum of 9 % failed (above)
    // When its records-failed alarm is synthesized
    // Then the typed field is the alarm on the forwarder's own Failed and BatchSize, never dividing by zero
    const properties = synth.alarm(synth.segment.recordsFailedAlarm);
    expect(properties).toMatchObject({
      AlarmName: 'Pipe-ForwarderRecordsFailed',
      Threshold: 9,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    const { expression, ids } = mathOf(properties);
    const received = ids[ForwarderMetric.BatchSize];
    expect(expression).toBe(`IF(${received} > 0, 100 * FILL(${ids[ForwarderMetric.Failed]}, 0) / ${received}, 0)`);
    expect(new Set(alarmMetrics(properties).map((m) => m.dimensions.service))).toEqual(new Set(['forwarder']));
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });

  it('graphs outcomes, the failed share, batch size and the oldest record’s age', () => {
    // Given the forwarder's records segment (above)
    // When its graphs are listed, Then they are outcomes, the failed share, batch size and the oldest record's age
    expect(synth.graphTitles).toEqual([
      'Records per outcome',
      'Records failed (% of records)',
      'Batch size',
      'Oldest forwarded record age (ms, IoT receive → Kafka ack)',
    ]);
  });
});

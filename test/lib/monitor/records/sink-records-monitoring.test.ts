import { describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../../contracts/metrics';
import { SinkRecordsMonitoring } from '../../../../lib/monitor/records/sink-records-monitoring';
import { alarmMetrics } from '../../../helpers/cloudwatch';
import { emfSource, mathOf, segmentNaming, synthSegment } from '../../../helpers/monitoring-segment';

const sink = emfSource('sink');

describe('SinkRecordsMonitoring', () => {
  const synth = synthSegment(
    (facade) => new SinkRecordsMonitoring(facade, { function: sink, alarmNaming: segmentNaming }),
  );

  it('alarms on any event id conflict in five minutes', () => {
    // Given the sink's records segment (above)
    // When its event id conflicts alarm is synthesized
    const properties = synth.alarm(synth.segment.eventIdConflictsAlarm);
    // Then it fires on any conflict in one five-minute period, and missing data does not breach
    expect(properties).toMatchObject({
      AlarmName: 'Pipe-SinkEventIdConflicts',
      Threshold: 0,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarmMetrics(properties).map((m) => m.metricName)).toEqual([SinkMetric.Conflicts]);
  });

  it('alarms on failed / received sink records at the default threshold', () => {
    // Given the sink's records segment, with the default threshold (above)
    // When its records-failed alarm is synthesized
    const properties = synth.alarm(synth.segment.recordsFailedAlarm);
    // Then it is failed / received at the default 5, and the segment has these two alarms only
    expect(properties).toMatchObject({ AlarmName: 'Pipe-SinkRecordsFailed', Threshold: 5 });
    const { expression, ids } = mathOf(properties);
    expect(expression).toContain(`FILL(${ids[SinkMetric.Failed]}, 0) / ${ids[SinkMetric.BatchSize]}`);
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });
});

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
    const properties = synth.alarm(synth.segment.eventIdConflictsAlarm);
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
    const properties = synth.alarm(synth.segment.recordsFailedAlarm);
    expect(properties).toMatchObject({ AlarmName: 'Pipe-SinkRecordsFailed', Threshold: 5 });
    const { expression, ids } = mathOf(properties);
    expect(expression).toContain(`FILL(${ids[SinkMetric.Failed]}, 0) / ${ids[SinkMetric.BatchSize]}`);
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });
});

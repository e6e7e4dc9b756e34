import type { AlarmBase, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { CustomAlarmFactory, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { ForwarderMetric } from '../../../contracts/metrics';
import { type AlarmNaming, PipelineAlarm } from '../alarms';
import { type SegmentGraph, segmentWidgets } from '../segment-widgets';
import { DEFAULT_ALARM_THRESHOLDS } from '../thresholds';
import { recordsFailed } from './records-failed';
import { RecordsMetricFactory, type RecordsMetricFactoryProps } from './records-metric-factory';

/** Whose EMF metrics `ForwarderRecordsMonitoring` reads (the forwarder's), how its alarm is named and when it fires. */
export interface ForwarderRecordsMonitoringProps extends RecordsMetricFactoryProps {
  /** Names the alarms after the pipeline and points each at its runbook entry. */
  readonly alarmNaming: AlarmNaming;
  /**
   * Percent of records not acknowledged by Kafka, 2 of 3 five-minute periods, before `ForwarderRecordsFailed` alarms.
   * @default DEFAULT_ALARM_THRESHOLDS.maxRecordsFailedPercent (5)
   */
  readonly maxRecordsFailedPercent?: number;
}

/** What the forwarder did with each record (EMF): outcomes, the failed share (alarmed), batch size, record age. */
export class ForwarderRecordsMonitoring extends Monitoring {
  /** The header of the segment's rows on the dashboard, as cdk-monitoring-constructs' own segments have one. */
  public readonly title = 'Forwarder records (EMF)';
  /** The forwarder's EMF metrics, which the stage reconciliation segment reads as well. */
  public readonly metricFactory: RecordsMetricFactory;
  /** `ForwarderRecordsFailed`: too many records were not acknowledged by Kafka. */
  public readonly recordsFailedAlarm: AlarmBase;

  private readonly graphs: readonly SegmentGraph[];

  public constructor(scope: MonitoringScope, props: ForwarderRecordsMonitoringProps) {
    super(scope);
    const metrics = new RecordsMetricFactory(props);
    this.metricFactory = metrics;
    const failed = recordsFailed({
      metrics,
      alarms: new CustomAlarmFactory(this.createAlarmFactory('ForwarderRecords')),
      naming: props.alarmNaming,
      failedName: ForwarderMetric.Failed,
      receivedName: ForwarderMetric.BatchSize,
      alarm: PipelineAlarm.ForwarderRecordsFailed,
      maxPercent: props.maxRecordsFailedPercent ?? DEFAULT_ALARM_THRESHOLDS.maxRecordsFailedPercent,
      what: 'the forwarder received were not acknowledged by Kafka in 2 of 3 five-minute periods; SQS delivers them again.',
    });
    this.addAlarm(failed.alarm);
    this.recordsFailedAlarm = failed.alarm.alarm;
    const { BatchSize, OldestRecordAge } = ForwarderMetric;
    this.graphs = [
      {
        title: 'Records per outcome',
        metrics: [
          metrics.metricSum(ForwarderMetric.Forwarded, 'Forwarded (Kafka acknowledged)'),
          metrics.metricSum(ForwarderMetric.Invalid, 'Invalid (to the dead-letter queue)'),
          metrics.metricSum(ForwarderMetric.Failed, 'Failed (SQS delivers again)'),
        ],
      },
      failed.graph,
      {
        title: 'Batch size',
        metrics: [
          metrics.metricStatistic(BatchSize, 'Average', 'average'),
          metrics.metricStatistic(BatchSize, 'Maximum', 'maximum'),
        ],
      },
      {
        title: 'Oldest forwarded record age (ms, IoT receive → Kafka ack)',
        metrics: [
          metrics.metricStatistic(OldestRecordAge, 'p50', 'p50'),
          metrics.metricStatistic(OldestRecordAge, 'Maximum', 'max'),
        ],
      },
    ];
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, then the graphs of records
   * per outcome, the failed share with its alarm's threshold, the batch size and the oldest record's age.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(this.title, this.graphs);
  }
}

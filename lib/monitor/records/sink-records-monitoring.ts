import type { AlarmBase, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { CustomAlarmFactory, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { SinkMetric } from '../../../contracts/metrics';
import { type AlarmNaming, alarmAbove, FIVE_MINUTES_ONCE, PipelineAlarm } from '../alarms';
import { type SegmentGraph, segmentWidgets } from '../segment-widgets';
import { DEFAULT_ALARM_THRESHOLDS } from '../thresholds';
import { recordsFailed } from './records-failed';
import { RecordsMetricFactory, type RecordsMetricFactoryProps } from './records-metric-factory';

/** Whose EMF metrics `SinkRecordsMonitoring` reads (the sink's), how its alarms are named and when they fire. */
export interface SinkRecordsMonitoringProps extends RecordsMetricFactoryProps {
  /** Names the alarms after the pipeline and points each at its runbook entry. */
  readonly alarmNaming: AlarmNaming;
  /**
   * Percent of records not stored, 2 of 3 five-minute periods, before `SinkRecordsFailed` alarms.
   * @default DEFAULT_ALARM_THRESHOLDS.maxRecordsFailedPercent (5)
   */
  readonly maxRecordsFailedPercent?: number;
}

/** What the sink did with each record (EMF): outcomes, event id conflicts and the failed share, both alarmed. */
export class SinkRecordsMonitoring extends Monitoring {
  /** The header of the segment's rows on the dashboard, as cdk-monitoring-constructs' own segments have one. */
  public readonly title = 'Sink records (EMF)';
  /** The sink's EMF metrics, which the stage reconciliation segment reads as well. */
  public readonly metricFactory: RecordsMetricFactory;
  /** `SinkEventIdConflicts`: a record's eventId named a different stored reading; that reading is not stored. */
  public readonly eventIdConflictsAlarm: AlarmBase;
  /** `SinkRecordsFailed`: too many records were not stored. */
  public readonly recordsFailedAlarm: AlarmBase;

  private readonly graphs: readonly SegmentGraph[];

  public constructor(scope: MonitoringScope, props: SinkRecordsMonitoringProps) {
    super(scope);
    const metrics = new RecordsMetricFactory(props);
    this.metricFactory = metrics;
    const alarms = new CustomAlarmFactory(this.createAlarmFactory('SinkRecords'));
    // A reused eventId naming a different reading: a device (or the IoT SQL hash) broke the id contract, and the
    // reading is not stored until someone looks, so any one alarms
    const conflicts = metrics.metricSum(SinkMetric.Conflicts, 'Event id conflicts');
    const eventIdConflicts = alarmAbove(
      alarms,
      conflicts,
      PipelineAlarm.SinkEventIdConflicts,
      props.alarmNaming.settings(
        PipelineAlarm.SinkEventIdConflicts,
        'The sink quarantined a record whose eventId names a different stored reading (event_id_conflict): that reading is not stored.',
        FIVE_MINUTES_ONCE,
      ),
      0,
    );
    const failed = recordsFailed({
      metrics,
      alarms,
      naming: props.alarmNaming,
      failedName: SinkMetric.Failed,
      receivedName: SinkMetric.BatchSize,
      alarm: PipelineAlarm.SinkRecordsFailed,
      maxPercent: props.maxRecordsFailedPercent ?? DEFAULT_ALARM_THRESHOLDS.maxRecordsFailedPercent,
      what: 'the sink received were not stored in 2 of 3 five-minute periods (MongoDB unreachable or failing); the event source retries them.',
    });
    this.addAlarm(eventIdConflicts);
    this.addAlarm(failed.alarm);
    this.eventIdConflictsAlarm = eventIdConflicts.alarm;
    this.recordsFailedAlarm = failed.alarm.alarm;
    this.graphs = [
      {
        title: 'Records per outcome',
        metrics: [
          metrics.metricSum(SinkMetric.BatchSize, 'Received'),
          metrics.metricSum(SinkMetric.Written, 'Readings written'),
          metrics.metricSum(SinkMetric.Duplicates, 'Duplicates skipped'),
          metrics.metricSum(SinkMetric.Stale, 'Stale state skipped'),
          metrics.metricSum(SinkMetric.Invalid, 'Quarantined'),
          metrics.metricSum(SinkMetric.Failed, 'Failed (retried)'),
        ],
      },
      {
        title: 'Event id conflicts (quarantined as event_id_conflict)',
        metrics: [conflicts],
        annotations: [eventIdConflicts.annotation],
      },
      failed.graph,
    ];
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, then the graphs of records
   * per outcome, of event id conflicts and of the failed share, each alarm's threshold on its graph.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(this.title, this.graphs);
  }
}

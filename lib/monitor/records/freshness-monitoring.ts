import type { AlarmBase, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { CustomAlarmFactory, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { SinkMetric } from '../../../contracts/metrics';
import { type AlarmNaming, alarmAbove, FIVE_MINUTES_TWO_OF_THREE, PipelineAlarm } from '../alarms';
import { type SegmentGraph, segmentWidgets } from '../segment-widgets';
import { DEFAULT_ALARM_THRESHOLDS } from '../thresholds';
import { RecordsMetricFactory, type RecordsMetricFactoryProps } from './records-metric-factory';

/** Whose EMF metrics `FreshnessMonitoring` reads (the sink's), how its alarm is named and when it fires. */
export interface FreshnessMonitoringProps extends RecordsMetricFactoryProps {
  /** Names the alarms after the pipeline and points each at its runbook entry. */
  readonly alarmNaming: AlarmNaming;
  /**
   * p99 of IoT receive → stored, in seconds, 2 of 3 five-minute periods, before `FreshnessP99High` alarms.
   * @default DEFAULT_ALARM_THRESHOLDS.maxFreshnessP99Seconds (120)
   */
  readonly maxFreshnessP99Seconds?: number;
}

/** How old a reading is when the sink stores it, from the device's clock and from IoT's receive time (EMF). */
export class FreshnessMonitoring extends Monitoring {
  /** The header of the segment's rows on the dashboard, as cdk-monitoring-constructs' own segments have one. */
  public readonly title = 'End-to-end freshness (ms until stored in MongoDB)';
  /** The sink's EMF metrics, whose freshness metrics this segment graphs. */
  public readonly metricFactory: RecordsMetricFactory;
  /** `FreshnessP99High`: the p99 from IoT receive to stored stayed above the threshold. */
  public readonly freshnessP99HighAlarm: AlarmBase;

  private readonly graphs: readonly SegmentGraph[];

  public constructor(scope: MonitoringScope, props: FreshnessMonitoringProps) {
    super(scope);
    const metrics = new RecordsMetricFactory(props);
    this.metricFactory = metrics;
    const maxSeconds = props.maxFreshnessP99Seconds ?? DEFAULT_ALARM_THRESHOLDS.maxFreshnessP99Seconds;
    const ingestP99 = metrics.metricStatistic(SinkMetric.FreshnessIngest, 'p99', 'p99');
    const freshnessP99High = alarmAbove(
      new CustomAlarmFactory(this.createAlarmFactory('Freshness')),
      ingestP99,
      PipelineAlarm.FreshnessP99High,
      props.alarmNaming.settings(
        PipelineAlarm.FreshnessP99High,
        `The p99 time from IoT receive to stored in MongoDB exceeded ${maxSeconds} s in 2 of 3 five-minute periods.`,
        FIVE_MINUTES_TWO_OF_THREE,
      ),
      // the metric is in milliseconds
      maxSeconds * 1_000,
    );
    this.addAlarm(freshnessP99High);
    this.freshnessP99HighAlarm = freshnessP99High.alarm;
    this.graphs = [
      {
        title: 'Device time → stored (FreshnessDeviceMs)',
        metrics: [
          metrics.metricStatistic(SinkMetric.FreshnessDevice, 'p50', 'p50'),
          metrics.metricStatistic(SinkMetric.FreshnessDevice, 'p99', 'p99'),
        ],
      },
      {
        title: 'IoT receive → stored (FreshnessIngestMs)',
        metrics: [metrics.metricStatistic(SinkMetric.FreshnessIngest, 'p50', 'p50'), ingestP99],
        annotations: [freshnessP99High.annotation],
      },
    ];
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, then the p50 and p99 of
   * device time → stored and of IoT receive → stored, the latter with its alarm's threshold.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(this.title, this.graphs);
  }
}

import type { AlarmBase, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { CustomAlarmFactory, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { type AlarmNaming, alarmAbove, FIVE_MINUTES_ONCE, ONE_MINUTE, PipelineAlarm } from '../alarms';
import { type SegmentGraph, segmentWidgets } from '../segment-widgets';
import { DEFAULT_ALARM_THRESHOLDS } from '../thresholds';
import {
  KafkaEventSourceMetricFactory,
  type KafkaEventSourceMetricFactoryProps,
  EventSourceMappingMetric as M,
} from './kafka-event-source-metric-factory';

/**
 * Which function and Kafka event source mapping `KafkaEventSourceMonitoring` watches, how its alarms are named, and
 * when they fire.
 */
export interface KafkaEventSourceMonitoringProps extends KafkaEventSourceMetricFactoryProps {
  /** Names the alarms after the pipeline and points each at its runbook entry. */
  readonly alarmNaming: AlarmNaming;
  /**
   * Records the consumer group may be behind the topic, 5 minutes in a row, before `OffsetLagHigh` alarms.
   * @default DEFAULT_ALARM_THRESHOLDS.maxOffsetLag (10,000)
   */
  readonly maxOffsetLag?: number;
  /**
   * Whether the mapping publishes event source mapping metrics (`MetricsConfig` EventCount, ErrorCount and
   * KafkaMetrics: provisioned mode only). Without them the row graphs the function's `OffsetLag` alone, and its
   * header says why.
   * @default true
   */
  readonly eventSourceMappingMetrics?: boolean;
  /**
   * The mapping's on-failure destination, a Kafka topic (provisioned mode): set, `SinkDeadLetterTopicReceived`
   * alarms on any record sent there.
   * @default no dead-letter topic alarm
   */
  readonly deadLetterTopic?: string;
}

/**
 * The sink's consumer group on the Kafka topic: its lag, alarmed, then what the event source mapping polled,
 * committed and gave up on, and its errors (graphs that need the mapping's metrics, so provisioned mode only).
 */
export class KafkaEventSourceMonitoring extends Monitoring {
  /**
   * The header of the segment's rows on the dashboard; without the mapping's metrics it also says why the row graphs
   * the offset lag alone.
   */
  public readonly title: string;
  /** The metrics of the event source this segment graphs, for a caller who wants more graphs or alarms on them. */
  public readonly metricFactory: KafkaEventSourceMetricFactory;
  /** `OffsetLagHigh`: the consumer group stayed behind the topic by more than the threshold. */
  public readonly offsetLagHighAlarm: AlarmBase;
  /** `SinkDeadLetterTopicReceived`, when the mapping has a dead-letter topic: records were sent there. */
  public readonly deadLetterTopicReceivedAlarm?: AlarmBase;

  private readonly graphs: readonly SegmentGraph[];

  public constructor(scope: MonitoringScope, props: KafkaEventSourceMonitoringProps) {
    super(scope);
    const mappingMetrics = props.eventSourceMappingMetrics ?? true;
    this.title = mappingMetrics
      ? 'Kafka event source (sink consumer group)'
      : 'Kafka event source (sink consumer group; on demand: event source mapping metrics need provisioned pollers)';
    const metrics = new KafkaEventSourceMetricFactory(props);
    this.metricFactory = metrics;
    const alarms = new CustomAlarmFactory(this.createAlarmFactory('KafkaEventSource'));
    const naming = props.alarmNaming;

    const maxOffsetLag = props.maxOffsetLag ?? DEFAULT_ALARM_THRESHOLDS.maxOffsetLag;
    const offsetLag = metrics.metricOffsetLag();
    const offsetLagHigh = alarmAbove(
      alarms,
      offsetLag,
      PipelineAlarm.OffsetLagHigh,
      naming.settings(
        PipelineAlarm.OffsetLagHigh,
        `The sink's consumer group has been more than ${maxOffsetLag} records behind the topic for 5 minutes: the sink is slow, failing, or throttled.`,
        { period: ONE_MINUTE, datapoints: 5, periods: 5 },
      ),
      maxOffsetLag,
    );
    this.addAlarm(offsetLagHigh);
    this.offsetLagHighAlarm = offsetLagHigh.alarm;
    const lagGraph: SegmentGraph = {
      title: 'Offset lag (records behind the topic)',
      metrics: [
        offsetLag,
        ...(mappingMetrics
          ? [
              metrics.metricMappingOffsetLag(M.MaxOffsetLag, 'MaxOffsetLag (worst partition)'),
              metrics.metricMappingOffsetLag(M.SumOffsetLag, 'SumOffsetLag (all partitions)'),
            ]
          : []),
      ],
      annotations: [offsetLagHigh.annotation],
    };
    if (!mappingMetrics) {
      this.graphs = [lagGraph];
      return;
    }

    const deadLettered = metrics.metricMappingCount(
      M.OnFailureDestinationDeliveredEventCount,
      'Sent to the dead-letter topic',
    );
    const deadLetterTopicReceived = props.deadLetterTopic
      ? alarmAbove(
          alarms,
          deadLettered,
          PipelineAlarm.SinkDeadLetterTopicReceived,
          naming.settings(
            PipelineAlarm.SinkDeadLetterTopicReceived,
            `The sink's event source gave up on records (retries or record age exhausted) and sent them to the Kafka dead-letter topic ${props.deadLetterTopic}.`,
            FIVE_MINUTES_ONCE,
          ),
          0,
        )
      : undefined;
    if (deadLetterTopicReceived) this.addAlarm(deadLetterTopicReceived);
    this.deadLetterTopicReceivedAlarm = deadLetterTopicReceived?.alarm;
    this.graphs = [
      lagGraph,
      {
        title: 'Records polled / committed / given up',
        metrics: [
          metrics.metricMappingCount(M.PolledEventCount, 'Polled'),
          metrics.metricMappingCount(M.CommittedEventCount, 'Committed'),
          deadLettered,
          metrics.metricMappingCount(M.DroppedEventCount, 'Dropped'),
        ],
        annotations: deadLetterTopicReceived ? [deadLetterTopicReceived.annotation] : [],
      },
      {
        title: 'Event source errors',
        metrics: [
          metrics.metricMappingCount(M.PollingErrorCount, 'Polling errors'),
          metrics.metricMappingCount(M.CommitErrorCount, 'Commit errors'),
          metrics.metricMappingCount(M.InvokeErrorCount, 'Invoke errors'),
          metrics.metricMappingCount(M.OnFailureDestinationDeliveryErrorCount, 'Dead-letter topic delivery errors'),
        ],
      },
    ];
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, then the offset lag graph
   * and, with the mapping's metrics, the graphs of records polled, committed and given up, and of its errors.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(this.title, this.graphs);
  }
}

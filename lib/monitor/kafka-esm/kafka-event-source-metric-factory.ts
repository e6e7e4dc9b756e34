/**
 * The metrics Lambda publishes for a Kafka event source: the function's `OffsetLag`, and the event source mapping's
 * own metrics, which neither aws-cdk-lib nor cdk-monitoring-constructs offers. Names and dimensions as AWS documents
 * them (see the README, "Dashboard").
 */
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import { FIVE_MINUTES, ONE_MINUTE } from '../alarms';

/**
 * AWS/Lambda event source mapping metrics (dimension `EventSourceMappingUUID`), published once the mapping's
 * `MetricsConfig` names their group: `EventCount`, `ErrorCount` or `KafkaMetrics`.
 */
export const EventSourceMappingMetric = {
  PolledEventCount: 'PolledEventCount',
  CommittedEventCount: 'CommittedEventCount',
  OnFailureDestinationDeliveredEventCount: 'OnFailureDestinationDeliveredEventCount',
  DroppedEventCount: 'DroppedEventCount',
  PollingErrorCount: 'PollingErrorCount',
  InvokeErrorCount: 'InvokeErrorCount',
  CommitErrorCount: 'CommitErrorCount',
  OnFailureDestinationDeliveryErrorCount: 'OnFailureDestinationDeliveryErrorCount',
  MaxOffsetLag: 'MaxOffsetLag',
  SumOffsetLag: 'SumOffsetLag',
} as const;
export type EventSourceMappingMetricName = (typeof EventSourceMappingMetric)[keyof typeof EventSourceMappingMetric];

/** Event source mapping counts, each summed per five minutes. */
export type EventSourceMappingCount = Exclude<EventSourceMappingMetricName, 'MaxOffsetLag' | 'SumOffsetLag'>;

/** Which function and Kafka event source mapping a `KafkaEventSourceMetricFactory` builds metrics for. */
export interface KafkaEventSourceMetricFactoryProps {
  /** The function the mapping invokes: Lambda publishes the consumer group's `OffsetLag` under its name. */
  readonly lambdaFunction: IFunction;
  /** The Kafka event source mapping: its id is the `EventSourceMappingUUID` dimension of its metrics. */
  readonly eventSourceMapping: IEventSourceMapping;
}

/** The metrics of one Kafka event source: its consumer group's lag and what its mapping polled and committed. */
export class KafkaEventSourceMetricFactory {
  private readonly lambdaFunction: IFunction;
  private readonly eventSourceMappingId: string;

  public constructor(props: KafkaEventSourceMetricFactoryProps) {
    this.lambdaFunction = props.lambdaFunction;
    this.eventSourceMappingId = props.eventSourceMapping.eventSourceMappingId;
  }

  /** The function's `OffsetLag`: records the consumer group is behind the topic, the 1-minute maximum. */
  public metricOffsetLag(): Metric {
    return this.lambdaFunction.metric('OffsetLag', { statistic: 'Maximum', period: ONE_MINUTE, label: 'OffsetLag' });
  }

  /** The mapping's `MaxOffsetLag` (worst partition) or `SumOffsetLag` (all partitions), the 5-minute maximum. */
  public metricMappingOffsetLag(metricName: 'MaxOffsetLag' | 'SumOffsetLag', label: string): Metric {
    return this.metricMapping(metricName, 'Maximum', label);
  }

  /** One of the mapping's event or error counts, summed per five minutes. */
  public metricMappingCount(metricName: EventSourceMappingCount, label: string): Metric {
    return this.metricMapping(metricName, 'Sum', label);
  }

  private metricMapping(metricName: EventSourceMappingMetricName, statistic: string, label: string): Metric {
    return new Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: { EventSourceMappingUUID: this.eventSourceMappingId },
      statistic,
      period: FIVE_MINUTES,
      label,
    });
  }
}

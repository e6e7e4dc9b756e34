import { EventSourceMapping, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  KafkaEventSourceMonitoring,
  type KafkaEventSourceMonitoringProps,
} from '../../../../lib/monitor/kafka-esm/kafka-event-source-monitoring';
import { alarmMetrics, widgetMetrics } from '../../../helpers/cloudwatch';
import { segmentNaming, synthSegment } from '../../../helpers/monitoring-segment';

const MAPPING_ID = '11111111-2222-4333-8444-555555555555';

/** The segment for an imported function and mapping, with `props` over the defaults. */
function synth(props: Partial<KafkaEventSourceMonitoringProps> = {}) {
  return synthSegment(
    (facade, stack) =>
      new KafkaEventSourceMonitoring(facade, {
        // a literal ARN, so the function name synthesizes as itself rather than a token of the stack's partition
        lambdaFunction: LambdaFunction.fromFunctionArn(
          stack,
          'Sink',
          'arn:aws:lambda:eu-west-1:111122223333:function:sink-fn',
        ),
        eventSourceMapping: EventSourceMapping.fromEventSourceMappingId(stack, 'Mapping', MAPPING_ID),
        alarmNaming: segmentNaming,
        ...props,
      }),
  );
}

const mappingMetricsOf = (widgets: ReturnType<typeof synth>['widgets']) =>
  widgets.flatMap(widgetMetrics).filter((m) => 'EventSourceMappingUUID' in m.dimensions);

// Lambda publishes OffsetLag per function for Kafka sources, and the mapping's metrics (dimension
// EventSourceMappingUUID) once MetricsConfig opts in ("Types of metrics for Lambda functions",
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)
describe('KafkaEventSourceMonitoring', () => {
  it('alarms on the function’s offset lag, 5 one-minute maxima in a row above the threshold', () => {
    // Given a mapping with its metrics and a dead-letter topic
    const { segment, alarm } = synth({ maxOffsetLag: 1234, deadLetterTopic: 'telemetry.sink-dlt' });
    // Then the typed field is the lag alarm, on the function's OffsetLag
    const lag = alarm(segment.offsetLagHighAlarm);
    expect(lag.AlarmName).toBe('Pipe-OffsetLagHigh');
    expect(alarmMetrics(lag).map(({ source: _, ...metric }) => metric)).toEqual([
      { namespace: 'AWS/Lambda', metricName: 'OffsetLag', dimensions: { FunctionName: 'sink-fn' } },
    ]);
    expect(lag).toMatchObject({ Threshold: 1234, EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    // a labelled metric synthesizes as a `Metrics` query: its statistic and period sit in its MetricStat
    expect(JSON.stringify(lag.Metrics ?? lag)).toMatch(/"(Stat|Statistic)":"Maximum"/);
    expect(JSON.stringify(lag.Metrics ?? lag)).toMatch(/"Period":60/);
  });

  it('with a dead-letter topic, alarms on any record the mapping sent there', () => {
    const { segment, alarm, template } = synth({ deadLetterTopic: 'telemetry.sink-dlt' });
    if (!segment.deadLetterTopicReceivedAlarm) throw new Error('no dead-letter topic alarm');
    const deadLetter = alarm(segment.deadLetterTopicReceivedAlarm);
    expect(deadLetter.AlarmName).toBe('Pipe-SinkDeadLetterTopicReceived');
    expect(String(deadLetter.AlarmDescription)).toContain('telemetry.sink-dlt');
    expect(alarmMetrics(deadLetter).map(({ source: _, ...metric }) => metric)).toEqual([
      {
        namespace: 'AWS/Lambda',
        metricName: 'OnFailureDestinationDeliveredEventCount',
        dimensions: { EventSourceMappingUUID: MAPPING_ID },
      },
    ]);
    expect(deadLetter).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });

  it('graphs the mapping’s lag, events and errors when it publishes its metrics', () => {
    const { graphTitles, widgets, segment } = synth();
    expect(graphTitles).toEqual([
      'Offset lag (records behind the topic)',
      'Records polled / committed / given up',
      'Event source errors',
    ]);
    expect(mappingMetricsOf(widgets).map((m) => m.metricName)).toEqual([
      'MaxOffsetLag',
      'SumOffsetLag',
      'PolledEventCount',
      'CommittedEventCount',
      'OnFailureDestinationDeliveredEventCount',
      'DroppedEventCount',
      'PollingErrorCount',
      'CommitErrorCount',
      'InvokeErrorCount',
      'OnFailureDestinationDeliveryErrorCount',
    ]);
    // Without a dead-letter topic nothing alarms on it
    expect(segment.deadLetterTopicReceivedAlarm).toBeUndefined();
  });

  it('on demand, graphs the function’s lag alone and says why, even with a dead-letter topic', () => {
    // Given a mapping that publishes no event source mapping metrics
    const { graphTitles, widgets, segment, template } = synth({
      eventSourceMappingMetrics: false,
      deadLetterTopic: 'telemetry.sink-dlt',
    });
    // Then no graph waits for metrics that never come, and no alarm evaluates them
    expect(graphTitles).toEqual(['Offset lag (records behind the topic)']);
    expect(mappingMetricsOf(widgets)).toEqual([]);
    expect(widgets.map((w) => w.properties.markdown ?? '').join('\n')).toMatch(/on demand.*provisioned pollers/);
    expect(segment.deadLetterTopicReceivedAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });
});

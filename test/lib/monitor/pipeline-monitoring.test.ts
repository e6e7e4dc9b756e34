import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_NAME_VARIABLE } from '../../../contracts/environment';
import { ForwarderMetric, PIPELINE_DIMENSION, SinkMetric } from '../../../contracts/metrics';
import type { PipelineFunction } from '../../../lib/core/pipeline-function';
import { PipelineMonitoring } from '../../../lib/monitor/pipeline-monitoring';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS } from '../../../lib/monitor/thresholds';
import {
  alarmMetrics,
  inReadingOrder,
  type MetricRef,
  onlyDashboard,
  type Widget,
  widgetMetrics,
} from '../../helpers/cloudwatch';
import { synthStack } from '../../helpers/synth';

type Synth = ReturnType<typeof synthStack>;
type Resource = { Type: string; Properties: Record<string, unknown> };

// What AWS publishes, as its documentation lists it (README, "Dashboard", has the sources). Written out here, not
// imported from lib/monitor, so a misspelt name in the construct fails the test.
const SQS_METRICS = [
  'ApproximateAgeOfOldestMessage',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesVisible',
  'NumberOfEmptyReceives',
  'NumberOfMessagesDeleted',
  'NumberOfMessagesReceived',
  'NumberOfMessagesSent',
  'SentMessageSize',
];
const LAMBDA_FUNCTION_METRICS = [
  'Invocations',
  'Errors',
  'Throttles',
  'Duration',
  'ConcurrentExecutions',
  'ProvisionedConcurrencySpilloverInvocations',
];
/** Event source mapping metrics Lambda publishes for Kafka sources (groups EventCount, ErrorCount, KafkaMetrics). */
const KAFKA_EVENT_SOURCE_MAPPING_METRICS = [
  'PolledEventCount',
  'FilteredOutEventCount',
  'InvokedEventCount',
  'FailedInvokeEventCount',
  'DroppedEventCount',
  'OnFailureDestinationDeliveredEventCount',
  'CommittedEventCount',
  'PollingErrorCount',
  'InvokeErrorCount',
  'OnFailureDestinationDeliveryErrorCount',
  'SchemaRegistryErrorCount',
  'CommitErrorCount',
  'MaxOffsetLag',
  'SumOffsetLag',
];

interface Published {
  readonly namespace: string;
  readonly names: readonly string[];
  /** Every dimension the metric is published with, and the values that point at this pipeline's resources. */
  readonly dimensions: Readonly<Record<string, readonly string[]>>;
  /** Position in the flow: IoT 0, SQS 1, forwarder 2, Kafka event source 3, sink 4, freshness 5. */
  readonly stage: number;
}

/** The table of every metric this pipeline's resources publish, with dimension values resolved to placeholders. */
function publishedMetrics(synth: Synth): Published[] {
  const { stack } = synth;
  const resources = synth.template.toJSON().Resources as Record<string, Resource>;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  const env = (fn: PipelineFunction) =>
    (resources[id(fn)]!.Properties.Environment as { Variables: Record<string, string> }).Variables;
  const emf = (fn: PipelineFunction, names: readonly string[], stage: number): Published => ({
    namespace: env(fn).POWERTOOLS_METRICS_NAMESPACE as string,
    names,
    // Powertools always adds `service`; the pipeline dimension is the one powertools.ts adds from PIPELINE_NAME
    dimensions: {
      service: [env(fn).POWERTOOLS_SERVICE_NAME as string],
      [PIPELINE_DIMENSION]: [env(fn)[PIPELINE_NAME_VARIABLE] as string],
    },
    stage,
  });
  const rules = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IoT::TopicRule')
    .map((r) => r.Properties.RuleName as string);
  const queue = (q: { node: { defaultChild?: unknown } }) => `{{GetAtt:${id(q)}.QueueName}}`;
  const fn = (f: PipelineFunction) => `{{Ref:${id(f)}}}`;
  const { ingest, forwarder, sink } = stack;
  const freshness = [SinkMetric.FreshnessDevice, SinkMetric.FreshnessIngest] as string[];
  return [
    // Rule metrics, dimension RuleName ("AWS IoT metrics and dimensions", Rule metrics:
    // https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html#rulemetrics)
    {
      namespace: 'AWS/IoT',
      names: ['TopicMatch', 'ParseError', 'RuleMessageThrottled', 'RuleNotFound'],
      dimensions: { RuleName: rules },
      stage: 0,
    },
    {
      namespace: 'AWS/IoT',
      names: ['Success', 'Failure', 'ErrorActionSuccess', 'ErrorActionFailure'],
      dimensions: { RuleName: rules, ActionType: ['*'] },
      stage: 0,
    },
    {
      namespace: 'AWS/SQS',
      names: SQS_METRICS,
      dimensions: { QueueName: [queue(ingest.queue), queue(ingest.deadLetterQueue), queue(ingest.errorQueue)] },
      stage: 1,
    },
    {
      namespace: 'AWS/Lambda',
      names: LAMBDA_FUNCTION_METRICS,
      dimensions: { FunctionName: [fn(forwarder.function)] },
      stage: 2,
    },
    emf(
      forwarder.function,
      Object.values(ForwarderMetric).filter((name) => !freshness.includes(name)),
      2,
    ),
    { namespace: 'AWS/Lambda', names: ['OffsetLag'], dimensions: { FunctionName: [fn(sink.function)] }, stage: 3 },
    {
      namespace: 'AWS/Lambda',
      names: KAFKA_EVENT_SOURCE_MAPPING_METRICS,
      dimensions: { EventSourceMappingUUID: [`{{Ref:${id(sink.eventSourceMapping)}}}`] },
      stage: 3,
    },
    {
      namespace: 'AWS/Lambda',
      names: LAMBDA_FUNCTION_METRICS,
      dimensions: { FunctionName: [fn(sink.function)] },
      stage: 4,
    },
    emf(
      sink.function,
      Object.values(SinkMetric).filter((name) => !freshness.includes(name)),
      4,
    ),
    emf(sink.function, freshness, 5),
  ];
}

/** The table entry a metric matches (same namespace, name, exact dimension set, values), or undefined. */
function lookUp(table: readonly Published[], metric: MetricRef): Published | undefined {
  return table.find(
    (entry) =>
      entry.namespace === metric.namespace &&
      entry.names.includes(metric.metricName) &&
      Object.keys(entry.dimensions).sort().join() === Object.keys(metric.dimensions).sort().join() &&
      Object.entries(metric.dimensions).every(([key, value]) => entry.dimensions[key]?.includes(value)),
  );
}

const ofType = (synth: Synth, type: string) =>
  Object.entries(synth.template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);

const alarmsByName = (synth: Synth) =>
  new Map(
    ofType(synth, 'AWS::CloudWatch::Alarm').map(([, alarm]) => [
      (alarm.Properties.AlarmName as string).replace(`${synth.config.stackName}-`, ''),
      alarm.Properties,
    ]),
  );

/** Each alarm's threshold as a function of the configured thresholds (percentages and seconds converted). */
const EXPECTED_THRESHOLDS: Record<string, (t: AlarmThresholds) => number> = {
  'RuleActionFailures-TelemetryPipeline_dev_1': (t) => t.maxRuleActionFailures,
  'RuleErrorActionFailures-TelemetryPipeline_dev_1': () => 0,
  'RuleParseErrors-TelemetryPipeline_dev_1': () => 0,
  'RuleMessagesThrottled-TelemetryPipeline_dev_1': () => 0,
  'RuleNotFound-TelemetryPipeline_dev_1': () => 0,
  IngestAgeHigh: (t) => t.maxIngestAgeSeconds,
  DeadLetterQueueNotEmpty: (t) => t.maxDeadLetterMessages,
  ErrorQueueNotEmpty: (t) => t.maxErrorQueueMessages,
  ForwarderErrorRate: (t) => t.maxForwarderErrorRatePercent / 100,
  ForwarderRecordsFailed: (t) => t.maxRecordsFailedPercent,
  OffsetLagHigh: (t) => t.maxOffsetLag,
  SinkDeadLetterTopicReceived: () => 0,
  SinkErrorRate: (t) => t.maxSinkErrorRatePercent / 100,
  SinkRecordsFailed: (t) => t.maxRecordsFailedPercent,
  SinkEventIdConflicts: () => 0,
  FreshnessP99High: (t) => t.maxFreshnessP99Seconds * 1_000,
};

describe('PipelineMonitoring in the pipeline stack (config/dev.json)', () => {
  let synth: Synth;
  let table: Published[];
  let widgets: Widget[];

  beforeAll(() => {
    synth = synthStack();
    table = publishedMetrics(synth);
    widgets = inReadingOrder(onlyDashboard(synth.template).widgets);
  });

  it('creates one dashboard named after the stack, with its name and URL as outputs', () => {
    const dashboard = onlyDashboard(synth.template);
    expect(dashboard.name).toBe('TelemetryPipeline-dev');
    synth.template.hasOutput('DashboardName', { Value: { Ref: dashboard.id } });
    synth.template.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: dashboard.id }])] },
    });
    synth.template.hasOutput('AlarmTopicArn', {
      Value: { Ref: synth.stack.getLogicalId(synth.stack.alarmTopic.topic.node.defaultChild as never) },
    });
  });

  it('graphs only metrics that exist: namespace, name, dimension set and values of this pipeline', () => {
    const metrics = widgets.flatMap(widgetMetrics);
    expect(metrics.length).toBeGreaterThan(40);
    for (const metric of metrics) {
      expect(lookUp(table, metric), `${metric.source}: ${JSON.stringify(metric)}`).toBeDefined();
    }
  });

  it('graphs every metric each function emits, under the dimensions the function is deployed with', () => {
    const graphed = new Set(
      widgets
        .flatMap(widgetMetrics)
        .filter((m) => m.namespace === 'TelemetryPipeline')
        .map((m) => `${m.dimensions.service}/${m.metricName}`),
    );
    for (const name of Object.values(ForwarderMetric)) expect(graphed).toContain(`telemetry-forwarder/${name}`);
    for (const name of Object.values(SinkMetric)) expect(graphed).toContain(`telemetry-sink/${name}`);
  });

  it('lays the widgets out in flow order: IoT, SQS, forwarder, Kafka, sink, freshness, then reconciliation', () => {
    const stages = widgets
      .filter((widget) => widget.type === 'metric')
      .map((widget) => {
        const found = new Set(widgetMetrics(widget).map((metric) => lookUp(table, metric)?.stage ?? -1));
        // the reconciliation widget draws from every stage at once
        return found.size >= 3 ? 6 : Math.max(...found);
      });
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
    expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    const headings = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown ?? '');
    const order = [
      'IoT rules',
      'Ingest queue',
      'error queue',
      'Forwarder',
      'Kafka event source',
      'Sink (Kafka',
      'freshness',
      'reconciliation',
    ];
    const positions = order.map((title) => headings.findIndex((markdown) => markdown.includes(title)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('reconciles the stages in one widget: matched, forwarded, invalid, stored, quarantined', () => {
    const reconciliation = widgets.find((w) => w.properties.title === 'Records per stage');
    expect(reconciliation?.width).toBe(24);
    expect(reconciliation?.properties.setPeriodToTimeRange).toBe(true);
    const names = widgetMetrics(reconciliation as Widget).map((m) => `${m.namespace}/${m.metricName}`);
    expect(names).toEqual([
      'AWS/IoT/TopicMatch',
      `TelemetryPipeline/${ForwarderMetric.Forwarded}`,
      `TelemetryPipeline/${ForwarderMetric.Invalid}`,
      `TelemetryPipeline/${SinkMetric.Written}`,
      `TelemetryPipeline/${SinkMetric.Duplicates}`,
      `TelemetryPipeline/${SinkMetric.Invalid}`,
    ]);
  });

  it('opts the sink event source mapping in to the metric groups the dashboard graphs', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: synth.stack.getLogicalId(synth.stack.sink.function.node.defaultChild as never) },
      MetricsConfig: { Metrics: Match.arrayWith(['EventCount', 'ErrorCount', 'KafkaMetrics']) },
    });
  });

  it('on demand (no provisioned pollers), graphs no event source mapping metric and says why, keeping the lag alarm', () => {
    // Given an on-demand event source, which publishes no event source mapping metrics
    const onDemand = synthStack({ sink: { provisionedPollers: null } });
    const { widgets: onDemandWidgets } = onlyDashboard(onDemand.template);
    // Then no widget waits for metrics that never come
    const metrics = onDemandWidgets.flatMap((widget) => widgetMetrics(widget));
    expect(metrics.filter((m) => 'EventSourceMappingUUID' in (m.dimensions ?? {}))).toEqual([]);
    expect(metrics.some((m) => m.namespace === 'AWS/Lambda' && m.metricName === 'OffsetLag')).toBe(true);
    const notes = onDemandWidgets.map((w) => w.properties.markdown ?? '').join('\n');
    expect(notes).toMatch(/on demand.*provisioned pollers/i);
    expect([...alarmsByName(onDemand).keys()]).toContain('OffsetLagHigh');
  });

  it('sends every alarm, on ALARM and on OK, to the encrypted alarm topic', () => {
    const topic = { Ref: synth.stack.getLogicalId(synth.stack.alarmTopic.topic.node.defaultChild as never) };
    const alarms = ofType(synth, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBe(Object.keys(EXPECTED_THRESHOLDS).length);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toContainEqual(topic);
      expect(alarm.Properties.OKActions, id).toContainEqual(topic);
      expect(alarm.Properties.ActionsEnabled, id).toBe(true);
    }
    synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    synth.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('alarms only on metrics that exist, with missing data as not breaching, each pointing to its runbook entry', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const [name, alarm] of alarmsByName(synth)) {
      for (const metric of alarmMetrics(alarm)) {
        expect(lookUp(table, metric), `${metric.source}: ${JSON.stringify(metric)}`).toBeDefined();
      }
      expect(alarm.TreatMissingData, name).toBe('notBreaching');
      const entry = name.replace(/-.*$/, '');
      expect(alarm.AlarmDescription, name).toContain(`Runbook: README.md, "Alarms and runbook" → ${entry}.`);
      expect(readme.includes(`#### \`${entry}\``), `README runbook entry for ${entry}`).toBe(true);
    }
  });

  it('sets the documented default thresholds', () => {
    const alarms = alarmsByName(synth);
    expect([...alarms.keys()].sort()).toEqual(Object.keys(EXPECTED_THRESHOLDS).sort());
    for (const [name, expected] of Object.entries(EXPECTED_THRESHOLDS)) {
      expect(alarms.get(name)?.Threshold, name).toBe(expected(DEFAULT_ALARM_THRESHOLDS));
    }
  });

  it('alarms on the SQS action failures of each rule through a query over every action type', () => {
    const alarm = alarmsByName(synth).get('RuleActionFailures-TelemetryPipeline_dev_1');
    expect(alarm?.Metrics).toEqual([
      expect.objectContaining({
        Expression: `SELECT SUM(Failure) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = 'TelemetryPipeline_dev_1'`,
        Period: 300,
        ReturnData: true,
      }),
    ]);
  });

  it('graphs and alarms on the messages a rule drops before any action: parse errors, throttling, rule not found', () => {
    // Such messages reach neither the SQS action nor the error action, so only these metrics show them
    const rule = 'TelemetryPipeline_dev_1';
    const graphed = widgets
      .flatMap(widgetMetrics)
      .filter((m) => m.namespace === 'AWS/IoT' && m.dimensions.RuleName === rule)
      .map((m) => m.metricName);
    expect(graphed).toEqual(expect.arrayContaining(['ParseError', 'RuleMessageThrottled', 'RuleNotFound']));
    const alarms = alarmsByName(synth);
    for (const [alarm, metricName] of [
      [`RuleParseErrors-${rule}`, 'ParseError'],
      [`RuleMessagesThrottled-${rule}`, 'RuleMessageThrottled'],
      [`RuleNotFound-${rule}`, 'RuleNotFound'],
    ] as const) {
      const properties = alarms.get(alarm);
      if (!properties) throw new Error(`no alarm ${alarm}`);
      expect(
        alarmMetrics(properties).map(({ source: _, ...metric }) => metric),
        alarm,
      ).toEqual([{ namespace: 'AWS/IoT', metricName, dimensions: { RuleName: rule } }]);
      expect(JSON.stringify(properties.Metrics ?? properties), alarm).toMatch(/"(Stat|Statistic)":"Sum"/);
      expect(properties, alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
    }
  });

  it('alarms on any event id conflict at the sink, summed over five minutes', () => {
    // A reused eventId naming a different reading leaves that reading unstored (quarantined as event_id_conflict)
    const properties = alarmsByName(synth).get('SinkEventIdConflicts');
    if (!properties) throw new Error('no alarm SinkEventIdConflicts');
    expect(alarmMetrics(properties).map(({ source: _, ...metric }) => metric.metricName)).toEqual([
      SinkMetric.Conflicts,
    ]);
    expect(JSON.stringify(properties.Metrics ?? properties)).toMatch(/"(Stat|Statistic)":"Sum"/);
    expect(JSON.stringify(properties.Metrics ?? properties)).toMatch(/"Period":300/);
    expect(properties).toMatchObject({
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('alarms on the records-failed share as failed / received, never dividing by zero', () => {
    const alarm = alarmsByName(synth).get('SinkRecordsFailed');
    const metrics = alarm?.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    const byName = Object.fromEntries(
      metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat?.Metric.MetricName, m.Id]),
    );
    const expression = metrics.find((m) => m.Expression)?.Expression;
    const received = byName[SinkMetric.BatchSize];
    expect(expression).toBe(`IF(${received} > 0, 100 * FILL(${byName[SinkMetric.Failed]}, 0) / ${received}, 0)`);
  });
});

describe('PipelineMonitoring configuration', () => {
  it('passes every threshold override in config through to its alarm', () => {
    const overrides: AlarmThresholds = {
      maxIngestAgeSeconds: 900,
      maxDeadLetterMessages: 7,
      maxErrorQueueMessages: 3,
      maxRuleActionFailures: 11,
      maxOffsetLag: 250_000,
      maxFreshnessP99Seconds: 45,
      maxForwarderErrorRatePercent: 2.5,
      maxSinkErrorRatePercent: 4,
      maxRecordsFailedPercent: 12,
    };
    for (const [field, value] of Object.entries(overrides)) {
      expect(value, `${field} must differ from its default for this test to mean anything`).not.toBe(
        DEFAULT_ALARM_THRESHOLDS[field as keyof AlarmThresholds],
      );
    }
    const synth = synthStack({ alarms: overrides });
    const alarms = alarmsByName(synth);
    for (const [name, expected] of Object.entries(EXPECTED_THRESHOLDS)) {
      expect(alarms.get(name)?.Threshold, name).toBe(expected(overrides));
    }
  });

  it('subscribes the alarm e-mail only when configured', () => {
    synthStack().template.resourceCountIs('AWS::SNS::Subscription', 0);
    const { template } = synthStack({ alarms: { email: 'oncall@example.com' } });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  it('graphs and alarms on every rule when there are several', () => {
    const synth = synthStack({ iot: { topicFilters: ['sensors/+/telemetry', 'plants/north/+/readings'] } });
    const alarms = alarmsByName(synth);
    for (const rule of ['TelemetryPipeline_dev_1', 'TelemetryPipeline_dev_2']) {
      expect(alarms.has(`RuleActionFailures-${rule}`)).toBe(true);
      expect(alarms.has(`RuleErrorActionFailures-${rule}`)).toBe(true);
      for (const alarm of ['RuleParseErrors', 'RuleMessagesThrottled', 'RuleNotFound'])
        expect(alarms.has(`${alarm}-${rule}`), `${alarm}-${rule}`).toBe(true);
    }
    const matched = onlyDashboard(synth.template)
      .widgets.flatMap(widgetMetrics)
      .filter((m) => m.metricName === 'TopicMatch')
      .map((m) => m.dimensions.RuleName);
    expect(new Set(matched)).toEqual(new Set(['TelemetryPipeline_dev_1', 'TelemetryPipeline_dev_2']));
  });

  it('has no dead-letter topic alarm when the sink runs on demand (no on-failure destination)', () => {
    const alarms = alarmsByName(synthStack({ sink: { provisionedPollers: null } }));
    expect(alarms.has('SinkDeadLetterTopicReceived')).toBe(false);
    expect(alarms.has('SinkRecordsFailed')).toBe(true);
  });

  it('keeps two pipelines apart: names and EMF dimensions follow the stack name', () => {
    const synth = synthStack({ stackName: 'TelemetryPipeline-prod' });
    expect(onlyDashboard(synth.template).name).toBe('TelemetryPipeline-prod');
    for (const [, alarm] of ofType(synth, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmName).toMatch(/^TelemetryPipeline-prod-/);
    }
    const pipelines = onlyDashboard(synth.template)
      .widgets.flatMap(widgetMetrics)
      .filter((m) => m.namespace === 'TelemetryPipeline')
      .map((m) => m.dimensions[PIPELINE_DIMENSION]);
    expect(new Set(pipelines)).toEqual(new Set(['TelemetryPipeline-prod']));
  });

  it('names its path and every bad threshold', () => {
    const stack = new Stack(new App(), 'S');
    const queue = new Queue(stack, 'Q');
    const { stack: pipeline } = synthStack();
    expect(
      () =>
        new PipelineMonitoring(stack, 'Monitoring', {
          ruleNames: ['bad-rule'],
          ingestQueue: queue,
          deadLetterQueue: queue,
          errorQueue: queue,
          forwarder: pipeline.forwarder.function,
          sink: pipeline.sink.function,
          sinkEventSourceMapping: pipeline.sink.eventSourceMapping,
          alarmTopic: pipeline.alarmTopic.topic,
          thresholds: { maxRecordsFailedPercent: 150, maxOffsetLag: -1 },
        }),
    ).toThrow(
      /S\/Monitoring: invalid PipelineMonitoring props:\n.*maxOffsetLag: -1 .*\n.*maxRecordsFailedPercent: 150 .*\n.*ruleNames\[0\]: "bad-rule"/,
    );
  });
});

import { Duration, Stack } from 'aws-cdk-lib';
import type { AlarmBase, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  LambdaFunctionMonitoring,
  type Monitoring,
  MonitoringFacade,
  SnsAlarmActionStrategy,
  SqsQueueMonitoring,
  SqsQueueMonitoringWithDlq,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { PipelineFunction } from '../core/pipeline-function';
import { throwIfInvalid } from '../core/validation';
import { AlarmNaming, FIVE_MINUTES_ONCE, ONE_MINUTE, PipelineAlarm, type PipelineAlarmName } from './alarms';
import { type IotRuleAlarms, IotRuleMonitoring } from './iot-rule/iot-rule-monitoring';
import { KafkaEventSourceMonitoring } from './kafka-esm/kafka-event-source-monitoring';
import { ForwarderRecordsMonitoring } from './records/forwarder-records-monitoring';
import { FreshnessMonitoring } from './records/freshness-monitoring';
import { ReconciliationMonitoring } from './records/reconciliation-monitoring';
import { SinkRecordsMonitoring } from './records/sink-records-monitoring';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS, thresholdProblems } from './thresholds';

/**
 * What `PipelineMonitoring` watches (one pipeline's IoT rules, queues, functions and Kafka event source mapping),
 * whom its alarms notify, and when they fire.
 */
export interface PipelineMonitoringProps {
  /** Names the dashboard and prefixes every alarm name, so pipelines in one account stay apart. @default the stack name */
  readonly pipelineName?: string;
  /** Names of the IoT topic rules that route into the ingest queue. */
  readonly ruleNames: readonly string[];
  /** The queue the rules send to and the forwarder reads. */
  readonly ingestQueue: IQueue;
  /** The ingest queue's dead-letter queue. */
  readonly deadLetterQueue: IQueue;
  /** Target of the rules' error action. */
  readonly errorQueue: IQueue;
  /** The forwarder function (SQS → Kafka). */
  readonly forwarder: PipelineFunction;
  /** The sink function (Kafka → MongoDB). */
  readonly sink: PipelineFunction;
  /** The sink's Kafka event source mapping (`MongoSink.eventSourceMapping`). */
  readonly sinkEventSourceMapping: IEventSourceMapping;
  /**
   * Whether the mapping publishes event source mapping metrics (`MetricsConfig` EventCount, ErrorCount and
   * KafkaMetrics: provisioned mode only). Without them the row graphs the function's `OffsetLag` alone.
   * @default true
   */
  readonly sinkEventSourceMappingMetrics?: boolean;
  /** Set when the mapping has an on-failure destination (provisioned mode). @default no dead-letter topic alarm */
  readonly sinkDeadLetterTopic?: string;
  /** Every alarm notifies this topic when it fires and when it recovers. */
  readonly alarmTopic: ITopic;
  /** Overrides of the alarm thresholds. @default DEFAULT_ALARM_THRESHOLDS */
  readonly thresholds?: Partial<AlarmThresholds>;
}

/** Every alarm of the pipeline, by what it watches; the README's runbook has an entry per alarm. */
export interface PipelineAlarms {
  /** The alarms of each IoT rule, by rule name. */
  readonly rules: Readonly<Record<string, IotRuleAlarms>>;
  /** `IngestAgeHigh`: the oldest ingest-queue message is older than `maxIngestAgeSeconds` (README runbook). */
  readonly ingestAgeHigh: AlarmBase;
  /** `DeadLetterQueueNotEmpty`: the ingest dead-letter queue holds more than `maxDeadLetterMessages`. */
  readonly deadLetterQueueNotEmpty: AlarmBase;
  /** `ErrorQueueNotEmpty`: the IoT rules' error-action queue holds more than `maxErrorQueueMessages`. */
  readonly errorQueueNotEmpty: AlarmBase;
  /** `ForwarderErrorRate`: whole forwarder invocations failing above `maxForwarderErrorRatePercent`. */
  readonly forwarderErrorRate: AlarmBase;
  /** `ForwarderRecordsFailed`: records the forwarder could not produce to Kafka, above `maxRecordsFailedPercent`. */
  readonly forwarderRecordsFailed: AlarmBase;
  /** `OffsetLagHigh`: the sink's consumer group is more than `maxOffsetLag` records behind the topic. */
  readonly offsetLagHigh: AlarmBase;
  /** Only when the sink's event source has a dead-letter topic (provisioned mode). */
  readonly sinkDeadLetterTopicReceived?: AlarmBase;
  /** `SinkErrorRate`: whole sink invocations failing above `maxSinkErrorRatePercent`. */
  readonly sinkErrorRate: AlarmBase;
  /** `SinkRecordsFailed`: records the sink could not store, above `maxRecordsFailedPercent`. */
  readonly sinkRecordsFailed: AlarmBase;
  /** `SinkEventIdConflicts`: a reused eventId carried a different reading and was quarantined. */
  readonly sinkEventIdConflicts: AlarmBase;
  /** `FreshnessP99High`: the p99 of IoT receive → stored exceeds `maxFreshnessP99Seconds`. */
  readonly freshnessP99High: AlarmBase;
}

/**
 * Stage 4, monitoring: one CloudWatch dashboard per pipeline (named after it) and the alarms, built with
 * cdk-monitoring-constructs as one segment per service, added to the facade in the order a message flows: IoT rules
 * → ingest queue (with its dead-letter queue) and error queue → forwarder → Kafka event source → sink → end-to-end
 * freshness → stage reconciliation. The library's segments watch the queues and the functions; this package's own
 * watch what the library does not know: the IoT rules (`iot-rule/`), the Kafka event source mapping (`kafka-esm/`)
 * and the functions' EMF metrics, which carry the dimensions `service` and `pipeline` (`records/`).
 *
 * Every alarm notifies the alarm topic on ALARM and OK, treats missing data as not breaching (each metric is
 * absent only when nothing happened, see the README), and names its runbook section in its description.
 */
export class PipelineMonitoring extends Construct {
  /**
   * The cdk-monitoring-constructs facade every segment is added to: it draws each segment's widgets on the dashboard,
   * and its alarm defaults send every alarm to the alarm topic on ALARM and on OK.
   */
  public readonly facade: MonitoringFacade;
  /** The pipeline's CloudWatch dashboard, named after the pipeline, opening on the last 3 hours. */
  public readonly dashboard: Dashboard;
  /** The thresholds in force: the defaults with the overrides applied. */
  public readonly thresholds: AlarmThresholds;
  /** Every alarm created. */
  public readonly alarms: PipelineAlarms;
  /** The IoT rules' segment: per rule, what it matched, what its actions did and what it dropped, each alarmed. */
  public readonly iotRules: IotRuleMonitoring;
  /** The ingest queue's segment, with its dead-letter queue: alarms on the oldest message's age and on dead letters. */
  public readonly ingestQueue: SqsQueueMonitoringWithDlq;
  /** The IoT rules' error queue segment, alarming on its size: messages a rule could not put in the ingest queue. */
  public readonly errorQueue: SqsQueueMonitoring;
  /** The forwarder function's segment (invocations, errors, duration, concurrency), alarming on its error rate. */
  public readonly forwarder: LambdaFunctionMonitoring;
  /** What the forwarder did with each record (its EMF metrics), alarming on the share Kafka did not acknowledge. */
  public readonly forwarderRecords: ForwarderRecordsMonitoring;
  /** The sink's Kafka event source: its consumer group's lag, alarmed, and what the mapping polled and committed. */
  public readonly kafkaEventSource: KafkaEventSourceMonitoring;
  /** The sink function's segment (invocations, errors, duration, concurrency), alarming on its error rate. */
  public readonly sink: LambdaFunctionMonitoring;
  /** What the sink did with each record (its EMF metrics), alarming on event id conflicts and on records not stored. */
  public readonly sinkRecords: SinkRecordsMonitoring;
  /** How old readings are when the sink stores them, alarming on the p99 from IoT receive to stored. */
  public readonly freshness: FreshnessMonitoring;
  /** Each stage's record totals side by side (graphs only), so records stuck or lost between two stages show. */
  public readonly reconciliation: ReconciliationMonitoring;

  public constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    validate(this, props);
    const t: AlarmThresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    this.thresholds = t;
    const pipelineName = props.pipelineName ?? Stack.of(this).stackName;
    const naming = new AlarmNaming(pipelineName);

    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: pipelineName,
      detailDashboardRange: Duration.hours(3),
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: pipelineName,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic, onOkTopic: props.alarmTopic }),
      },
      dashboardFactory: dashboards,
    });
    if (!dashboards.dashboard) throw new Error(`${this.node.path}: the dashboard factory created no dashboard`);
    this.dashboard = dashboards.dashboard;
    const facade = this.facade;
    // Each segment creates its alarms when constructed; the facade draws its widgets when it is added
    const add = <T extends Monitoring>(segment: T): T => {
      facade.addSegment(segment);
      return segment;
    };

    facade.addLargeHeader(`${pipelineName}: IoT rules → SQS → forwarder → Kafka → sink → MongoDB`);
    this.iotRules = add(
      new IotRuleMonitoring(facade, {
        ruleNames: props.ruleNames,
        alarmNaming: naming,
        maxActionFailures: t.maxRuleActionFailures,
      }),
    );
    this.ingestQueue = add(
      new SqsQueueMonitoringWithDlq(facade, {
        queue: props.ingestQueue,
        deadLetterQueue: props.deadLetterQueue,
        humanReadableName: 'Ingest queue (IoT rules → forwarder)',
        alarmFriendlyName: 'IngestQueue',
        addQueueMaxMessageAgeAlarm: {
          Critical: {
            ...naming.settings(
              PipelineAlarm.IngestAgeHigh,
              `The oldest ingest-queue message has been older than ${t.maxIngestAgeSeconds} s for 3 minutes: the forwarder is not keeping up or cannot reach Kafka.`,
              { period: ONE_MINUTE, datapoints: 3, periods: 3 },
            ),
            maxAgeInSeconds: t.maxIngestAgeSeconds,
          },
        },
        addDeadLetterQueueMaxSizeAlarm: {
          Critical: {
            ...naming.settings(
              PipelineAlarm.DeadLetterQueueNotEmpty,
              `The ingest dead-letter queue holds more than ${t.maxDeadLetterMessages} message(s): invalid records, or records SQS delivered maxReceiveCount times.`,
              { period: ONE_MINUTE, datapoints: 1, periods: 1 },
            ),
            maxMessageCount: t.maxDeadLetterMessages,
          },
        },
      }),
    );
    this.errorQueue = add(
      new SqsQueueMonitoring(facade, {
        queue: props.errorQueue,
        humanReadableName: 'IoT rule error queue',
        alarmFriendlyName: 'ErrorQueue',
        addQueueMaxSizeAlarm: {
          Critical: {
            ...naming.settings(
              PipelineAlarm.ErrorQueueNotEmpty,
              `The IoT rule error queue holds more than ${t.maxErrorQueueMessages} message(s): messages a rule could not put in the ingest queue.`,
              { period: ONE_MINUTE, datapoints: 1, periods: 1 },
            ),
            maxMessageCount: t.maxErrorQueueMessages,
          },
        },
      }),
    );
    this.forwarder = add(
      lambdaFunction(
        facade,
        naming,
        props.forwarder,
        'Forwarder (SQS → Kafka)',
        PipelineAlarm.ForwarderErrorRate,
        t.maxForwarderErrorRatePercent,
        'forwarder invocations failed in 5 minutes (whole invocations: a bad environment, a crash or a timeout; single records never fail one).',
      ),
    );
    this.forwarderRecords = add(
      new ForwarderRecordsMonitoring(facade, {
        function: props.forwarder,
        alarmNaming: naming,
        maxRecordsFailedPercent: t.maxRecordsFailedPercent,
      }),
    );
    this.kafkaEventSource = add(
      new KafkaEventSourceMonitoring(facade, {
        lambdaFunction: props.sink,
        eventSourceMapping: props.sinkEventSourceMapping,
        eventSourceMappingMetrics: props.sinkEventSourceMappingMetrics,
        deadLetterTopic: props.sinkDeadLetterTopic,
        alarmNaming: naming,
        maxOffsetLag: t.maxOffsetLag,
      }),
    );
    this.sink = add(
      lambdaFunction(
        facade,
        naming,
        props.sink,
        'Sink (Kafka → MongoDB)',
        PipelineAlarm.SinkErrorRate,
        t.maxSinkErrorRatePercent,
        'sink invocations failed in 5 minutes: a bad environment, a crash, a timeout, or (on demand) a batch not fully stored.',
      ),
    );
    this.sinkRecords = add(
      new SinkRecordsMonitoring(facade, {
        function: props.sink,
        alarmNaming: naming,
        maxRecordsFailedPercent: t.maxRecordsFailedPercent,
      }),
    );
    this.freshness = add(
      new FreshnessMonitoring(facade, {
        function: props.sink,
        alarmNaming: naming,
        maxFreshnessP99Seconds: t.maxFreshnessP99Seconds,
      }),
    );
    this.reconciliation = add(
      new ReconciliationMonitoring(facade, {
        rules: this.iotRules.metricFactories,
        forwarder: this.forwarderRecords.metricFactory,
        sink: this.sinkRecords.metricFactory,
      }),
    );

    // The library's segments hand their alarms back as a list, in the order they create them: the queue's own
    // alarms first, then the dead-letter queue's (SqsQueueMonitoringWithDlq)
    const [ingestAgeHigh, deadLetterQueueNotEmpty] = alarmsOf(this.ingestQueue, 2);
    this.alarms = {
      rules: this.iotRules.ruleAlarms,
      ingestAgeHigh,
      deadLetterQueueNotEmpty,
      errorQueueNotEmpty: alarmsOf(this.errorQueue, 1)[0],
      forwarderErrorRate: alarmsOf(this.forwarder, 1)[0],
      forwarderRecordsFailed: this.forwarderRecords.recordsFailedAlarm,
      offsetLagHigh: this.kafkaEventSource.offsetLagHighAlarm,
      sinkDeadLetterTopicReceived: this.kafkaEventSource.deadLetterTopicReceivedAlarm,
      sinkErrorRate: alarmsOf(this.sink, 1)[0],
      sinkRecordsFailed: this.sinkRecords.recordsFailedAlarm,
      sinkEventIdConflicts: this.sinkRecords.eventIdConflictsAlarm,
      freshnessP99High: this.freshness.freshnessP99HighAlarm,
    };
  }
}

/** A function's invocations, errors, throttles, duration and concurrency, alarming on its invocation error rate. */
function lambdaFunction(
  facade: MonitoringFacade,
  naming: AlarmNaming,
  fn: PipelineFunction,
  title: string,
  alarm: PipelineAlarmName,
  maxPercent: number,
  what: string,
): LambdaFunctionMonitoring {
  return new LambdaFunctionMonitoring(facade, {
    lambdaFunction: fn,
    humanReadableName: title,
    alarmFriendlyName: alarm,
    isIterator: false,
    addFaultRateAlarm: {
      Critical: {
        ...naming.settings(alarm, `More than ${maxPercent}% of ${what}`, FIVE_MINUTES_ONCE),
        maxErrorRate: maxPercent / 100,
      },
    },
  });
}

/** The alarms a library segment created, which must be exactly `count` (one per `add…Alarm` it was given). */
function alarmsOf(segment: Monitoring, count: 1): [AlarmBase];
function alarmsOf(segment: Monitoring, count: 2): [AlarmBase, AlarmBase];
function alarmsOf(segment: Monitoring, count: number): AlarmBase[] {
  const alarms = segment.createdAlarms().map((created) => created.alarm);
  if (alarms.length !== count) throw new Error(`expected ${count} alarm(s) from a segment, found ${alarms.length}`);
  return alarms;
}

function validate(scope: Construct, props: PipelineMonitoringProps): void {
  const problems = thresholdProblems(props.thresholds ?? {});
  if (props.ruleNames.length === 0) problems.push('ruleNames: at least one IoT rule is required');
  props.ruleNames.forEach((rule, i) => {
    if (!/^[A-Za-z0-9_]{1,128}$/.test(rule)) problems.push(`ruleNames[${i}]: "${rule}" is not an IoT rule name`);
  });
  if (props.pipelineName !== undefined && !/^[A-Za-z0-9_-]{1,200}$/.test(props.pipelineName)) {
    problems.push(`pipelineName: "${props.pipelineName}" may only contain letters, digits, "-" and "_"`);
  }
  throwIfInvalid(scope, 'PipelineMonitoring', problems);
}

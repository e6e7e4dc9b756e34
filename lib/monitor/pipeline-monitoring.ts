import { Duration, Stack } from 'aws-cdk-lib';
import {
  type AlarmBase,
  ComparisonOperator,
  type Dashboard,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  type CustomAlarmThreshold,
  type CustomMetricGroup,
  DefaultDashboardFactory,
  GraphWidgetType,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { ForwarderMetric, SinkMetric } from '../../contracts/metrics';
import type { PipelineFunction } from '../core/pipeline-function';
import { throwIfInvalid } from '../core/validation';
import {
  EventSourceMappingMetric,
  type EventSourceMappingMetricName,
  eventSourceMappingMetric,
  IotRuleActionMetric,
  IotRuleMetric,
  ruleActionMetric,
  ruleActionSearch,
  ruleMetric,
  topicMatch,
} from './service-metrics';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS, thresholdProblems } from './thresholds';

export interface PipelineMonitoringProps {
  /** Names the dashboard and prefixes every alarm name, so pipelines in one account stay apart. @default the stack name */
  readonly pipelineName?: string;
  /** Names of the IoT topic rules that route into the ingest queue. */
  readonly ruleNames: readonly string[];
  readonly ingestQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** Target of the rules' error action. */
  readonly errorQueue: IQueue;
  readonly forwarder: PipelineFunction;
  readonly sink: PipelineFunction;
  /** The sink's Kafka event source mapping. */
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

/** The README section every alarm description points to; each alarm has a subsection named after it. */
export const RUNBOOK_SECTION = 'Alarms and runbook';

/** Alarm names without the pipeline prefix, as the README's runbook lists them. */
export const PipelineAlarm = {
  RuleActionFailures: 'RuleActionFailures',
  RuleErrorActionFailures: 'RuleErrorActionFailures',
  RuleParseErrors: 'RuleParseErrors',
  RuleMessagesThrottled: 'RuleMessagesThrottled',
  RuleNotFound: 'RuleNotFound',
  IngestAgeHigh: 'IngestAgeHigh',
  DeadLetterQueueNotEmpty: 'DeadLetterQueueNotEmpty',
  ErrorQueueNotEmpty: 'ErrorQueueNotEmpty',
  ForwarderErrorRate: 'ForwarderErrorRate',
  ForwarderRecordsFailed: 'ForwarderRecordsFailed',
  OffsetLagHigh: 'OffsetLagHigh',
  SinkDeadLetterTopicReceived: 'SinkDeadLetterTopicReceived',
  SinkErrorRate: 'SinkErrorRate',
  SinkRecordsFailed: 'SinkRecordsFailed',
  SinkEventIdConflicts: 'SinkEventIdConflicts',
  FreshnessP99High: 'FreshnessP99High',
} as const;

/**
 * IoT rule metrics of messages a rule drops before running any action, so neither the ingest queue nor the error
 * queue ever sees them: each one alarms on any occurrence.
 */
const DROPPED_BEFORE_ACTION = [
  {
    metric: IotRuleMetric.ParseError,
    alarm: PipelineAlarm.RuleParseErrors,
    what: 'parse errors',
    meaning: 'messages that are not JSON were dropped (ParseError): they reached no queue.',
  },
  {
    metric: IotRuleMetric.RuleMessageThrottled,
    alarm: PipelineAlarm.RuleMessagesThrottled,
    what: 'throttled',
    meaning: 'the rules engine throttled messages (RuleMessageThrottled): they reached no queue.',
  },
  {
    metric: IotRuleMetric.RuleNotFound,
    alarm: PipelineAlarm.RuleNotFound,
    what: 'rule not found',
    meaning: 'Basic Ingest publishes named this rule while it did not exist (RuleNotFound): they reached no queue.',
  },
] as const;

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/** How an alarm evaluates: `datapoints` breaching periods out of the last `periods`. */
interface Evaluation {
  readonly period: Duration;
  readonly datapoints: number;
  readonly periods: number;
}

/**
 * Stage 4, monitoring: one CloudWatch dashboard per pipeline (named after it) and the alarms, built with
 * cdk-monitoring-constructs.
 *
 * The dashboard follows a message: IoT rules → ingest queue (with its dead-letter queue) and error queue →
 * forwarder → Kafka event source → sink → end-to-end freshness → stage reconciliation. What the library does not
 * know (IoT rule metrics, the event source mapping's metrics, the functions' EMF metrics, which carry the
 * dimensions `service` and `pipeline`) comes in as custom metric groups.
 *
 * Every alarm notifies the alarm topic on ALARM and OK, treats missing data as not breaching (each metric is
 * absent only when nothing happened, see the README), and names its runbook section in its description.
 */
export class PipelineMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  public readonly dashboard: Dashboard;
  /** The thresholds in force: the defaults with the overrides applied. */
  public readonly thresholds: AlarmThresholds;
  /** Every alarm created, keyed by its name without the pipeline prefix (per-rule alarms end in the rule name). */
  public readonly alarms: Readonly<Record<string, AlarmBase>>;

  private readonly pipelineName: string;

  public constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    validate(this, props);
    this.thresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    this.pipelineName = props.pipelineName ?? Stack.of(this).stackName;

    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: this.pipelineName,
      detailDashboardRange: Duration.hours(3),
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: this.pipelineName,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic, onOkTopic: props.alarmTopic }),
      },
      dashboardFactory: dashboards,
    });
    if (!dashboards.dashboard) throw new Error(`${this.node.path}: the dashboard factory created no dashboard`);
    this.dashboard = dashboards.dashboard;

    this.facade.addLargeHeader(`${this.pipelineName}: IoT rules → SQS → forwarder → Kafka → sink → MongoDB`);
    const ruleAlarms = this.iotRules(props);
    this.queues(props);
    this.forwarder(props);
    this.kafkaEventSource(props);
    this.sink(props);
    this.freshness(props);
    this.reconciliation(props);

    const alarms: Record<string, AlarmBase> = {};
    for (const { alarm, alarmName } of [...this.facade.createdAlarms(), ...ruleAlarms]) {
      alarms[alarmName.slice(this.pipelineName.length + 1)] = alarm;
    }
    this.alarms = alarms;
  }

  /** Alarm settings every alarm shares: its name, runbook pointer, missing-data policy and evaluation. */
  private alarmSettings(alarmId: string, meaning: string, evaluation: Evaluation): CustomAlarmThreshold {
    return {
      alarmNameOverride: `${this.pipelineName}-${alarmId}`,
      alarmDescriptionOverride: `${meaning} Runbook: README.md, "${RUNBOOK_SECTION}" → ${alarmId.replace(/-.*$/, '')}.`,
      treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
      period: evaluation.period,
      datapointsToAlarm: evaluation.datapoints,
      evaluationPeriods: evaluation.periods,
    };
  }

  /** Row 1: what each rule matched and what its actions did; alarms on failed actions, per rule. */
  private iotRules(props: PipelineMonitoringProps) {
    const { Success, Failure, ErrorActionSuccess, ErrorActionFailure } = IotRuleActionMetric;
    this.facade.monitorCustom({
      humanReadableName: 'IoT rules',
      alarmFriendlyName: 'IotRules',
      metricGroups: [
        {
          title: 'Messages matched (TopicMatch)',
          metrics: props.ruleNames.map((rule) => topicMatch(rule, FIVE_MINUTES)),
        },
        {
          title: 'SQS action: successes / failures',
          metrics: props.ruleNames.flatMap((rule) => [
            ruleActionSearch(Success, rule, FIVE_MINUTES, `${rule} success`),
            ruleActionSearch(Failure, rule, FIVE_MINUTES, `${rule} failure`),
          ]),
        },
        {
          title: 'Error action (to the error queue): successes / failures',
          metrics: props.ruleNames.flatMap((rule) => [
            ruleActionSearch(ErrorActionSuccess, rule, FIVE_MINUTES, `${rule} error action success`),
            ruleActionSearch(ErrorActionFailure, rule, FIVE_MINUTES, `${rule} error action failure`),
          ]),
        },
        {
          // These messages reach neither the SQS action nor the error action: no failure store holds them
          title: 'Dropped before any action: parse errors / throttled / rule not found',
          metrics: props.ruleNames.flatMap((rule) =>
            DROPPED_BEFORE_ACTION.map(({ metric, what }) => ruleMetric(metric, rule, FIVE_MINUTES, `${rule} ${what}`)),
          ),
        },
      ],
    });
    // Alarms evaluate a Metrics Insights query (a graph holds only one), so they sit beside the graphs, not in them
    const factory = this.facade.createAlarmFactory('IotRules');
    const fiveMinutesOnce = { period: FIVE_MINUTES, datapoints: 1, periods: 1 };
    const dropped = props.ruleNames.flatMap((rule) =>
      DROPPED_BEFORE_ACTION.map(({ metric, alarm, what, meaning }) =>
        factory.addAlarm(ruleMetric(metric, rule, FIVE_MINUTES, `${rule} ${what}`), {
          ...this.alarmSettings(`${alarm}-${rule}`, `IoT rule ${rule}: ${meaning}`, fiveMinutesOnce),
          alarmNameSuffix: alarm,
          alarmDescription: '',
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      ),
    );
    return [
      ...dropped,
      ...props.ruleNames.flatMap((rule) => [
        factory.addAlarm(ruleActionMetric(Failure, rule, FIVE_MINUTES, `${rule} action failures`), {
          ...this.alarmSettings(
            `${PipelineAlarm.RuleActionFailures}-${rule}`,
            `IoT rule ${rule} failed to send more than ${this.thresholds.maxRuleActionFailures} message(s) to the ingest queue in 5 minutes; its error action sent them to the error queue.`,
            fiveMinutesOnce,
          ),
          alarmNameSuffix: PipelineAlarm.RuleActionFailures,
          alarmDescription: '',
          threshold: this.thresholds.maxRuleActionFailures,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        factory.addAlarm(ruleActionMetric(ErrorActionFailure, rule, FIVE_MINUTES, `${rule} error action failures`), {
          ...this.alarmSettings(
            `${PipelineAlarm.RuleErrorActionFailures}-${rule}`,
            `IoT rule ${rule} could deliver neither to the ingest queue nor to the error queue: those messages are lost.`,
            fiveMinutesOnce,
          ),
          alarmNameSuffix: PipelineAlarm.RuleErrorActionFailures,
          alarmDescription: '',
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      ]),
    ];
  }

  /** Row 2: the ingest queue with its dead-letter queue, then the IoT error queue. */
  private queues(props: PipelineMonitoringProps) {
    const t = this.thresholds;
    this.facade.monitorSqsQueueWithDlq({
      queue: props.ingestQueue,
      deadLetterQueue: props.deadLetterQueue,
      humanReadableName: 'Ingest queue (IoT rules → forwarder)',
      alarmFriendlyName: 'IngestQueue',
      addQueueMaxMessageAgeAlarm: {
        Critical: {
          ...this.alarmSettings(
            PipelineAlarm.IngestAgeHigh,
            `The oldest ingest-queue message has been older than ${t.maxIngestAgeSeconds} s for 3 minutes: the forwarder is not keeping up or cannot reach Kafka.`,
            { period: ONE_MINUTE, datapoints: 3, periods: 3 },
          ),
          maxAgeInSeconds: t.maxIngestAgeSeconds,
        },
      },
      addDeadLetterQueueMaxSizeAlarm: {
        Critical: {
          ...this.alarmSettings(
            PipelineAlarm.DeadLetterQueueNotEmpty,
            `The ingest dead-letter queue holds more than ${t.maxDeadLetterMessages} message(s): invalid records, or records SQS delivered maxReceiveCount times.`,
            { period: ONE_MINUTE, datapoints: 1, periods: 1 },
          ),
          maxMessageCount: t.maxDeadLetterMessages,
        },
      },
    });
    this.facade.monitorSqsQueue({
      queue: props.errorQueue,
      humanReadableName: 'IoT rule error queue',
      alarmFriendlyName: 'ErrorQueue',
      addQueueMaxSizeAlarm: {
        Critical: {
          ...this.alarmSettings(
            PipelineAlarm.ErrorQueueNotEmpty,
            `The IoT rule error queue holds more than ${t.maxErrorQueueMessages} message(s): messages a rule could not put in the ingest queue.`,
            { period: ONE_MINUTE, datapoints: 1, periods: 1 },
          ),
          maxMessageCount: t.maxErrorQueueMessages,
        },
      },
    });
  }

  /** Row 3: the forwarder's invocations, errors, throttles, duration and concurrency, then its EMF metrics. */
  private forwarder(props: PipelineMonitoringProps) {
    const fn = props.forwarder;
    this.lambdaFunction(
      fn,
      'Forwarder (SQS → Kafka)',
      PipelineAlarm.ForwarderErrorRate,
      this.thresholds.maxForwarderErrorRatePercent,
      'forwarder invocations failed in 5 minutes (whole invocations: a bad environment, a crash or a timeout; single records never fail one).',
    );
    const sum = (name: string, label: string) => fn.metricEmf(name, { statistic: 'Sum', period: FIVE_MINUTES, label });
    this.facade.monitorCustom({
      humanReadableName: 'Forwarder records (EMF)',
      alarmFriendlyName: 'ForwarderRecords',
      metricGroups: [
        {
          title: 'Records per outcome',
          metrics: [
            sum(ForwarderMetric.Forwarded, 'Forwarded (Kafka acknowledged)'),
            sum(ForwarderMetric.Invalid, 'Invalid (to the dead-letter queue)'),
            sum(ForwarderMetric.Failed, 'Failed (SQS delivers again)'),
          ],
        },
        this.recordsFailedGroup(
          fn,
          ForwarderMetric.Failed,
          ForwarderMetric.BatchSize,
          PipelineAlarm.ForwarderRecordsFailed,
          'the forwarder received were not acknowledged by Kafka in 2 of 3 five-minute periods; SQS delivers them again.',
        ),
        {
          title: 'Batch size',
          metrics: [
            fn.metricEmf(ForwarderMetric.BatchSize, { statistic: 'Average', period: FIVE_MINUTES, label: 'average' }),
            fn.metricEmf(ForwarderMetric.BatchSize, { statistic: 'Maximum', period: FIVE_MINUTES, label: 'maximum' }),
          ],
        },
        {
          title: 'Oldest forwarded record age (ms, IoT receive → Kafka ack)',
          metrics: [
            fn.metricEmf(ForwarderMetric.OldestRecordAge, { statistic: 'p50', period: FIVE_MINUTES, label: 'p50' }),
            fn.metricEmf(ForwarderMetric.OldestRecordAge, { statistic: 'Maximum', period: FIVE_MINUTES, label: 'max' }),
          ],
        },
      ],
    });
  }

  /** Row 4: the sink's consumer group on the Kafka topic: lag, what the mapping polled, committed and gave up on. */
  private kafkaEventSource(props: PipelineMonitoringProps) {
    const t = this.thresholds;
    const mappingId = props.sinkEventSourceMapping.eventSourceMappingId;
    const esm = (name: EventSourceMappingMetricName, statistic: string, label: string) =>
      eventSourceMappingMetric(name, mappingId, { statistic, period: FIVE_MINUTES, label });
    const M = EventSourceMappingMetric;
    const deadLetterTopic = esm(M.OnFailureDestinationDeliveredEventCount, 'Sum', 'Sent to the dead-letter topic');
    const mappingMetrics = props.sinkEventSourceMappingMetrics ?? true;
    const mappingGroups: CustomMetricGroup[] = [
      {
        title: 'Records polled / committed / given up',
        metrics: [
          esm(M.PolledEventCount, 'Sum', 'Polled'),
          esm(M.CommittedEventCount, 'Sum', 'Committed'),
          props.sinkDeadLetterTopic
            ? {
                metric: deadLetterTopic,
                alarmFriendlyName: PipelineAlarm.SinkDeadLetterTopicReceived,
                addAlarm: {
                  Critical: {
                    ...this.alarmSettings(
                      PipelineAlarm.SinkDeadLetterTopicReceived,
                      `The sink's event source gave up on records (retries or record age exhausted) and sent them to the Kafka dead-letter topic ${props.sinkDeadLetterTopic}.`,
                      { period: FIVE_MINUTES, datapoints: 1, periods: 1 },
                    ),
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  },
                },
              }
            : deadLetterTopic,
          esm(M.DroppedEventCount, 'Sum', 'Dropped'),
        ],
      },
      {
        title: 'Event source errors',
        metrics: [
          esm(M.PollingErrorCount, 'Sum', 'Polling errors'),
          esm(M.CommitErrorCount, 'Sum', 'Commit errors'),
          esm(M.InvokeErrorCount, 'Sum', 'Invoke errors'),
          esm(M.OnFailureDestinationDeliveryErrorCount, 'Sum', 'Dead-letter topic delivery errors'),
        ],
      },
    ];
    const metricGroups: CustomMetricGroup[] = [
      {
        title: 'Offset lag (records behind the topic)',
        metrics: [
          {
            metric: props.sink.metric('OffsetLag', { statistic: 'Maximum', period: ONE_MINUTE, label: 'OffsetLag' }),
            alarmFriendlyName: PipelineAlarm.OffsetLagHigh,
            addAlarm: {
              Critical: {
                ...this.alarmSettings(
                  PipelineAlarm.OffsetLagHigh,
                  `The sink's consumer group has been more than ${t.maxOffsetLag} records behind the topic for 5 minutes: the sink is slow, failing, or throttled.`,
                  { period: ONE_MINUTE, datapoints: 5, periods: 5 },
                ),
                threshold: t.maxOffsetLag,
                comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
              },
            },
          },
          ...(mappingMetrics
            ? [
                esm(M.MaxOffsetLag, 'Maximum', 'MaxOffsetLag (worst partition)'),
                esm(M.SumOffsetLag, 'Maximum', 'SumOffsetLag (all partitions)'),
              ]
            : []),
        ],
      },
      ...(mappingMetrics ? mappingGroups : []),
    ];
    this.facade.monitorCustom({
      humanReadableName: mappingMetrics
        ? 'Kafka event source (sink consumer group)'
        : 'Kafka event source (sink consumer group; on demand: event source mapping metrics need provisioned pollers)',
      alarmFriendlyName: 'KafkaEventSource',
      metricGroups,
    });
  }

  /** Row 5: the sink's invocations, errors, throttles, duration and concurrency, then its EMF metrics. */
  private sink(props: PipelineMonitoringProps) {
    const fn = props.sink;
    this.lambdaFunction(
      fn,
      'Sink (Kafka → MongoDB)',
      PipelineAlarm.SinkErrorRate,
      this.thresholds.maxSinkErrorRatePercent,
      'sink invocations failed in 5 minutes: a bad environment, a crash, a timeout, or (on demand) a batch not fully stored.',
    );
    const sum = (name: string, label: string) => fn.metricEmf(name, { statistic: 'Sum', period: FIVE_MINUTES, label });
    this.facade.monitorCustom({
      humanReadableName: 'Sink records (EMF)',
      alarmFriendlyName: 'SinkRecords',
      metricGroups: [
        {
          title: 'Records per outcome',
          metrics: [
            sum(SinkMetric.BatchSize, 'Received'),
            sum(SinkMetric.Written, 'Readings written'),
            sum(SinkMetric.Duplicates, 'Duplicates skipped'),
            sum(SinkMetric.Stale, 'Stale state skipped'),
            sum(SinkMetric.Invalid, 'Quarantined'),
            sum(SinkMetric.Failed, 'Failed (retried)'),
          ],
        },
        {
          // A reused eventId naming a different reading: a device (or the IoT SQL hash) broke the id contract, and
          // the reading is not stored until someone looks, so any one alarms
          title: 'Event id conflicts (quarantined as event_id_conflict)',
          metrics: [
            {
              metric: sum(SinkMetric.Conflicts, 'Event id conflicts'),
              alarmFriendlyName: PipelineAlarm.SinkEventIdConflicts,
              addAlarm: {
                Critical: {
                  ...this.alarmSettings(
                    PipelineAlarm.SinkEventIdConflicts,
                    'The sink quarantined a record whose eventId names a different stored reading (event_id_conflict): that reading is not stored.',
                    { period: FIVE_MINUTES, datapoints: 1, periods: 1 },
                  ),
                  threshold: 0,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                },
              },
            },
          ],
        },
        this.recordsFailedGroup(
          fn,
          SinkMetric.Failed,
          SinkMetric.BatchSize,
          PipelineAlarm.SinkRecordsFailed,
          'the sink received were not stored in 2 of 3 five-minute periods (MongoDB unreachable or failing); the event source retries them.',
        ),
      ],
    });
  }

  /** Row 6: how old a reading is when it is stored, from the device's clock and from IoT's receive time. */
  private freshness(props: PipelineMonitoringProps) {
    const fn = props.sink;
    const t = this.thresholds;
    const at = (name: string, statistic: string, label: string) =>
      fn.metricEmf(name, { statistic, period: FIVE_MINUTES, label });
    this.facade.monitorCustom({
      humanReadableName: 'End-to-end freshness (ms until stored in MongoDB)',
      alarmFriendlyName: 'Freshness',
      metricGroups: [
        {
          title: 'Device time → stored (FreshnessDeviceMs)',
          metrics: [at(SinkMetric.FreshnessDevice, 'p50', 'p50'), at(SinkMetric.FreshnessDevice, 'p99', 'p99')],
        },
        {
          title: 'IoT receive → stored (FreshnessIngestMs)',
          metrics: [
            at(SinkMetric.FreshnessIngest, 'p50', 'p50'),
            {
              metric: at(SinkMetric.FreshnessIngest, 'p99', 'p99'),
              alarmFriendlyName: PipelineAlarm.FreshnessP99High,
              addAlarm: {
                Critical: {
                  ...this.alarmSettings(
                    PipelineAlarm.FreshnessP99High,
                    `The p99 time from IoT receive to stored in MongoDB exceeded ${t.maxFreshnessP99Seconds} s in 2 of 3 five-minute periods.`,
                    { period: FIVE_MINUTES, datapoints: 2, periods: 3 },
                  ),
                  threshold: t.maxFreshnessP99Seconds * 1_000,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                },
              },
            },
          ],
        },
      ],
    });
  }

  /** Row 7: one bar per stage, each the total over the dashboard's time range, so drift shows at a glance. */
  private reconciliation(props: PipelineMonitoringProps) {
    const period = FIVE_MINUTES;
    const forwarder = (name: string, label: string) =>
      props.forwarder.metricEmf(name, { statistic: 'Sum', period, label });
    const sink = (name: string, label: string) => props.sink.metricEmf(name, { statistic: 'Sum', period, label });
    const matched: Record<string, IMetric> = {};
    props.ruleNames.forEach((rule, i) => {
      matched[`rule${i + 1}`] = topicMatch(rule, period);
    });
    this.facade.monitorCustom({
      humanReadableName: 'Stage reconciliation (totals over the time range)',
      alarmFriendlyName: 'Reconciliation',
      description:
        'Matched ≈ forwarded + invalid at forward (+ dead-lettered, error queue); stored (written + duplicates) ≥ forwarded − quarantined at sink. A gap that grows is records stuck or lost between two stages.',
      metricGroups: [
        {
          title: 'Records per stage',
          graphWidgetType: GraphWidgetType.BAR,
          graphWidgetWidth: 24,
          metrics: [
            new MathExpression({
              expression: `SUM([${Object.keys(matched)
                .map((key) => `FILL(${key}, 0)`)
                .join(', ')}])`,
              usingMetrics: matched,
              period,
              label: 'Matched by the IoT rules',
            }),
            forwarder(ForwarderMetric.Forwarded, 'Forwarded to Kafka'),
            forwarder(ForwarderMetric.Invalid, 'Invalid at forward'),
            new MathExpression({
              expression: 'FILL(written, 0) + FILL(duplicates, 0)',
              usingMetrics: {
                written: sink(SinkMetric.Written, 'written'),
                duplicates: sink(SinkMetric.Duplicates, 'duplicates'),
              },
              period,
              label: 'Stored at sink (written + duplicates)',
            }),
            sink(SinkMetric.Invalid, 'Quarantined at sink'),
          ],
        },
      ],
    });
  }

  /** A function's invocations, errors, throttles, duration and concurrency, alarming on its invocation error rate. */
  private lambdaFunction(fn: PipelineFunction, title: string, alarmId: string, maxPercent: number, what: string) {
    this.facade.monitorLambdaFunction({
      lambdaFunction: fn,
      humanReadableName: title,
      alarmFriendlyName: alarmId,
      isIterator: false,
      addFaultRateAlarm: {
        Critical: {
          ...this.alarmSettings(alarmId, `More than ${maxPercent}% of ${what}`, {
            period: FIVE_MINUTES,
            datapoints: 1,
            periods: 1,
          }),
          maxErrorRate: maxPercent / 100,
        },
      },
    });
  }

  /** `failed / received` records in percent (0 without records: a division by zero would leave a gap), alarmed. */
  private recordsFailedGroup(
    fn: PipelineFunction,
    failedName: string,
    receivedName: string,
    alarmId: string,
    what: string,
  ): CustomMetricGroup {
    const [failed, received] = [`${alarmId.toLowerCase()}failed`, `${alarmId.toLowerCase()}received`] as const;
    const sum = (name: string) => fn.metricEmf(name, { statistic: 'Sum', period: FIVE_MINUTES, label: name });
    return {
      title: 'Records failed (% of records)',
      metrics: [
        {
          metric: new MathExpression({
            expression: `IF(${received} > 0, 100 * FILL(${failed}, 0) / ${received}, 0)`,
            usingMetrics: { [failed]: sum(failedName), [received]: sum(receivedName) },
            period: FIVE_MINUTES,
            label: 'failed %',
          }),
          alarmFriendlyName: alarmId,
          addAlarm: {
            Critical: {
              ...this.alarmSettings(
                alarmId,
                `More than ${this.thresholds.maxRecordsFailedPercent}% of the records ${what}`,
                {
                  period: FIVE_MINUTES,
                  datapoints: 2,
                  periods: 3,
                },
              ),
              threshold: this.thresholds.maxRecordsFailedPercent,
              comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            },
          },
        },
      ],
    };
  }
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

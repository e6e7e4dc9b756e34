import { type AlarmBase, ComparisonOperator, type IWidget, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type MetricWithAlarmSupport, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { type AlarmNaming, FIVE_MINUTES_ONCE, PipelineAlarm, type PipelineAlarmName } from '../alarms';
import { type SegmentGraph, segmentWidgets } from '../segment-widgets';
import { DEFAULT_ALARM_THRESHOLDS } from '../thresholds';
import {
  IotRuleActionMetric,
  IotRuleMetric,
  IotRuleMetricFactory,
  type IotRuleMetricName,
} from './iot-rule-metric-factory';

/** Which IoT topic rules `IotRuleMonitoring` watches, how its alarms are named, and when the action alarm fires. */
export interface IotRuleMonitoringProps {
  /** Names of the IoT topic rules to monitor; they share one row, one line per rule in each graph. */
  readonly ruleNames: readonly string[];
  /** Names the alarms after the pipeline and points each at its runbook entry. */
  readonly alarmNaming: AlarmNaming;
  /**
   * Failed SQS actions per rule in 5 minutes tolerated before `RuleActionFailures-<rule>` alarms.
   * @default DEFAULT_ALARM_THRESHOLDS.maxRuleActionFailures (0)
   */
  readonly maxActionFailures?: number;
}

/** The alarms of one rule. */
export interface IotRuleAlarms {
  /** `RuleActionFailures-<rule>`: the SQS action failed more often than tolerated (the error action took them). */
  readonly actionFailures: AlarmBase;
  /** `RuleErrorActionFailures-<rule>`: neither action delivered, so those messages are lost. */
  readonly errorActionFailures: AlarmBase;
  /** `RuleParseErrors-<rule>`: messages that are not JSON, dropped before any action. */
  readonly parseErrors: AlarmBase;
  /** `RuleMessagesThrottled-<rule>`: messages the rules engine throttled, dropped before any action. */
  readonly messagesThrottled: AlarmBase;
  /** `RuleNotFound-<rule>`: Basic Ingest publishes named the rule while it did not exist. */
  readonly ruleNotFound: AlarmBase;
}

/** What a rule dropped before any action, and how its alarm says so. */
interface Dropped {
  readonly metric: IotRuleMetricName;
  readonly alarm: PipelineAlarmName;
  readonly what: string;
  readonly meaning: string;
}

/**
 * IoT rule metrics of messages a rule drops before running any action, so neither the ingest queue nor the error
 * queue ever sees them: each one alarms on any occurrence.
 */
const DROPPED_BEFORE_ACTION: Readonly<Record<'parseErrors' | 'messagesThrottled' | 'ruleNotFound', Dropped>> = {
  parseErrors: {
    metric: IotRuleMetric.ParseError,
    alarm: PipelineAlarm.RuleParseErrors,
    what: 'parse errors',
    meaning: 'messages that are not JSON were dropped (ParseError): they reached no queue.',
  },
  messagesThrottled: {
    metric: IotRuleMetric.RuleMessageThrottled,
    alarm: PipelineAlarm.RuleMessagesThrottled,
    what: 'throttled',
    meaning: 'the rules engine throttled messages (RuleMessageThrottled): they reached no queue.',
  },
  ruleNotFound: {
    metric: IotRuleMetric.RuleNotFound,
    alarm: PipelineAlarm.RuleNotFound,
    what: 'rule not found',
    meaning: 'Basic Ingest publishes named this rule while it did not exist (RuleNotFound): they reached no queue.',
  },
};

/**
 * The IoT topic rules that route into the ingest queue: what each rule matched, what its SQS action and its error
 * action did, and what it dropped before any action; alarms per rule on failed actions and on every drop.
 *
 * The alarms evaluate a Metrics Insights query over every action type (a graph holds only one such query), so they
 * sit beside the graphs, which draw SEARCH expressions, not in them.
 */
export class IotRuleMonitoring extends Monitoring {
  /** The header of the segment's rows on the dashboard, as cdk-monitoring-constructs' own segments have one. */
  public readonly title = 'IoT rules';
  /** One metric factory per rule, in the order of `ruleNames`. */
  public readonly metricFactories: readonly IotRuleMetricFactory[];
  /** The alarms of each rule, by rule name. */
  public readonly ruleAlarms: Readonly<Record<string, IotRuleAlarms>>;

  private readonly graphs: readonly SegmentGraph[];

  public constructor(scope: MonitoringScope, props: IotRuleMonitoringProps) {
    super(scope);
    this.metricFactories = props.ruleNames.map((ruleName) => new IotRuleMetricFactory({ ruleName }));
    const { Success, Failure, ErrorActionSuccess, ErrorActionFailure } = IotRuleActionMetric;
    const perRule = <T>(metrics: (rule: IotRuleMetricFactory) => T[]) => this.metricFactories.flatMap(metrics);
    this.graphs = [
      {
        title: 'Messages matched (TopicMatch)',
        metrics: perRule((rule) => [rule.metricTopicMatch()]),
      },
      {
        title: 'SQS action: successes / failures',
        metrics: perRule((rule) => [
          rule.metricActionSearch(Success, `${rule.ruleName} success`),
          rule.metricActionSearch(Failure, `${rule.ruleName} failure`),
        ]),
      },
      {
        title: 'Error action (to the error queue): successes / failures',
        metrics: perRule((rule) => [
          rule.metricActionSearch(ErrorActionSuccess, `${rule.ruleName} error action success`),
          rule.metricActionSearch(ErrorActionFailure, `${rule.ruleName} error action failure`),
        ]),
      },
      {
        // These messages reach neither the SQS action nor the error action: no failure store holds them
        title: 'Dropped before any action: parse errors / throttled / rule not found',
        metrics: perRule((rule) =>
          Object.values(DROPPED_BEFORE_ACTION).map(({ metric, what }) =>
            rule.metricRule(metric, `${rule.ruleName} ${what}`),
          ),
        ),
      },
    ];

    const factory = this.createAlarmFactory('IotRules');
    const naming = props.alarmNaming;
    const maxActionFailures = props.maxActionFailures ?? DEFAULT_ALARM_THRESHOLDS.maxRuleActionFailures;
    const add = (
      metric: MetricWithAlarmSupport,
      alarm: PipelineAlarmName,
      rule: string,
      meaning: string,
      threshold: number,
    ) => {
      const created = factory.addAlarm(metric, {
        ...naming.settings(alarm, meaning, FIVE_MINUTES_ONCE, rule),
        alarmNameSuffix: alarm,
        // required by the factory, replaced by the settings' alarmDescriptionOverride
        alarmDescription: '',
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.addAlarm(created);
      return created.alarm;
    };
    const ruleAlarms: Record<string, IotRuleAlarms> = {};
    for (const rule of this.metricFactories) {
      const name = rule.ruleName;
      const dropped = ({ metric, alarm, what, meaning }: Dropped) =>
        add(rule.metricRule(metric, `${name} ${what}`), alarm, name, `IoT rule ${name}: ${meaning}`, 0);
      ruleAlarms[name] = {
        parseErrors: dropped(DROPPED_BEFORE_ACTION.parseErrors),
        messagesThrottled: dropped(DROPPED_BEFORE_ACTION.messagesThrottled),
        ruleNotFound: dropped(DROPPED_BEFORE_ACTION.ruleNotFound),
        actionFailures: add(
          rule.metricActionSum(Failure, `${name} action failures`),
          PipelineAlarm.RuleActionFailures,
          name,
          `IoT rule ${name} failed to send more than ${maxActionFailures} message(s) to the ingest queue in 5 minutes; its error action sent them to the error queue.`,
          maxActionFailures,
        ),
        errorActionFailures: add(
          rule.metricActionSum(ErrorActionFailure, `${name} error action failures`),
          PipelineAlarm.RuleErrorActionFailures,
          name,
          `IoT rule ${name} could deliver neither to the ingest queue nor to the error queue: those messages are lost.`,
          0,
        ),
      };
    }
    this.ruleAlarms = ruleAlarms;
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, then the graphs of what the
   * rules matched, what their SQS and error actions did, and what they dropped before any action.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(this.title, this.graphs);
  }
}

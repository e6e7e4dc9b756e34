/**
 * What every alarm of the pipeline shares, whichever segment creates it: its name, the runbook entry its description
 * points to, the missing-data policy and how it evaluates.
 */
import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type {
  AlarmWithAnnotation,
  CustomAlarmFactory,
  CustomAlarmThreshold,
  MetricWithAlarmSupport,
} from 'cdk-monitoring-constructs';

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
/** One of the pipeline's alarm names (a `PipelineAlarm` value), typed so that a misspelt alarm fails to compile. */
export type PipelineAlarmName = (typeof PipelineAlarm)[keyof typeof PipelineAlarm];

export const ONE_MINUTE = Duration.minutes(1);
export const FIVE_MINUTES = Duration.minutes(5);

/** How an alarm evaluates: `datapoints` breaching periods out of the last `periods`. */
export interface Evaluation {
  readonly period: Duration;
  readonly datapoints: number;
  readonly periods: number;
}

/** One breaching five-minute period alarms. */
export const FIVE_MINUTES_ONCE: Evaluation = { period: FIVE_MINUTES, datapoints: 1, periods: 1 };
/** Two breaching five-minute periods out of three alarm. */
export const FIVE_MINUTES_TWO_OF_THREE: Evaluation = { period: FIVE_MINUTES, datapoints: 2, periods: 3 };

/**
 * Names the alarms of one pipeline `<pipeline>-<alarm>` (`<pipeline>-<alarm>-<rule>` for a per-rule alarm), so the
 * alarm topic's policy (`<pipeline>-*`) admits them and two pipelines in one account stay apart.
 */
export class AlarmNaming {
  public constructor(
    /** Prefixes every alarm name. */
    public readonly pipelineName: string,
  ) {}

  /**
   * The settings every alarm shares. `meaning` opens the description, which ends with the runbook entry of `alarm`;
   * `qualifier` (a rule name) ends the alarm name only, as one runbook entry covers every rule.
   */
  public settings(
    alarm: PipelineAlarmName,
    meaning: string,
    evaluation: Evaluation,
    qualifier?: string,
  ): CustomAlarmThreshold {
    return {
      alarmNameOverride: [this.pipelineName, alarm, ...(qualifier === undefined ? [] : [qualifier])].join('-'),
      alarmDescriptionOverride: `${meaning} Runbook: README.md, "${RUNBOOK_SECTION}" → ${alarm}.`,
      treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
      period: evaluation.period,
      datapointsToAlarm: evaluation.datapoints,
      evaluationPeriods: evaluation.periods,
    };
  }
}

/**
 * An alarm when `metric` exceeds `threshold`, created the way cdk-monitoring-constructs' `CustomMonitoring` creates
 * the alarm of a custom metric (friendly name, disambiguator `Critical`), so its annotation can mark the graph.
 */
export function alarmAbove(
  factory: CustomAlarmFactory,
  metric: MetricWithAlarmSupport,
  alarm: PipelineAlarmName,
  settings: CustomAlarmThreshold,
  threshold: number,
): AlarmWithAnnotation {
  return factory.addCustomAlarm(metric, alarm, 'Critical', {
    ...settings,
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
  });
}

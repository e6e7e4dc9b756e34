/**
 * Metrics AWS publishes for the pipeline's resources that neither aws-cdk-lib nor cdk-monitoring-constructs offers:
 * the IoT rules' and the Kafka event source mapping's. Names and dimensions as AWS documents them (see the README,
 * "Dashboard").
 */
import type { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';

export const IOT_NAMESPACE = 'AWS/IoT';

/** AWS/IoT rule action metrics: dimensions `RuleName` and `ActionType`. */
export const IotRuleActionMetric = {
  Success: 'Success',
  Failure: 'Failure',
  ErrorActionSuccess: 'ErrorActionSuccess',
  ErrorActionFailure: 'ErrorActionFailure',
} as const;
export type IotRuleActionMetricName = (typeof IotRuleActionMetric)[keyof typeof IotRuleActionMetric];

/**
 * AWS/IoT rule metrics, dimension `RuleName` ("AWS IoT metrics and dimensions", Rule metrics:
 * https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html#rulemetrics; aws-cdk-lib's
 * `IoTMetrics` canned metrics name the same four, Sum over `RuleName`):
 * - `TopicMatch`: messages published on a topic the rule listens to;
 * - `ParseError`: JSON parse errors in messages on a topic the rule listens to (the rule runs no action);
 * - `RuleMessageThrottled`: messages the rules engine throttled (no action either);
 * - `RuleNotFound`: a Basic Ingest publish (`$aws/rules/<rule>/…`) named a rule that does not exist.
 */
export const IotRuleMetric = {
  TopicMatch: 'TopicMatch',
  ParseError: 'ParseError',
  RuleMessageThrottled: 'RuleMessageThrottled',
  RuleNotFound: 'RuleNotFound',
} as const;
export type IotRuleMetricName = (typeof IotRuleMetric)[keyof typeof IotRuleMetric];

/** An AWS/IoT rule metric of one rule, summed per period. */
export function ruleMetric(metricName: IotRuleMetricName, ruleName: string, period: Duration, label: string): Metric {
  return new Metric({
    namespace: IOT_NAMESPACE,
    metricName,
    dimensionsMap: { RuleName: ruleName },
    statistic: 'Sum',
    period,
    label,
  });
}

/** AWS/IoT `TopicMatch`: messages published on a topic the rule listens to. */
export function topicMatch(ruleName: string, period: Duration): Metric {
  return ruleMetric(IotRuleMetric.TopicMatch, ruleName, period, `${ruleName} matched`);
}

/**
 * A rule action metric for graphs: a SEARCH over the exact dimension set {RuleName, ActionType}, one line per action
 * type the rule reports (a graph may hold several SEARCH expressions, but only one Metrics Insights query).
 */
export function ruleActionSearch(
  metricName: IotRuleActionMetricName,
  ruleName: string,
  period: Duration,
  label: string,
): MathExpression {
  const query = `{${IOT_NAMESPACE},ActionType,RuleName} MetricName="${metricName}" RuleName="${quotable(ruleName)}"`;
  return selfContained(`SEARCH('${query}', 'Sum', ${period.toSeconds()})`, period, label);
}

/**
 * A rule action metric summed over its `ActionType` values, for alarms, as a Metrics Insights query. AWS documents the
 * `ActionType` dimension but not its values, so the query matches the exact dimension set {RuleName, ActionType}
 * and sums whatever action types the rule reports; alarms can evaluate a Metrics Insights query.
 */
export function ruleActionMetric(
  metricName: IotRuleActionMetricName,
  ruleName: string,
  period: Duration,
  label: string,
): MathExpression {
  const from = `SCHEMA("${IOT_NAMESPACE}", ActionType, RuleName)`;
  return selfContained(
    `SELECT SUM(${metricName}) FROM ${from} WHERE RuleName = '${quotable(ruleName)}'`,
    period,
    label,
  );
}

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

export function eventSourceMappingMetric(
  metricName: EventSourceMappingMetricName,
  eventSourceMappingId: string,
  props: { readonly statistic: string; readonly period: Duration; readonly label: string },
): Metric {
  return new Metric({
    namespace: 'AWS/Lambda',
    metricName,
    dimensionsMap: { EventSourceMappingUUID: eventSourceMappingId },
    ...props,
  });
}

/** IoT rule names are letters, digits and `_`: nothing that needs escaping inside a query string. */
function quotable(ruleName: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(ruleName)) throw new Error(`rule name "${ruleName}" cannot be quoted in a query`);
  return ruleName;
}

/** An expression that selects its own metrics (SEARCH, Metrics Insights), so it uses no others. */
function selfContained(expression: string, period: Duration, label: string): MathExpression {
  return new MathExpression({ expression, usingMetrics: {}, period, label });
}

/**
 * The metrics AWS IoT publishes for one topic rule, which neither aws-cdk-lib nor cdk-monitoring-constructs offers.
 * Names and dimensions as AWS documents them (see the README, "Dashboard").
 */
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { FIVE_MINUTES } from '../alarms';

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

/** Which IoT topic rule an `IotRuleMetricFactory` builds metrics for. */
export interface IotRuleMetricFactoryProps {
  /** The topic rule whose metrics to build: the `RuleName` dimension (letters, digits and `_`). */
  readonly ruleName: string;
}

/** The metrics of one IoT topic rule, each summed per five minutes. */
export class IotRuleMetricFactory {
  /** The topic rule these metrics are of: the value of their `RuleName` dimension, and the prefix of their labels. */
  public readonly ruleName: string;

  public constructor(props: IotRuleMetricFactoryProps) {
    // IoT rule names are letters, digits and `_`: nothing that needs escaping inside a query string
    if (!/^[A-Za-z0-9_]+$/.test(props.ruleName)) {
      throw new Error(`rule name "${props.ruleName}" cannot be quoted in a query`);
    }
    this.ruleName = props.ruleName;
  }

  /** `TopicMatch`: messages published on a topic the rule listens to. */
  public metricTopicMatch(): Metric {
    return this.metricRule(IotRuleMetric.TopicMatch, `${this.ruleName} matched`);
  }

  /** An AWS/IoT rule metric of this rule (dimension `RuleName` alone). */
  public metricRule(metricName: IotRuleMetricName, label: string): Metric {
    return new Metric({
      namespace: IOT_NAMESPACE,
      metricName,
      dimensionsMap: { RuleName: this.ruleName },
      statistic: 'Sum',
      period: FIVE_MINUTES,
      label,
    });
  }

  /**
   * A rule action metric for graphs: a SEARCH over the exact dimension set {RuleName, ActionType}, one line per action
   * type the rule reports (a graph may hold several SEARCH expressions, but only one Metrics Insights query).
   */
  public metricActionSearch(metricName: IotRuleActionMetricName, label: string): MathExpression {
    const query = `{${IOT_NAMESPACE},ActionType,RuleName} MetricName="${metricName}" RuleName="${this.ruleName}"`;
    return selfContained(`SEARCH('${query}', 'Sum', ${FIVE_MINUTES.toSeconds()})`, label);
  }

  /**
   * A rule action metric summed over its `ActionType` values, for alarms, as a Metrics Insights query. AWS documents
   * the `ActionType` dimension but not its values, so the query matches the exact dimension set {RuleName,
   * ActionType} and sums whatever action types the rule reports; alarms can evaluate a Metrics Insights query.
   */
  public metricActionSum(metricName: IotRuleActionMetricName, label: string): MathExpression {
    const from = `SCHEMA("${IOT_NAMESPACE}", ActionType, RuleName)`;
    return selfContained(`SELECT SUM(${metricName}) FROM ${from} WHERE RuleName = '${this.ruleName}'`, label);
  }
}

/** An expression that selects its own metrics (SEARCH, Metrics Insights), so it uses no others. */
function selfContained(expression: string, label: string): MathExpression {
  return new MathExpression({ expression, usingMetrics: {}, period: FIVE_MINUTES, label });
}

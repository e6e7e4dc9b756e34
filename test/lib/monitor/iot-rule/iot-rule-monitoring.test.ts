import { describe, expect, it } from 'vitest';
import { IotRuleMetricFactory } from '../../../../lib/monitor/iot-rule/iot-rule-metric-factory';
import { type IotRuleAlarms, IotRuleMonitoring } from '../../../../lib/monitor/iot-rule/iot-rule-monitoring';
import { alarmMetrics, widgetMetrics } from '../../../helpers/cloudwatch';
import { segmentNaming, synthSegment } from '../../../helpers/monitoring-segment';

// Rule metrics, dimension RuleName; action metrics, dimensions RuleName and ActionType ("AWS IoT metrics and
// dimensions", https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html#rulemetrics)
const RULES = ['Pipe_1', 'Pipe_2'];

describe('IotRuleMonitoring', () => {
  // Given two rules, monitored in one segment
  const synth = synthSegment(
    (facade) => new IotRuleMonitoring(facade, { ruleNames: RULES, alarmNaming: segmentNaming, maxActionFailures: 7 }),
  );
  const metrics = (alarm: keyof IotRuleAlarms, rule: string) => {
    const alarms = synth.segment.ruleAlarms[rule];
    if (!alarms) throw new Error(`no alarms for ${rule}`);
    const properties = synth.alarm(alarms[alarm]);
    return { properties, metrics: alarmMetrics(properties).map(({ source: _, ...metric }) => metric) };
  };

  it('exposes each rule’s alarms by rule name, named after the pipeline, the alarm and the rule', () => {
    // Then every typed field is the alarm of that name, and there are no others
    const expected: Record<keyof IotRuleAlarms, string> = {
      actionFailures: 'RuleActionFailures',
      errorActionFailures: 'RuleErrorActionFailures',
      parseErrors: 'RuleParseErrors',
      messagesThrottled: 'RuleMessagesThrottled',
      ruleNotFound: 'RuleNotFound',
    };
    for (const rule of RULES) {
      for (const [field, alarm] of Object.entries(expected) as [keyof IotRuleAlarms, string][]) {
        const { properties } = metrics(field, rule);
        expect(properties.AlarmName, `${rule}.${field}`).toBe(`Pipe-${alarm}-${rule}`);
        // one runbook entry covers every rule: the description names the alarm without the rule
        expect(properties.AlarmDescription).toMatch(
          new RegExp(`Runbook: README.md, "Alarms and runbook" → ${alarm}\\.$`),
        );
      }
    }
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', RULES.length * Object.keys(expected).length);
    expect(synth.segment.createdAlarms()).toHaveLength(RULES.length * Object.keys(expected).length);
  });

  it('alarms on any message a rule drops before any action, on that rule’s metric alone', () => {
    for (const rule of RULES) {
      for (const [field, metricName] of [
        ['parseErrors', 'ParseError'],
        ['messagesThrottled', 'RuleMessageThrottled'],
        ['ruleNotFound', 'RuleNotFound'],
      ] as const) {
        const alarm = metrics(field, rule);
        expect(alarm.metrics).toEqual([{ namespace: 'AWS/IoT', metricName, dimensions: { RuleName: rule } }]);
        // a labelled metric synthesizes as a `Metrics` query: its statistic and period sit in its MetricStat
        expect(JSON.stringify(alarm.properties.Metrics ?? alarm.properties)).toMatch(/"(Stat|Statistic)":"Sum"/);
        expect(JSON.stringify(alarm.properties.Metrics ?? alarm.properties)).toMatch(/"Period":300/);
        expect(alarm.properties).toMatchObject({
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
        });
      }
    }
  });

  it('alarms on failed actions through a Metrics Insights sum over every action type, at the configured threshold', () => {
    const rule = 'Pipe_2';
    const action = metrics('actionFailures', rule);
    expect(action.metrics).toEqual([
      { namespace: 'AWS/IoT', metricName: 'Failure', dimensions: { RuleName: rule, ActionType: '*' } },
    ]);
    expect(action.properties.Threshold).toBe(7);
    const errorAction = metrics('errorActionFailures', rule);
    expect(errorAction.metrics).toEqual([
      { namespace: 'AWS/IoT', metricName: 'ErrorActionFailure', dimensions: { RuleName: rule, ActionType: '*' } },
    ]);
    expect(errorAction.properties.Threshold).toBe(0);
  });

  it('graphs every rule in one row: matches, SQS action, error action, drops', () => {
    expect(synth.graphTitles).toEqual([
      'Messages matched (TopicMatch)',
      'SQS action: successes / failures',
      'Error action (to the error queue): successes / failures',
      'Dropped before any action: parse errors / throttled / rule not found',
    ]);
    for (const widget of synth.widgets.filter((w) => w.type === 'metric')) {
      const rules = new Set(widgetMetrics(widget).map((m) => m.dimensions.RuleName));
      expect(rules, String(widget.properties.title)).toEqual(new Set(RULES));
    }
    expect(synth.widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown)).toEqual([
      expect.stringContaining('IoT rules'),
    ]);
  });
});

describe('IotRuleMetricFactory', () => {
  it('refuses a rule name a query could not quote', () => {
    // IoT rule names are letters, digits and `_` (AWS::IoT::TopicRule RuleName, pattern ^[a-zA-Z0-9_]+$,
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iot-topicrule.html)
    expect(() => new IotRuleMetricFactory({ ruleName: "Pipe_1' OR RuleName = 'x" })).toThrow(/cannot be quoted/);
    expect(new IotRuleMetricFactory({ ruleName: 'Pipe_1' }).metricTopicMatch().dimensions).toEqual({
      RuleName: 'Pipe_1',
    });
  });
});

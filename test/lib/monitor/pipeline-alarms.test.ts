import type { CfnElement } from 'aws-cdk-lib';
import type { AlarmBase } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import type { IotRuleAlarms } from '../../../lib/monitor/iot-rule/iot-rule-monitoring';
import type { PipelineAlarms } from '../../../lib/monitor/pipeline-monitoring';
import { synthStack } from '../../helpers/synth';

/** Each typed alarm field and the alarm name it must hold (without the pipeline prefix). */
const FIELDS: Record<Exclude<keyof PipelineAlarms, 'rules'>, string> = {
  ingestAgeHigh: 'IngestAgeHigh',
  deadLetterQueueNotEmpty: 'DeadLetterQueueNotEmpty',
  errorQueueNotEmpty: 'ErrorQueueNotEmpty',
  forwarderErrorRate: 'ForwarderErrorRate',
  forwarderRecordsFailed: 'ForwarderRecordsFailed',
  offsetLagHigh: 'OffsetLagHigh',
  sinkDeadLetterTopicReceived: 'SinkDeadLetterTopicReceived',
  sinkErrorRate: 'SinkErrorRate',
  sinkRecordsFailed: 'SinkRecordsFailed',
  sinkEventIdConflicts: 'SinkEventIdConflicts',
  freshnessP99High: 'FreshnessP99High',
};
const RULE_FIELDS: Record<keyof IotRuleAlarms, string> = {
  actionFailures: 'RuleActionFailures',
  errorActionFailures: 'RuleErrorActionFailures',
  parseErrors: 'RuleParseErrors',
  messagesThrottled: 'RuleMessagesThrottled',
  ruleNotFound: 'RuleNotFound',
};

/** Every typed alarm of the stack's monitoring, with the name its field promises, and every alarm name synthesized. */
function typedAlarms(overrides: Parameters<typeof synthStack>[0] = {}) {
  const { stack, template, config } = synthStack(overrides);
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const nameOf = (alarm: AlarmBase) =>
    resources[stack.getLogicalId(alarm.node.defaultChild as CfnElement)]?.Properties.AlarmName;
  const { rules, ...alarms } = stack.monitoring.alarms;
  const typed: [expected: string, actual: unknown][] = [
    ...Object.entries(alarms).map(([field, alarm]): [string, unknown] => [
      `${config.stackName}-${FIELDS[field as keyof typeof FIELDS]}`,
      alarm && nameOf(alarm),
    ]),
    ...Object.entries(rules).flatMap(([rule, ruleAlarms]) =>
      Object.entries(ruleAlarms).map(([field, alarm]): [string, unknown] => [
        `${config.stackName}-${RULE_FIELDS[field as keyof IotRuleAlarms]}-${rule}`,
        nameOf(alarm),
      ]),
    ),
  ];
  const synthesized = Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties.AlarmName);
  return { typed, synthesized };
}

describe('PipelineMonitoring alarms as typed fields', () => {
  it('holds in each field the alarm of that name, and every alarm the stack has', () => {
    // Given the default pipeline (provisioned pollers, so a dead-letter topic)
    const { typed, synthesized } = typedAlarms({ iot: { topicFilters: ['sensors/+/telemetry', 'plants/+/readings'] } });
    // Then each field is the alarm its name promises, and no alarm is left out
    for (const [expected, actual] of typed) expect(actual, expected).toBe(expected);
    expect(typed.map(([expected]) => expected).sort()).toEqual([...synthesized].sort());
    expect(typed).toHaveLength(Object.keys(FIELDS).length + 2 * Object.keys(RULE_FIELDS).length);
  });

  it('on demand, has no dead-letter topic alarm field', () => {
    const { stack } = synthStack({ sink: { provisionedPollers: null } });
    expect(stack.monitoring.alarms.sinkDeadLetterTopicReceived).toBeUndefined();
    expect(stack.monitoring.alarms.offsetLagHigh).toBeDefined();
  });
});

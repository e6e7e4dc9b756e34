import { describe, expect, it } from 'vitest';
import { devicePlanFromStackOutputs, topicsForDevice } from '../../../ops/devices';
import { synthStack } from '../../helpers/synth';
import { LONGEST_RULE_NAME_PREFIX, LONGEST_TOPIC_FILTERS } from '../../helpers/variants';

describe('device topics', () => {
  it('reads the policy and routes from the outputs the stack really synthesizes', () => {
    // Given the stack's outputs as CloudFormation would report them, with the values the template gives
    const { template } = synthStack({ iot: { topicFilters: ['sensors/+/telemetry', 'site/a/+/env'] } });
    const outputs = Object.fromEntries(
      Object.entries(template.toJSON().Outputs as Record<string, { Value: unknown }>).map(([key, { Value }]) => [
        key,
        typeof Value === 'string' ? Value : 'Policy-From-Ref',
      ]),
    );

    // When the device plan is read from them
    const plan = devicePlanFromStackOutputs(outputs);

    // Then it names the policy and each filter's rule, and a device gets its topic and Basic Ingest topic per route
    expect(plan).toEqual({
      policyNames: ['Policy-From-Ref'],
      routes: [
        { topicFilter: 'sensors/+/telemetry', ruleName: 'TelemetryPipeline_dev_1' },
        { topicFilter: 'site/a/+/env', ruleName: 'TelemetryPipeline_dev_2' },
      ],
    });
    expect(topicsForDevice('sensor-9', plan.routes)).toEqual([
      {
        topic: 'sensors/sensor-9/telemetry',
        ruleName: 'TelemetryPipeline_dev_1',
        basicIngestTopic: '$aws/rules/TelemetryPipeline_dev_1/sensors/sensor-9/telemetry',
      },
      {
        topic: 'site/a/sensor-9/env',
        ruleName: 'TelemetryPipeline_dev_2',
        basicIngestTopic: '$aws/rules/TelemetryPipeline_dev_2/site/a/sensor-9/env',
      },
    ]);
  });

  it('reads every device policy of a stack that split them, in order', () => {
    // Given the stack at the config's maximum, whose device permissions need several policies
    const { template } = synthStack({
      iot: { topicFilters: LONGEST_TOPIC_FILTERS, ruleNamePrefix: LONGEST_RULE_NAME_PREFIX },
    });
    const outputs = Object.fromEntries(
      Object.entries(template.toJSON().Outputs as Record<string, { Value: unknown }>).map(([key, { Value }]) => [
        key,
        typeof Value === 'string' ? Value : `ref-of-${key}`,
      ]),
    );
    // When the plan is read / Then it names each of them, DevicePolicyName first
    const { policyNames } = devicePlanFromStackOutputs(outputs);
    expect(policyNames.length).toBeGreaterThan(1);
    expect(policyNames).toEqual(
      policyNames.map((_, i) => (i === 0 ? 'ref-of-DevicePolicyName' : `ref-of-DevicePolicyName${i + 1}`)),
    );
  });

  it('gives plain topics when no rule name is known', () => {
    // Given a route without a rule name
    // When a device's topics are derived from it
    // Then the device gets the plain topic and no Basic Ingest topic
    expect(topicsForDevice('d', [{ topicFilter: 'sensors/+/telemetry' }])).toEqual([{ topic: 'sensors/d/telemetry' }]);
  });
});

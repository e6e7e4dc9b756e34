import { describe, expect, it } from 'vitest';
import { devicePlanFromStackOutputs, topicsForDevice } from '../../../ops/devices';
import { synthStack } from '../../helpers/synth';

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

    const plan = devicePlanFromStackOutputs(outputs);

    expect(plan).toEqual({
      policyName: 'Policy-From-Ref',
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

  it('gives plain topics when no rule name is known', () => {
    expect(topicsForDevice('d', [{ topicFilter: 'sensors/+/telemetry' }])).toEqual([{ topic: 'sensors/d/telemetry' }]);
  });
});

import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load';
import { IOT_POLICY_MAX_CHARACTERS, TelemetryIngest } from '../../../lib/ingest/telemetry-ingest';
import { TemplatePolicies } from '../../helpers/template-policies';
import { LONGEST_TOPIC_FILTERS, longestTopicFilter } from '../../helpers/variants';

const ingest = (topicFilters: readonly string[], ruleNamePrefix: string, env?: { account: string; region: string }) => {
  const stack = new Stack(new App(), 'S', env ? { env } : {});
  return new TelemetryIngest(stack, 'Ingest', { topicFilters, ruleNamePrefix, consumerTimeout: Duration.seconds(30) });
};

/**
 * AWS IoT Core refuses a policy document over 2,048 characters, whitespace excluded ("AWS IoT Core endpoints and
 * quotas" → "Maximum size of a policy document", https://docs.aws.amazon.com/general/latest/gr/iot-core.html).
 */
describe('TelemetryIngest device policy size', () => {
  it('refuses at synth, with the size, the limit and what to change, a device policy IoT would refuse at deploy', () => {
    // Given the config's maximum: 20 topic filters with the longest names the schema allows
    const filters = LONGEST_TOPIC_FILTERS;
    expect(
      parseConfig({
        stackName: 'P',
        iot: { topicFilters: filters },
        kafka: { bootstrapServers: ['b:9092'], topic: 'telemetry' },
      }).iot.topicFilters,
    ).toHaveLength(20);
    // When the ingest stage is built / Then it names the problem instead of leaving it to CreatePolicy
    expect(() => ingest(filters, 'P')).toThrow(
      /S\/Ingest: invalid TelemetryIngest props:\n {2}- topicFilters: the device policy would be \d+ characters \(whitespace excluded\); AWS IoT allows 2048\. Only the first \d+ of 20 topic filters fit: use fewer or shorter topic filters, or a shorter iot\.ruleNamePrefix/,
    );
  });

  it('reports the policy size together with every other bad prop', () => {
    expect(() => ingest(LONGEST_TOPIC_FILTERS, 'bad-prefix')).toThrow(
      /invalid TelemetryIngest props:\n {2}- ruleNamePrefix: .*\n {2}- topicFilters: the device policy would be/,
    );
  });

  it('measures the worst case when the region is only known at deploy time, the exact size when it is known', () => {
    // Given filters of 60 characters, added one by one until the policy would not fit
    const filters = (n: number) => Array.from({ length: n }, (_, i) => longestTopicFilter(i, 60));
    const fits = (n: number, env?: { account: string; region: string }) => {
      try {
        return ingest(filters(n), 'P', env);
      } catch {
        return undefined;
      }
    };
    const largestFitting = (env?: { account: string; region: string }) => {
      let n = 0;
      while (n < 20 && fits(n + 1, env)) n += 1;
      return n;
    };
    const known = { account: '123456789012', region: 'eu-west-1' };
    // When the region is known / Then the policy just fits, and one more filter is refused
    const inKnownRegion = largestFitting(known);
    const built = fits(inKnownRegion, known);
    const document = built && Stack.of(built).resolve(built.devicePolicy.policyDocument);
    const size = TemplatePolicies.compactLength(new TemplatePolicies({ Resources: {} }, 'S', known).resolve(document));
    expect(size).toBeLessThanOrEqual(IOT_POLICY_MAX_CHARACTERS);
    expect(size).toBeGreaterThan(IOT_POLICY_MAX_CHARACTERS - 2 * 150);
    // and an environment-agnostic template is held to the longest partition and region, so never allowed more
    expect(largestFitting()).toBeGreaterThanOrEqual(1);
    expect(largestFitting()).toBeLessThanOrEqual(inKnownRegion);
  });
});

describe('topic filter configuration', () => {
  const base = { stackName: 'P', kafka: { bootstrapServers: ['b:9092'], topic: 'telemetry' } };
  it('refuses filters longer than an IoT topic or with more than 7 slashes', () => {
    // "AWS IoT Core message broker and protocol limits and quotas": topic size 256 bytes, at most 7 forward slashes
    // (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits)
    const long = `a/+/${'b'.repeat(253)}`;
    expect(() => parseConfig({ ...base, iot: { topicFilters: [long] } })).toThrow(/iot\.topicFilters\[0\]: .*256/);
    expect(() => parseConfig({ ...base, iot: { topicFilters: ['a/b/c/d/e/f/g/+/h'] } })).toThrow(
      /iot\.topicFilters\[0\]: .*7 "\/"/,
    );
    expect(() =>
      parseConfig({ ...base, iot: { topicFilters: [long.slice(0, 256), 'a/b/c/d/e/f/g/+'] } }),
    ).not.toThrow();
  });
});

import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load';
import {
  IOT_POLICIES_PER_CERTIFICATE_MAX,
  IOT_POLICY_MAX_CHARACTERS,
  TelemetryIngest,
} from '../../../lib/ingest/telemetry-ingest';
import { TemplatePolicies } from '../../helpers/template-policies';
import { LONGEST_RULE_NAME_PREFIX, LONGEST_TOPIC_FILTERS, longestTopicFilter } from '../../helpers/variants';

const ingest = (topicFilters: readonly string[], ruleNamePrefix: string, env?: { account: string; region: string }) => {
  const stack = new Stack(new App(), 'S', env ? { env } : {});
  return new TelemetryIngest(stack, 'Ingest', { topicFilters, ruleNamePrefix, consumerTimeout: Duration.seconds(30) });
};

/**
 * AWS IoT Core refuses a policy document over 2,048 characters, whitespace excluded ("AWS IoT Core endpoints and
 * quotas" → "Maximum size of a policy document", https://docs.aws.amazon.com/general/latest/gr/iot-core.html).
 */
describe('TelemetryIngest device policy size', () => {
  const compactSizes = (built: TelemetryIngest, env?: { account: string; region: string }) =>
    built.devicePolicies.map((policy) =>
      TemplatePolicies.compactLength(
        new TemplatePolicies({ Resources: {} }, 'S', env).resolve(Stack.of(built).resolve(policy.policyDocument)),
      ),
    );

  it('splits the config maximum (20 topic filters with the longest names) over policies IoT accepts', () => {
    // Given the config's maximum: 20 topic filters with the longest names the schema allows, the longest prefix
    const filters = LONGEST_TOPIC_FILTERS;
    expect(
      parseConfig({
        stackName: 'P',
        iot: { topicFilters: filters, ruleNamePrefix: LONGEST_RULE_NAME_PREFIX },
        kafka: { bootstrapServers: ['b:9092'], topic: 'telemetry' },
      }).iot.topicFilters,
    ).toHaveLength(20);
    // When the ingest stage is built in an environment-agnostic stack (measured with the longest partition/region)
    const built = ingest(filters, LONGEST_RULE_NAME_PREFIX);
    // Then it needs several policies, each within 2,048 characters, and no more than IoT attaches to a certificate
    expect(built.devicePolicies.length).toBeGreaterThan(1);
    expect(built.devicePolicies.length).toBeLessThanOrEqual(IOT_POLICIES_PER_CERTIFICATE_MAX);
    for (const size of compactSizes(built)) expect(size).toBeLessThanOrEqual(IOT_POLICY_MAX_CHARACTERS);
    // And only the first allows connecting, and together they name every topic and Basic Ingest topic once
    const documents = built.devicePolicies.map((p) => Stack.of(built).resolve(p.policyDocument));
    expect(documents.map((d) => d.Statement.some((s: { Action: string }) => s.Action === 'iot:Connect'))).toEqual(
      built.devicePolicies.map((_, i) => i === 0),
    );
    const published = documents.flatMap((d) =>
      d.Statement.filter((s: { Action: string }) => s.Action === 'iot:Publish').flatMap(
        (s: { Resource: unknown[] }) => s.Resource,
      ),
    );
    expect(published).toHaveLength(2 * filters.length);
  });

  it('refuses at synth, with the count, the limit and what to change, more policies than a certificate holds', () => {
    // Given more topic filters than the config allows, each as long as IoT allows (the construct alone)
    const filters = Array.from({ length: 30 }, (_, i) => longestTopicFilter(i));
    // When the ingest stage is built / Then it names the problem instead of leaving it to AttachPolicy
    expect(() => ingest(filters, LONGEST_RULE_NAME_PREFIX)).toThrow(
      /S\/Ingest: invalid TelemetryIngest props:\n {2}- topicFilters: the device permissions need 1\d IoT policies of at most 2048 characters; AWS IoT attaches at most 10 to a certificate: use fewer or shorter topic filters, or a shorter iot\.ruleNamePrefix/,
    );
  });

  it('reports the policy count together with every other bad prop', () => {
    const filters = Array.from({ length: 30 }, (_, i) => longestTopicFilter(i));
    expect(() => ingest(filters, 'bad-prefix')).toThrow(
      /invalid TelemetryIngest props:\n {2}- ruleNamePrefix: .*\n {2}- topicFilters: the device permissions need/,
    );
  });

  it('keeps a few short filters in the one policy, and uses the exact size when the region is known', () => {
    const known = { account: '123456789012', region: 'eu-west-1' };
    const filters = Array.from({ length: 3 }, (_, i) => longestTopicFilter(i, 20));
    expect(ingest(filters, 'P', known).devicePolicies).toHaveLength(1);
    // an environment-agnostic template is held to the longest partition and region, so never needs fewer policies
    const long = Array.from({ length: 20 }, (_, i) => longestTopicFilter(i, 120));
    const inKnownRegion = ingest(long, 'P', known);
    for (const size of compactSizes(inKnownRegion, known)) expect(size).toBeLessThanOrEqual(IOT_POLICY_MAX_CHARACTERS);
    expect(ingest(long, 'P').devicePolicies.length).toBeGreaterThanOrEqual(inKnownRegion.devicePolicies.length);
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

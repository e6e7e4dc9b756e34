import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load';
import { ConstructValidationError } from '../../../lib/core/validation';
import {
  IOT_POLICIES_PER_CERTIFICATE_MAX,
  IOT_POLICY_MAX_CHARACTERS,
  TelemetryIngest,
  type TelemetryIngestProps,
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

describe('TelemetryIngest validation', () => {
  const valid: TelemetryIngestProps = {
    topicFilters: ['sensors/+/readings'],
    ruleNamePrefix: 'Telemetry',
    consumerTimeout: Duration.seconds(30),
  };
  const build = (overrides: (stack: Stack) => Partial<TelemetryIngestProps>) => {
    const stack = new Stack(new App(), 'S');
    return () => new TelemetryIngest(stack, 'Ingest', { ...valid, ...overrides(stack) });
  };

  it('names its path and each bad prop', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new TelemetryIngest(stack, 'Ingest', {
          topicFilters: ['sensors/#', 'a/+/+'],
          ruleNamePrefix: 'bad-prefix',
          consumerTimeout: Duration.hours(3),
        }),
    ).toThrow(
      /S\/Ingest: invalid TelemetryIngest props:\n {2}- topicFilters\[0\]: .*\n {2}- topicFilters\[1\]: .*\n {2}- ruleNamePrefix: .*\n {2}- consumerTimeout: 6 × 10800 s exceeds/,
    );
  });

  // IoT rule names: AWS IoT API Reference, TopicRuleListItem → ruleName, pattern ^[a-zA-Z0-9_]+$
  // (https://docs.aws.amazon.com/iot/latest/apireference/API_TopicRuleListItem.html); the visibility timeout, 6 ×
  // consumer timeout + batching window, at most 12 hours (AWS CLI Command Reference, sqs change-message-visibility,
  // https://docs.aws.amazon.com/cli/v1/reference/sqs/change-message-visibility.html)
  it.each<[string, Partial<TelemetryIngestProps>, string]>([
    ['no topic filter', { topicFilters: [] }, 'topicFilters: at least one topic filter is required'],
    [
      'a filter without a device level',
      { topicFilters: ['sensors/all'] },
      'topicFilters[0]: "sensors/all" must contain exactly one "+" (the device id) and no "#"',
    ],
    [
      'a filter with two "+" levels',
      { topicFilters: ['sensors/+/readings', 'a/+/+'] },
      'topicFilters[1]: "a/+/+" must contain exactly one "+" (the device id) and no "#"',
    ],
    [
      'a filter with "#"',
      { topicFilters: ['sensors/+/#'] },
      'topicFilters[0]: "sensors/+/#" must contain exactly one "+" (the device id) and no "#"',
    ],
    [
      'a rule name prefix with "-"',
      { ruleNamePrefix: 'Telemetry-dev' },
      'ruleNamePrefix: "Telemetry-dev" may only contain letters, digits and "_"',
    ],
    [
      'a visibility timeout over 12 hours',
      { consumerTimeout: Duration.seconds(7_200), consumerBatchingWindow: Duration.seconds(1) },
      'consumerTimeout: 6 × 7200 s exceeds the 12-hour SQS visibility limit',
    ],
    ['no delivery before the dead-letter queue', { maxReceiveCount: 0 }, 'maxReceiveCount: 0 is outside 1–1000'],
    ['more than 1,000 deliveries', { maxReceiveCount: 1_001 }, 'maxReceiveCount: 1001 is outside 1–1000'],
  ])('refuses %s, naming the prop', (_, bad, problem) => {
    // Given props that break one rule / When the ingest stage is built / Then that problem alone is reported
    expect(build(() => bad)).toThrow(new ConstructValidationError('S/Ingest', 'TelemetryIngest', [problem]));
  });

  it('builds with the limits themselves (a 12-hour visibility timeout, 1 and 1,000 deliveries)', () => {
    expect(build(() => ({ consumerTimeout: Duration.seconds(7_200), maxReceiveCount: 1 }))).not.toThrow();
    expect(build(() => ({ maxReceiveCount: 1_000 }))).not.toThrow();
  });

  it('leaves a maxReceiveCount known only at deploy time to CloudFormation', () => {
    // Given the number of deliveries as a CloudFormation parameter (a token)
    const stack = new Stack(new App(), 'S');
    const maxReceiveCount = new CfnParameter(stack, 'Deliveries', { type: 'Number' }).valueAsNumber;
    // When the ingest stage is built / Then no rule reports it, and the redrive policy refers to the parameter
    new TelemetryIngest(stack, 'Ingest', { ...valid, maxReceiveCount });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: { Ref: 'Deliveries' } },
    });
  });

  it('reports together every value it computes with that is known only at deploy time', () => {
    // Given a topic filter, the prefix and the consumer timings as CloudFormation parameters (tokens)
    const tokens = (stack: Stack): Partial<TelemetryIngestProps> => {
      const parameter = (id: string, type = 'String') => new CfnParameter(stack, id, { type });
      return {
        topicFilters: ['sensors/+/readings', parameter('Filter').valueAsString],
        ruleNamePrefix: parameter('Prefix').valueAsString,
        consumerTimeout: Duration.seconds(parameter('Timeout', 'Number').valueAsNumber),
        consumerBatchingWindow: Duration.seconds(parameter('Window', 'Number').valueAsNumber),
      };
    };
    // When the ingest stage is built / Then each is named once, instead of a rule misreading the token's text
    expect(build(tokens)).toThrow(
      new ConstructValidationError('S/Ingest', 'TelemetryIngest', [
        'topicFilters[1]: must be known at synth time (the rule SQL and the device policy are built from it)',
        'ruleNamePrefix: must be known at synth time (the device policies are sized with the rule names)',
        'consumerTimeout: must be known at synth time (the visibility timeout is computed from it)',
        'consumerBatchingWindow: must be known at synth time (the visibility timeout is computed from it)',
      ]),
    );
  });
});

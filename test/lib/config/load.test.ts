import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../lib/config/load';
import type { PipelineConfig } from '../../../lib/config/schema';

const minimal = {
  stackName: 'Pipeline-test',
  kafka: { bootstrapServers: ['b1.example.com:9092'], topic: 'telemetry' },
};

describe('pipeline configuration', () => {
  it('loads config/dev.json and fills every default', () => {
    const config = loadConfig('dev');
    expect(config.iot.topicFilters).toEqual(['sensors/+/telemetry']);
    expect(config.forwarder).toEqual({
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      memorySize: 512,
      timeoutSeconds: 30,
      maxConcurrency: 10,
      kafkaClientId: 'TelemetryPipeline-dev-forwarder',
    });
    expect(config.ingest).toEqual({ maxReceiveCount: 5, retentionPeriodDays: 4, visibilityTimeoutSeconds: 181 });
    expect(config.limits.maxMessageBytes).toBe(16_384);
    expect(config.logRetentionDays).toBe(30);
  });

  it('resolves the sink consumer group and dead-letter topic once, for the stack, the CLI and local runs alike', () => {
    // Given no explicit names / Then the schema fills them from the stack name and the topic
    expect(parseConfig(minimal).sink).toMatchObject({
      consumerGroupId: 'Pipeline-test-sink',
      deadLetterTopic: 'telemetry.sink-dlt',
    });
    // and explicit names are kept
    const named = parseConfig({ ...minimal, sink: { consumerGroupId: 'g', deadLetterTopic: 'dead-letters' } });
    expect(named.sink).toMatchObject({ consumerGroupId: 'g', deadLetterTopic: 'dead-letters' });
  });

  it('resolves the rule name prefix, the visibility timeout and the Kafka client id once, with no optional result', () => {
    // Given a minimal configuration (a "-" in the stack name, default forwarder timeout and batching window)
    // When it is parsed
    const config = parseConfig(minimal);
    // Then every derived value is filled, from the fields it derives from
    expect(config.iot.ruleNamePrefix).toBe('Pipeline_test');
    expect(config.ingest.visibilityTimeoutSeconds).toBe(6 * 30 + 1);
    expect(config.forwarder.kafkaClientId).toBe('Pipeline-test-forwarder');
    // and follows them when they change
    const slow = parseConfig({ ...minimal, forwarder: { timeoutSeconds: 120, maxBatchingWindowSeconds: 5 } });
    expect(slow.ingest.visibilityTimeoutSeconds).toBe(6 * 120 + 5);
    expect(parseConfig({ ...minimal, iot: { ruleNamePrefix: 'mine' } }).iot.ruleNamePrefix).toBe('mine');
    // and the parsed type has none of them optional: a reader never derives one again
    expectTypeOf<PipelineConfig['iot']['ruleNamePrefix']>().toEqualTypeOf<string>();
    expectTypeOf<PipelineConfig['ingest']['visibilityTimeoutSeconds']>().toEqualTypeOf<number>();
    expectTypeOf<PipelineConfig['forwarder']['kafkaClientId']>().toEqualTypeOf<string>();
    expectTypeOf<PipelineConfig['sink']['consumerGroupId']>().toEqualTypeOf<string>();
    expectTypeOf<PipelineConfig['sink']['deadLetterTopic']>().toEqualTypeOf<string>();
  });

  it('accepts a minimal configuration', () => {
    expect(parseConfig(minimal).kafka.compression).toBe('none');
  });

  it('measures a topic filter in UTF-8 bytes, as IoT does, not in characters', () => {
    // "AWS IoT Core message broker and protocol limits and quotas"
    // (https://docs.aws.amazon.com/general/latest/gr/iot-core.html): a topic is at most 256 bytes (UTF-8)
    const filter = `${'é'.repeat(126)}/+/t`; // 130 characters, 256 bytes
    const tooLong = `${'é'.repeat(127)}/+/t`; // 131 characters, 258 bytes
    const problems = (topicFilter: string) => {
      try {
        parseConfig({ ...minimal, iot: { topicFilters: [topicFilter] } });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems(filter)).not.toContain('256 bytes');
    expect(problems(tooLong)).toContain(
      'iot.topicFilters[0]: must be at most 256 bytes in UTF-8 (IoT topic size limit)',
    );
  });

  it('lists every problem at once, each with its path, what is wrong and a good example', () => {
    const bad = {
      stackName: '1-bad name',
      iot: { topicFilters: ['sensors/#'] },
      kafka: { bootstrapServers: ['no-port'], topic: 'bad topic!', compression: 'zstd' },
      forwarder: { batchSize: 20_000, timeoutSeconds: 1 },
      unexpected: true,
    };
    let message = '';
    try {
      parseConfig(bad, 'configuration config/bad.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration config\/bad\.json:/);
    expect(message).toContain(
      'stackName: letters, digits and "-", starting with a letter (e.g. "TelemetryPipeline-dev")',
    );
    expect(message).toContain(
      'iot.topicFilters[0]: must contain exactly one "+" level (the device id) and no "#" (e.g. "sensors/+/telemetry")',
    );
    expect(message).toContain(
      'kafka.bootstrapServers[0]: expected host:port (e.g. "pkc-12abc.eu-west-1.aws.confluent.cloud:9092")',
    );
    expect(message).toMatch(/kafka\.topic: expected a Kafka topic name .* \(e\.g\. "telemetry\.readings\.v1"\)/);
    expect(message).toMatch(/kafka\.compression: .*\(e\.g\. "none" or "gzip"\)/);
    expect(message).toMatch(/forwarder\.batchSize: .*10000.* \(e\.g\. 100\)/);
    expect(message).toMatch(/forwarder\.timeoutSeconds: .*3.* \(e\.g\. 30\)/);
    expect(message).toContain('(root): unknown field(s) unexpected');
  });

  it('rejects two credential sources at once', () => {
    const config = {
      ...minimal,
      kafka: {
        ...minimal.kafka,
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent-AbCdEf',
        credentialsSecretName: 'confluent',
      },
    };
    expect(() => parseConfig(config)).toThrow(
      /kafka\.credentialsSecretName: set credentialsSecretArn or credentialsSecretName, not both/,
    );
  });

  it('rejects a partial secret ARN (IAM grants need the complete one)', () => {
    const config = {
      ...minimal,
      kafka: {
        ...minimal.kafka,
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent',
      },
    };
    expect(() => parseConfig(config)).toThrow(/credentialsSecretArn: expected a complete secret ARN/);
  });

  it('requires a batching window for batches above 10', () => {
    expect(() => parseConfig({ ...minimal, forwarder: { batchSize: 50, maxBatchingWindowSeconds: 0 } })).toThrow(
      /forwarder\.maxBatchingWindowSeconds: a batchSize above 10 needs maxBatchingWindowSeconds of at least 1/,
    );
  });

  it('requires account and region together', () => {
    expect(() => parseConfig({ ...minimal, account: '123456789012' })).toThrow(/region: set both account and region/);
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    expect(() => parseConfig({ ...minimal, logRetentionDays: 42 })).toThrow(/logRetentionDays: must be one of 1, 3, 5/);
  });

  it('names the missing file, and the bad JSON', () => {
    const directory = mkdtempSync(join(tmpdir(), 'config-'));
    writeFileSync(join(directory, 'broken.json'), '{ "stackName": ');
    expect(() => loadConfig('absent', directory)).toThrow(
      /No configuration for environment "absent": .*absent\.json does not exist/,
    );
    expect(() => loadConfig('broken', directory)).toThrow(/broken\.json is not valid JSON/);
    expect(() => loadConfig('../etc/passwd', directory)).toThrow(/Invalid environment name/);
  });
});

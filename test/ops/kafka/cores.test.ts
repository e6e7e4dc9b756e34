/**
 * The pure parts of the Kafka commands: read plans, create/delete checks, the CreateTopics request built, how
 * records are shown, and which kafkajs errors become one-line user errors. The mock cluster cannot take
 * CreateTopics or DeleteTopics, so the request those commands send is checked here against a recording admin.
 */
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isConfluentCloud, type KafkaTarget, kafkaUserError } from '../../../ops/kafka/connection';
import { showBytes, showHeaders } from '../../../ops/kafka/records';
import { planTail } from '../../../ops/kafka/tail';
import {
  createTopic,
  createTopicProblems,
  deleteRefusal,
  parseConfigPairs,
  topicNameProblem,
} from '../../../ops/kafka/topics';

const OFFSETS = [
  { partition: 0, low: 10, high: 50 },
  { partition: 1, low: 0, high: 3 },
];

describe('planTail', () => {
  it('reads the newest n of every partition by default and keeps the newest n overall', () => {
    const plan = planTail('t', OFFSETS, { fromBeginning: false, follow: false, maxMessages: 5 });

    expect(plan.ranges).toEqual([
      { partition: 0, start: 45, end: 50 },
      { partition: 1, start: 0, end: 3 },
    ]);
    expect(plan).toMatchObject({ limit: 5, keep: 'last', follow: false });
  });

  it('reads the oldest n from the beginning or from an offset', () => {
    const beginning = planTail('t', OFFSETS, { fromBeginning: true, follow: false });
    const offset = planTail('t', OFFSETS, { fromBeginning: false, follow: false, partition: 0, offset: 48 });

    expect(beginning.ranges).toEqual([
      { partition: 0, start: 10, end: 20 },
      { partition: 1, start: 0, end: 3 },
    ]);
    expect(beginning).toMatchObject({ limit: 10, keep: 'first' });
    expect(offset.ranges).toEqual([{ partition: 0, start: 48, end: 50 }]);
  });

  it('follows from the end, or the given start, with no limit unless one is given', () => {
    const latest = planTail('t', OFFSETS, { fromBeginning: false, follow: true });
    const beginning = planTail('t', OFFSETS, { fromBeginning: true, follow: true, maxMessages: 3 });

    expect(latest.ranges).toEqual([
      { partition: 0, start: 50 },
      { partition: 1, start: 3 },
    ]);
    expect(latest.limit).toBeNull();
    expect(beginning.ranges).toEqual([
      { partition: 0, start: 10 },
      { partition: 1, start: 0 },
    ]);
    expect(beginning.limit).toBe(3);
  });

  it('refuses an offset before what retention kept', () => {
    expect(() => planTail('t', OFFSETS, { fromBeginning: false, follow: false, partition: 0, offset: 9 })).toThrow(
      /--offset 9 is before the earliest offset partition 0 still keeps \(10\)/,
    );
  });
});

describe('topic creation checks', () => {
  const facts = { brokers: 3, confluentCloud: false, existingTopics: ['taken'] };
  const request = { topic: 'fresh', partitions: 6, replicationFactor: 3, configs: {} };

  it('accepts a good request', () => {
    expect(createTopicProblems(request, facts)).toEqual([]);
  });

  it('requires replication factor 3 on Confluent Cloud', () => {
    const problems = createTopicProblems(
      { ...request, replicationFactor: 2 },
      { ...facts, brokers: 18, confluentCloud: true },
    );

    expect(problems).toEqual(['Confluent Cloud requires --replication-factor 3, not 2']);
  });

  it('applies Kafka topic name rules', () => {
    expect(topicNameProblem('..')).toBe('".." is not a valid topic name');
    expect(topicNameProblem('x'.repeat(250))).toMatch(/250 characters long; at most 249/);
    expect(topicNameProblem('a b')).toMatch(/may only contain/);
    expect(topicNameProblem('telemetry.readings_v1-dlt')).toBeUndefined();
  });

  it('parses --config pairs and refuses one given twice', () => {
    expect(parseConfigPairs(['retention.ms=1000', 'cleanup.policy=compact,delete'])).toEqual({
      'retention.ms': '1000',
      'cleanup.policy': 'compact,delete',
    });
    expect(() => parseConfigPairs(['retention.ms=1', 'retention.ms=2'])).toThrow(
      '--config retention.ms is given twice',
    );
  });

  it('sends one CreateTopics request with the configs as entries, waiting for leaders unless validating', async () => {
    const calls: unknown[] = [];
    const admin = {
      createTopics: async (options: unknown) => {
        calls.push(options);
        return true;
      },
    } as unknown as Admin;
    const configs = { 'retention.ms': '604800000', 'min.insync.replicas': '2' };

    await createTopic(admin, { topic: 'fresh', partitions: 6, replicationFactor: 3, configs }, { validateOnly: false });
    await createTopic(admin, { topic: 'fresh', partitions: 6, replicationFactor: 3, configs }, { validateOnly: true });

    const topic = {
      topic: 'fresh',
      numPartitions: 6,
      replicationFactor: 3,
      configEntries: [
        { name: 'retention.ms', value: '604800000' },
        { name: 'min.insync.replicas', value: '2' },
      ],
    };
    expect(calls).toEqual([
      { topics: [topic], validateOnly: false, waitForLeaders: true, timeout: 30_000 },
      { topics: [topic], validateOnly: true, waitForLeaders: false, timeout: 30_000 },
    ]);
  });

  it('reports a topic that appeared meanwhile (kafkajs answers false instead of throwing)', async () => {
    const admin = { createTopics: async () => false } as unknown as Admin;

    await expect(
      createTopic(admin, { topic: 'raced', partitions: 1, replicationFactor: 3, configs: {} }, { validateOnly: false }),
    ).rejects.toThrow('Kafka topic raced already exists');
  });
});

describe('deleteRefusal', () => {
  const pipeline = { 'telemetry topic': 'telemetry.readings.v1' };

  it('needs --yes, and --force as well for a pipeline topic', () => {
    expect(deleteRefusal('scratch', { yes: false, force: false }, pipeline)).toMatch(/pass --yes/);
    expect(deleteRefusal('scratch', { yes: true, force: false }, pipeline)).toBeUndefined();
    expect(deleteRefusal('telemetry.readings.v1', { yes: true, force: false }, pipeline)).toMatch(/--force/);
    expect(deleteRefusal('telemetry.readings.v1', { yes: false, force: true }, pipeline)).toMatch(/pass --yes/);
    expect(deleteRefusal('telemetry.readings.v1', { yes: true, force: true }, pipeline)).toBeUndefined();
  });
});

describe('showing bytes', () => {
  it('keeps printable UTF-8 as text and turns anything else into base64', () => {
    expect(showBytes(Buffer.from('température 21.4\tok\n'))).toBe('température 21.4\tok\n');
    expect(showBytes(Buffer.from([0xc3, 0x28]))).toEqual({ base64: 'wyg=' }); // invalid UTF-8
    expect(showBytes(Buffer.from('bell\u0007'))).toEqual({ base64: Buffer.from('bell\u0007').toString('base64') });
    expect(showBytes(null)).toBeNull();
  });

  it('keeps repeated headers in order', () => {
    expect(showHeaders({ a: [Buffer.from('1'), Buffer.from('2')], b: 'x' })).toEqual([
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
      { key: 'b', value: 'x' },
    ]);
  });
});

describe('kafkaUserError', () => {
  const local: KafkaTarget = { brokers: ['localhost:9092'], source: 'KAFKA_BROKERS', env: 'dev' };
  const cloud: KafkaTarget = { brokers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'], source: 'config', env: 'prod' };
  const named = (name: string, message: string, extra: object = {}) =>
    Object.assign(new Error(message), { name, ...extra });

  it('points rejected credentials at the credentials secret or the environment', () => {
    const error = named('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed');

    expect(kafkaUserError(error, 'list Kafka topics', cloud)?.message).toMatch(
      /^Cannot list Kafka topics: Kafka at pkc-1\.eu-west-1\.aws\.confluent\.cloud:9092 rejected the credentials \(SASL PLAIN authentication failed\); check the API key and secret in the Kafka credentials secret/,
    );
    expect(kafkaUserError(error, 'x', local)?.message).toMatch(/check KAFKA_USERNAME and KAFKA_PASSWORD$/);
  });

  it('points unreachable configured brokers at the configuration file', () => {
    const error = named('KafkaJSNumberOfRetriesExceeded', 'retries exceeded', {
      cause: named('KafkaJSConnectionError', 'Connection timeout'),
    });

    expect(kafkaUserError(error, 'x', cloud)?.message).toMatch(
      /is unreachable \(Connection timeout\); check kafka\.bootstrapServers in config\/prod\.json/,
    );
  });

  it('explains ACL and broker-side validation errors, also inside kafkajs aggregates', () => {
    const acl = named('KafkaJSProtocolError', 'Not authorized to access group', { type: 'GROUP_AUTHORIZATION_FAILED' });
    const aggregate = Object.assign(new Error('aggregate'), {
      name: 'KafkaJSAggregateError',
      errors: [
        named('KafkaJSCreateTopicError', 'Replication factor: 2 larger than available brokers', {
          type: 'INVALID_REPLICATION_FACTOR',
        }),
      ],
    });

    expect(isConfluentCloud(cloud)).toBe(true);
    expect(kafkaUserError(acl, 'describe consumer group g', cloud)?.message).toMatch(
      /^Cannot describe consumer group g: the credentials may not access this consumer group/,
    );
    expect(kafkaUserError(aggregate, 'create Kafka topic t', cloud)?.message).toMatch(
      /the replication factor is not valid .*INVALID_REPLICATION_FACTOR: Replication factor: 2 larger/,
    );
  });

  it('leaves other errors alone: they are bugs and keep their stack', () => {
    expect(kafkaUserError(new TypeError('x is undefined'), 'x', local)).toBeUndefined();
  });
});

/**
 * `topics list|describe` against librdkafka's mock cluster, and the topic configs against a recording admin: the
 * mock answers Metadata and ListOffsets but not DescribeConfigs (it names controller 0, none of its brokers, as the
 * controller to send it to), so there the partitions are shown with a note instead of the configs.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configProblems, describeTopics, PIPELINE_TOPIC_CONFIGS } from '../../../ops/kafka/topics';
import { KafkaFixture, oneLineError } from './fixture';

const TOPIC = 'telemetry.readings.v1';
let kafka: KafkaFixture;
const cli = (...argv: string[]) => kafka.cli(...argv);
const topicNames = () => kafka.topicNames();

beforeAll(async () => {
  // The mock places every partition on all its brokers, whatever replication factor it is given.
  kafka = new KafkaFixture({ [TOPIC]: 3, scratch: 2, '_confluent-metrics': 1 });
  // 5 records in partition 0, 2 in partition 2, none in partition 1
  await kafka.produce(
    TOPIC,
    [0, 0, 0, 0, 0, 2, 2].map((partition, i) => ({ partition, value: `r${i}` })),
  );
});
afterAll(() => kafka.stop());

describe('topics list', () => {
  it('lists topics with partitions and replication factor, internal ones only with --all', async () => {
    // Given two topics and an internal one (beforeAll)

    // When they are listed, with and without --all
    const plain = await cli('--json', 'topics', 'list');
    const all = await cli('--json', 'topics', 'list', '--all');

    // Then the internal one is listed only with --all, each with its partitions and replication factor
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).topics).toEqual([
      { name: 'scratch', partitions: 2, replicationFactor: 3, internal: false },
      { name: TOPIC, partitions: 3, replicationFactor: 3, internal: false },
    ]);
    expect(JSON.parse(all.stdout).topics.map((t: { name: string }) => t.name)).toEqual([
      '_confluent-metrics',
      'scratch',
      TOPIC,
    ]);
  });

  it('prints a table for people', async () => {
    // When the topics are listed without --json
    const result = await cli('topics', 'list');

    // Then a table with a header line shows them
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+REPLICATION$/);
    expect(result.stdout).toMatch(new RegExp(`^${TOPIC.replaceAll('.', '.')}\\s+3\\s+3$`, 'm'));
  });
});

describe('topics describe', () => {
  it('shows leader, replicas, ISR, offsets and counts per partition of the pipeline topic by default', async () => {
    // Given partition 1 of the pipeline topic led by broker 3, and 7 records (beforeAll)
    kafka.cluster.setPartitionLeader(TOPIC, 1, 3);

    // When topics describe runs without a topic
    const result = await cli('--json', 'topics', 'describe');

    // Then the pipeline topic is described partition by partition
    expect(result.code).toBe(0);
    const [topic] = JSON.parse(result.stdout).topics;
    expect(topic).toMatchObject({ name: TOPIC, partitionCount: 3, replicationFactor: 3, messages: 7 });
    expect(topic.partitions).toEqual([
      expect.objectContaining({ partition: 0, earliestOffset: 0, latestOffset: 5, messages: 5 }),
      expect.objectContaining({ partition: 1, leader: 3, earliestOffset: 0, latestOffset: 0, messages: 0 }),
      expect.objectContaining({ partition: 2, earliestOffset: 0, latestOffset: 2, messages: 2 }),
    ]);
    for (const partition of topic.partitions) {
      expect([...partition.replicas].sort()).toEqual([1, 2, 3]);
      expect(partition.underReplicated).toBe(false);
    }
  });

  it('describes several topics, or all non-internal ones', async () => {
    // When topics are named, or --all is given
    const named = await cli('--json', 'topics', 'describe', 'scratch', TOPIC);
    const all = await cli('--json', 'topics', 'describe', '--all');

    // Then those are described, in that order; --all leaves the internal topic out
    expect(JSON.parse(named.stdout).topics.map((t: { name: string }) => t.name)).toEqual(['scratch', TOPIC]);
    expect(JSON.parse(all.stdout).topics.map((t: { name: string }) => t.name)).toEqual(['scratch', TOPIC]);
  });

  it('prints topic fields and a partition table for people', async () => {
    // When the pipeline topic is described without --json
    const result = await cli('topics', 'describe', TOPIC);

    // Then its fields and a partition table are printed
    expect(result.stdout).toMatch(/^Topic:\s+telemetry\.readings\.v1$/m);
    expect(result.stdout).toMatch(/^Messages:\s+7$/m);
    expect(result.stdout).toMatch(/^PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+EARLIEST\s+LATEST\s+MESSAGES$/m);
    expect(result.stdout).toMatch(/^0\s+\d\s+[\d,]+\s+[\d,]+\s+0\s+5\s+5$/m);
  });

  it('says in a note, not an error, that the mock cluster gives no configs', async () => {
    // Given the mock cluster, which has no controller to answer DescribeConfigs

    // When the pipeline topic is described
    const json = await cli('--json', 'topics', 'describe');
    const human = await cli('topics', 'describe');

    // Then the partitions are there, the configs are null, and the note says why
    expect(json.code).toBe(0);
    const [topic] = JSON.parse(json.stdout).topics;
    expect(topic.configs).toBeNull();
    const note = `configs of ${TOPIC} not shown: the cluster names no controller among its brokers to send DescribeConfigs to`;
    expect(topic.notes).toEqual([note]);
    expect(json.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(`note: ${note}\n`);
  });

  it('refuses topic names together with --all, before connecting', async () => {
    // When both are given
    const result = await cli('topics', 'describe', 'scratch', '--all');

    // Then one line says to choose
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe('error: Name topics or pass --all, not both');
  });

  it('reports an unknown topic in one line, and does not create it by asking', async () => {
    // When a topic that does not exist is described (the mock would create a topic a Metadata request names)
    const result = await cli('topics', 'describe', 'no.such.topic');

    // Then one line says so, and the topic still does not exist
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
    expect(await topicNames()).not.toContain('no.such.topic');
  });
});

/** An admin that knows one topic with 3 replicas per partition and answers DescribeConfigs with `configs`. */
function recordingAdmin(describeConfigs: Admin['describeConfigs']): { admin: Admin; requests: unknown[] } {
  const requests: unknown[] = [];
  const partitions = [0, 1].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    partitionErrorCode: 0,
  }));
  const admin = {
    listTopics: async () => ['t'],
    fetchTopicMetadata: async () => ({ topics: [{ name: 't', partitions }] }),
    fetchTopicOffsets: async () => [
      { partition: 0, low: '0', high: '4', offset: '4' },
      { partition: 1, low: '2', high: '3', offset: '3' },
    ],
    describeConfigs: async (request: Parameters<Admin['describeConfigs']>[0]) => {
      requests.push(request);
      return describeConfigs(request);
    },
  } as unknown as Admin;
  return { admin, requests };
}

const configEntries = (configs: Record<string, string>) =>
  Object.entries(configs).map(([configName, configValue]) => ({
    configName,
    configValue,
    isDefault: false,
    configSource: 1,
    isSensitive: false,
    readOnly: false,
    configSynonyms: [],
  }));

describe('topic configs', () => {
  it('asks DescribeConfigs for the pipeline configs of the topic and shows them', async () => {
    // Given a cluster that answers DescribeConfigs
    const configs = {
      'cleanup.policy': 'delete',
      'retention.ms': '604800000',
      'retention.bytes': '-1',
      'min.insync.replicas': '2',
      'max.message.bytes': '2097164',
      'message.timestamp.type': 'CreateTime',
    };
    const { admin, requests } = recordingAdmin(async () => ({
      resources: [
        { resourceName: 't', resourceType: 2, errorCode: 0, errorMessage: '', configEntries: configEntries(configs) },
      ],
      throttleTime: 0,
    }));

    // When the topic is described as the pipeline topic
    const [topic] = await describeTopics(admin, ['t'], {
      pipelineTopics: { t: { role: 'telemetry topic', maxRequestBytes: 1_000_000 } },
    });

    // Then one request names the topic (resource type 2) and the configs, which are shown with no note
    expect(requests).toEqual([
      { resources: [{ type: 2, name: 't', configNames: [...PIPELINE_TOPIC_CONFIGS] }], includeSynonyms: false },
    ]);
    expect(topic).toMatchObject({ name: 't', replicationFactor: 3, messages: 5, configs, notes: [] });
  });

  it.each([
    [
      'a cluster without DescribeConfigs',
      Object.assign(new Error('unsupported'), { name: 'KafkaJSServerDoesNotSupportApiKey' }),
      'the cluster does not answer DescribeConfigs',
    ],
    [
      'credentials without the DESCRIBE_CONFIGS ACL',
      Object.assign(new Error('Topic authorization failed'), {
        name: 'KafkaJSProtocolError',
        type: 'TOPIC_AUTHORIZATION_FAILED',
      }),
      'the credentials may not read its configuration (grant the API key the DESCRIBE_CONFIGS ACL on the topic)',
    ],
  ])('still shows the partitions with %s, and says why the configs are missing', async (_, error, reason) => {
    // Given a cluster that refuses DescribeConfigs
    const { admin } = recordingAdmin(async () => {
      throw error;
    });

    // When the topic is described
    const [topic] = await describeTopics(admin, ['t']);

    // Then the partitions are there, and a note says why the configs are not
    expect(topic?.partitions).toHaveLength(2);
    expect(topic?.configs).toBeNull();
    expect(topic?.notes).toEqual([`configs of t not shown: ${reason}`]);
  });

  it('throws any other DescribeConfigs failure: it is not a missing feature', async () => {
    // Given DescribeConfigs failing for another reason
    const { admin } = recordingAdmin(async () => {
      throw new TypeError('bug');
    });

    // When the topic is described, Then the error goes up as it is
    await expect(describeTopics(admin, ['t'])).rejects.toThrow(TypeError);
  });
});

describe('configProblems', () => {
  const telemetry = { role: 'telemetry topic', maxRequestBytes: 1_000_000 };
  const fine = { 'cleanup.policy': 'delete', 'min.insync.replicas': '2', 'max.message.bytes': '2097164' };

  it.each([
    [
      'compaction',
      { 'cleanup.policy': 'compact' },
      3,
      /has cleanup\.policy=compact: compaction keeps only the newest record of each key/,
    ],
    ['compaction with deletion', { 'cleanup.policy': 'compact,delete' }, 3, /has cleanup\.policy=compact,delete:/],
    [
      'one in-sync replica of 3',
      { 'min.insync.replicas': '1' },
      3,
      /has min\.insync\.replicas=1: an acks=all write is then acknowledged by the leader alone/,
    ],
    [
      'more in-sync replicas than replicas',
      { 'min.insync.replicas': '4' },
      3,
      /min\.insync\.replicas=4, more than its replication factor 3: every acks=all write is refused/,
    ],
    [
      'batches larger than the topic takes',
      { 'max.message.bytes': '999999' },
      3,
      /max\.message\.bytes=999999, below kafka\.maxRequestBytes \(1000000\)/,
    ],
  ])('names %s as a risk to the pipeline', (_, override, replicationFactor, expected) => {
    // Given a pipeline topic whose configs are fine but for one, When they are checked
    const problems = configProblems({ ...fine, ...override }, replicationFactor, telemetry);

    // Then exactly that one is named, with the topic's role
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^the telemetry topic has /);
    expect(problems[0]).toMatch(expected);
  });

  it.each([
    ['the configs the pipeline needs', fine, 3, telemetry],
    [
      'one in-sync replica where there is one replica (a one-broker cluster)',
      { 'min.insync.replicas': '1' },
      1,
      telemetry,
    ],
    [
      'a small max.message.bytes on a topic the forwarder does not write',
      { 'max.message.bytes': '1000' },
      3,
      { role: 'sink dead-letter topic' },
    ],
    ['configs the cluster did not report', {}, 3, telemetry],
  ])('finds nothing wrong with %s', (_, configs, replicationFactor, expectations) => {
    // When they are checked, Then there is nothing to say
    expect(configProblems(configs, replicationFactor, expectations)).toEqual([]);
  });
});

/**
 * `topics list|describe|create|delete` against librdkafka's mock cluster. The mock answers Metadata and ListOffsets
 * but not CreateTopics or DeleteTopics (it names controller 0, which is none of its brokers, and implements neither
 * request): create and delete are tested up to the request, and for the one-line error the mock's refusal produces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaFixture, oneLineError, run } from './fixture';

const TOPIC = 'telemetry.readings.v1';
let kafka: KafkaFixture;
let config: KafkaFixture['config'];
const cli = (...argv: string[]) => kafka.cli(...argv);
const topicNames = () => kafka.topicNames();

beforeAll(async () => {
  // The mock places every partition on all its brokers, whatever replication factor it is given.
  kafka = new KafkaFixture({ [TOPIC]: 3, scratch: 2, '_confluent-metrics': 1 });
  config = kafka.config;
  // 5 records in partition 0, 2 in partition 2, none in partition 1
  await kafka.produce(
    TOPIC,
    [0, 0, 0, 0, 0, 2, 2].map((partition, i) => ({ partition, value: `r${i}` })),
  );
});
afterAll(() => kafka.stop());

describe('topics list', () => {
  it('lists topics with partitions and replication factor, internal ones only with --all', async () => {
    const plain = await cli('--json', 'topics', 'list');
    const all = await cli('--json', 'topics', 'list', '--all');

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
    const result = await cli('topics', 'list');

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+REPLICATION$/);
    expect(result.stdout).toMatch(new RegExp(`^${TOPIC.replaceAll('.', '.')}\\s+3\\s+3$`, 'm'));
  });
});

describe('topics describe', () => {
  it('shows leader, replicas, ISR, offsets and counts per partition of the pipeline topic by default', async () => {
    kafka.cluster.setPartitionLeader(TOPIC, 1, 3);

    const result = await cli('--json', 'topics', 'describe');

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
    const named = await cli('--json', 'topics', 'describe', 'scratch', TOPIC);
    const all = await cli('--json', 'topics', 'describe', '--all');

    expect(JSON.parse(named.stdout).topics.map((t: { name: string }) => t.name)).toEqual(['scratch', TOPIC]);
    expect(JSON.parse(all.stdout).topics.map((t: { name: string }) => t.name)).toEqual(['scratch', TOPIC]);
  });

  it('prints topic fields and a partition table for people', async () => {
    const result = await cli('topics', 'describe', TOPIC);

    expect(result.stdout).toMatch(/^Topic:\s+telemetry\.readings\.v1$/m);
    expect(result.stdout).toMatch(/^Messages:\s+7$/m);
    expect(result.stdout).toMatch(/^PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+EARLIEST\s+LATEST\s+MESSAGES$/m);
    expect(result.stdout).toMatch(/^0\s+\d\s+[\d,]+\s+[\d,]+\s+0\s+5\s+5$/m);
  });

  it('reports an unknown topic in one line, and does not create it by asking', async () => {
    const result = await cli('topics', 'describe', 'no.such.topic');

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
    expect(await topicNames()).not.toContain('no.such.topic');
  });
});

describe('topics create', () => {
  it('rejects a bad name and bad --config pairs before connecting', async () => {
    const badName = await run(['topics', 'create', 'bad/name'], { brokers: '127.0.0.1:1', config });
    const badConfig = await run(['topics', 'create', 'ok', '--config', 'retention.ms', '--config', '=1'], {
      brokers: '127.0.0.1:1',
      config,
    });

    expect(badName.code).toBe(1);
    expect(oneLineError(badName)).toMatch(/may only contain letters, digits, "\.", "_" and "-"/);
    expect(oneLineError(badConfig)).toBe(
      'error: --config "retention.ms": expected key=value, e.g. retention.ms=604800000; --config "=1": expected key=value, e.g. retention.ms=604800000',
    );
  });

  it('rejects a partition count that is not a whole number, as a usage error', async () => {
    const result = await cli('topics', 'create', 'new.topic', '--partitions', 'zero');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/option '--partitions <n>' argument 'zero' is invalid/);
  });

  it('names every problem the cluster facts reveal: existing topic, replication beyond the brokers', async () => {
    const result = await cli('topics', 'create', 'scratch', '--partitions', '2', '--replication-factor', '4');

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      "error: Cannot create topic scratch: topic scratch already exists; --replication-factor 4 exceeds the cluster's 3 brokers",
    );
  });

  it('sends a valid request, and says in one line that the local mock cluster does not support it (no controller)', async () => {
    const result = await cli('topics', 'create', 'new.topic', '--partitions', '2', '--replication-factor', '3');

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /^error: Cannot create Kafka topic new\.topic: the local Kafka mock cluster at 127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)* does not support this \((?:it has no controller)\); for it, run Kafka from compose\.yaml \(`docker compose up -d --wait kafka`\) and set KAFKA_BROKERS=localhost:9092$/,
    );
    expect(await topicNames()).not.toContain('new.topic');
  });

  it('reports the same refusal for a --dry-run (validate_only also goes to the controller)', async () => {
    const result = await cli('topics', 'create', 'new.topic', '--dry-run');

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^error: Cannot create Kafka topic new\.topic: /);
  });
});

describe('topics delete', () => {
  it('refuses without --yes, before connecting', async () => {
    const result = await run(['topics', 'delete', 'scratch'], { brokers: '127.0.0.1:1', config });

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Deleting Kafka topic scratch destroys all its records: pass --yes to confirm',
    );
  });

  it("refuses the pipeline's topic and its dead-letter topic without --force, even with --yes", async () => {
    const topic = await cli('topics', 'delete', TOPIC, '--yes');
    const deadLetters = await cli('topics', 'delete', `${TOPIC}.sink-dlt`, '--yes');

    expect(oneLineError(topic)).toMatch(/is the pipeline's telemetry topic: .*pass --force as well as --yes/);
    expect(oneLineError(deadLetters)).toMatch(/is the pipeline's sink dead-letter topic/);
    expect(await topicNames()).toContain(TOPIC);
  });

  it('reports an unknown topic', async () => {
    const result = await cli('topics', 'delete', 'no.such.topic', '--yes');

    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
  });

  it('sends the delete, and reports the mock refusing it in one line; the topic stays', async () => {
    const result = await cli('topics', 'delete', 'scratch', '--yes');

    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /^error: Cannot delete Kafka topic scratch: the local Kafka mock cluster at 127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)* does not support this \((?:it has no controller)\); for it, run Kafka from compose\.yaml \(`docker compose up -d --wait kafka`\) and set KAFKA_BROKERS=localhost:9092$/,
    );
    expect(await topicNames()).toContain('scratch');
  });
});

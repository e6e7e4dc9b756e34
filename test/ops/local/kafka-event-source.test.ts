/**
 * Lambda's Kafka event source on one machine, against the librdkafka mock cluster: partial batch responses, failed
 * invocations, bounded retries, the dead-letter topic in Lambda's on-failure document (read back the way `failures`
 * reads it), the maximum record age, and on-demand mode.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { KafkaBatchResponse, KafkaEvent } from '../../../lambdas/sink/kafka-event';
import { flattenRecords } from '../../../lambdas/sink/kafka-event';
import { DeadLetterTopic } from '../../../ops/failures/dead-letter-topic';
import { fromSinkDeadLetter } from '../../../ops/failures/envelopes';
import { DeadLetterTopicWriter } from '../../../ops/local/dead-letter-topic-writer';
import { KafkaEventSource, type SinkBatchOutcome } from '../../../ops/local/kafka-event-source';
import { KafkaMockCluster } from '../../helpers/kafka-mock';

let cluster: KafkaMockCluster;
let kafka: Kafka;
let topics = 0;

beforeAll(() => {
  cluster = KafkaMockCluster.start({ brokers: 1 });
  kafka = new Kafka({ clientId: 'test', brokers: [...cluster.bootstrapServers], logLevel: logLevel.NOTHING });
});
afterAll(() => cluster.stop());

type Invoke = (event: KafkaEvent, call: number) => Promise<KafkaBatchResponse>;

interface Run {
  readonly events: KafkaEvent[];
  readonly outcomes: SinkBatchOutcome[];
  readonly topic: string;
  readonly dlt: string;
  readonly group: string;
}

/** Produces `values` to partition 0 of a fresh topic in one request, then runs an event source over it until `done`. */
async function run(
  values: readonly string[],
  invoke: Invoke,
  done: (run: Run) => boolean,
  options: { retryAttempts?: number; maxRecordAgeMs?: number; onDemand?: boolean; timestamp?: number } = {},
): Promise<Run> {
  topics++;
  const topic = `events-${topics}`;
  const dlt = `${topic}.sink-dlt`;
  cluster.createTopic(topic, 2);
  cluster.createTopic(dlt, 1);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: values.map((value, i) => ({
      key: `device-${i}`,
      value,
      partition: 0,
      headers: { 'event-id': `e-${i}` },
      ...(options.timestamp ? { timestamp: String(options.timestamp) } : {}),
    })),
  });
  await producer.disconnect();
  const log = { warn: () => undefined, error: () => undefined };
  const deadLetter = options.onDemand ? undefined : new DeadLetterTopicWriter(kafka, dlt, log);
  await deadLetter?.connect();
  const result: Run = { events: [], outcomes: [], topic, dlt, group: `${topic}-sink` };
  const source = new KafkaEventSource({
    kafka,
    topic,
    groupId: result.group,
    partitions: 2,
    bootstrapServers: 'local:9092',
    invoke: (event) => {
      result.events.push(event);
      return invoke(event, result.events.length);
    },
    functionName: 'sink',
    batchSize: 100,
    batchingWindowMs: 100,
    reportBatchItemFailures: !options.onDemand,
    retryAttempts: options.onDemand ? Number.POSITIVE_INFINITY : (options.retryAttempts ?? 2),
    maxRecordAgeMs: options.maxRecordAgeMs ?? Number.POSITIVE_INFINITY,
    deadLetter,
    retryDelayMs: () => 10,
    onBatch: (outcome) => result.outcomes.push(outcome),
    log,
  });
  await source.start();
  try {
    const deadline = Date.now() + 20_000;
    while (!done(result)) {
      if (Date.now() > deadline) throw new Error(`${topic}: not done after 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await source.stop();
    await deadLetter?.close();
  }
  return result;
}

const offsets = (event: KafkaEvent | undefined) => (event ? flattenRecords(event).map((record) => record.offset) : []);
const topicOf = (event: KafkaEvent) => flattenRecords(event)[0]?.topic ?? '';
const fail = (topic: string, ...failed: number[]): KafkaBatchResponse => ({
  batchItemFailures: failed.map((offset) => ({ itemIdentifier: { partition: `${topic}-0`, offset } })),
});
const total = (outcomes: readonly SinkBatchOutcome[], key: keyof SinkBatchOutcome) =>
  outcomes.reduce((sum, outcome) => sum + outcome[key], 0);

async function committed(group: string, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsetsOfTopic] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsetsOfTopic?.partitions.find((p) => p.partition === 0)?.offset;
  } finally {
    await admin.disconnect();
  }
}

const values = (n: number) => Array.from({ length: n }, (_, i) => `{"n":${i}}`);

// Concurrent: joining a consumer group takes the mock cluster 3 s, which the cases then spend side by side
describe.concurrent('KafkaEventSource', () => {
  it('delivers batches in the shape Lambda does: grouped by topic-partition, base64 key and value, byte-array headers', async ({
    expect,
  }) => {
    const result = await run(
      values(3),
      async () => ({ batchItemFailures: [] }),
      (r) => r.outcomes.length > 0,
    );

    const records = result.events[0]?.records[`${result.topic}-0`];
    expect(result.events[0]).toMatchObject({ eventSource: 'SelfManagedKafka', bootstrapServers: 'local:9092' });
    expect(records?.[1]).toMatchObject({
      topic: result.topic,
      partition: 0,
      offset: 1,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('device-1').toString('base64'),
      value: Buffer.from('{"n":1}').toString('base64'),
      headers: [{ 'event-id': [...Buffer.from('e-1')] }],
    });
    expect(await committed(result.group, result.topic)).toBe('3');
  });

  it('after a partial batch response, commits up to the first failed offset and invokes again from there', async ({
    expect,
  }) => {
    const result = await run(
      values(10),
      async (event, call) => (call === 1 ? fail(topicOf(event), 7, 4) : { batchItemFailures: [] }),
      (r) => total(r.outcomes, 'acknowledged') === 10,
    );

    expect(result.events.map(offsets)).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [4, 5, 6, 7, 8, 9],
    ]);
    expect(total(result.outcomes, 'retried')).toBe(6);
    expect(await committed(result.group, result.topic)).toBe('10');
  });

  it("after retryAttempts retries without progress, writes the failed record to the dead-letter topic in Lambda's document, then commits", async ({
    expect,
  }) => {
    const result = await run(
      values(5),
      async (event) => fail(topicOf(event), 2),
      (r) => total(r.outcomes, 'deadLettered') === 1,
      { retryAttempts: 2 },
    );

    // The first invocation and 2 retries, each from the failed offset on
    expect(result.events.map(offsets)).toEqual([
      [0, 1, 2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ]);
    expect(await committed(result.group, result.topic)).toBe('5');
    const parked = (await new DeadLetterTopic(kafka, result.dlt, `${result.group}.redrive`).pending(10)).flatMap(
      fromSinkDeadLetter,
    );
    expect(parked).toEqual([
      expect.objectContaining({
        store: 'sink-dlt',
        stage: 'sink',
        reason: 'retry_attempts_exhausted',
        attempts: 3,
        payload: { encoding: 'utf8', data: '{"n":2}' },
        error: expect.stringContaining(`${result.topic}-0@2`),
      }),
    ]);
  });

  it('invokes the whole batch again after a failed invocation, and dead-letters all of it once retries run out', async ({
    expect,
  }) => {
    const result = await run(
      values(2),
      async () => {
        throw new Error('Task timed out after 60.00 seconds');
      },
      (r) => total(r.outcomes, 'deadLettered') === 2,
      { retryAttempts: 1 },
    );

    expect(result.events.map(offsets)).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const parked = (await new DeadLetterTopic(kafka, result.dlt, `${result.group}.redrive`).pending(10)).flatMap(
      fromSinkDeadLetter,
    );
    expect(parked.map((envelope) => envelope.payload?.data)).toEqual(['{"n":0}', '{"n":1}']);
    expect(parked[0]?.error).toContain('function error Unhandled');
  });

  it('treats a response naming a record not in the batch as a failed invocation', async ({ expect }) => {
    const result = await run(
      values(2),
      async (_event, call) => (call === 1 ? fail('other-topic', 0) : { batchItemFailures: [] }),
      (r) => total(r.outcomes, 'acknowledged') === 2,
    );
    expect(result.events.map(offsets)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('sends records older than the maximum record age to the dead-letter topic without invoking the function', async ({
    expect,
  }) => {
    const result = await run(
      values(2),
      async () => ({ batchItemFailures: [] }),
      (r) => total(r.outcomes, 'deadLettered') === 2,
      { maxRecordAgeMs: 60_000, timestamp: Date.now() - 3_600_000 },
    );

    expect(result.events).toEqual([]);
    const parked = (await new DeadLetterTopic(kafka, result.dlt, `${result.group}.redrive`).pending(10)).flatMap(
      fromSinkDeadLetter,
    );
    expect(parked.map((envelope) => [envelope.reason, envelope.attempts])).toEqual([
      ['record_age_exceeded', 0],
      ['record_age_exceeded', 0],
    ]);
  });

  it('on demand, ignores partial batch responses and retries a failed invocation until it succeeds', async ({
    expect,
  }) => {
    const result = await run(
      values(2),
      async (event, call) => {
        if (call <= 3) throw new Error('BatchNotStoredError');
        return fail(topicOf(event), 0);
      },
      (r) => total(r.outcomes, 'acknowledged') === 2,
      { onDemand: true },
    );
    expect(result.events).toHaveLength(4);
    expect(await committed(result.group, result.topic)).toBe('2');
  });
});

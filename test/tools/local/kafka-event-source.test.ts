/**
 * Lambda's Kafka event source on one machine, against the librdkafka mock cluster: partial batch responses, failed
 * invocations, bounded retries, the dead-letter topic in Lambda's on-failure document (read back the way `failures`
 * reads it), the maximum record age, and on-demand mode.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BatchNotStoredError } from '../../../lambdas/sink/create-handler';
import { flattenRecords, type KafkaBatchResponse, type KafkaEvent } from '../../../lambdas/sink/kafka-event';
import { DeadLetterTopic } from '../../../ops/failures/dead-letter-topic';
import { fromSinkDeadLetter } from '../../../ops/failures/envelopes';
import { ApiKey, KafkaErrorCode, KafkaMockCluster } from '../../../tools/kafka-mock/cluster';
import { DeadLetterTopicWriter } from '../../../tools/local/dead-letter-topic-writer';
import {
  type DeadLetterDestination,
  KafkaEventSource,
  type SinkBatchOutcome,
} from '../../../tools/local/kafka-event-source';

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

interface RunOptions {
  retryAttempts?: number;
  maxRecordAgeMs?: number;
  onDemand?: boolean;
  timestamp?: number;
  /** @default 100 */
  batchSize?: number;
  sessionTimeoutMs?: number;
  /** Instead of a writer to the dead-letter topic. */
  deadLetter?: DeadLetterDestination;
  /** A cluster of the case's own (for faults that would reach the other cases). @default the shared one */
  cluster?: KafkaMockCluster;
}

/** Produces `values` to partition 0 of a fresh topic in one request, then runs an event source over it until `done`. */
async function run(
  values: readonly string[],
  invoke: Invoke,
  done: (run: Run) => boolean,
  options: RunOptions = {},
): Promise<Run> {
  topics++;
  const topic = `events-${topics}`;
  const dlt = `${topic}.sink-dlt`;
  const target = options.cluster ?? cluster;
  const kafka = clientOf(target);
  target.createTopic(topic, 2);
  target.createTopic(dlt, 1);
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
  const writer = options.onDemand || options.deadLetter ? undefined : new DeadLetterTopicWriter(kafka, dlt, log);
  await writer?.connect();
  const deadLetter = options.deadLetter ?? writer;
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
    batchSize: options.batchSize ?? 100,
    batchingWindowMs: 100,
    reportBatchItemFailures: !options.onDemand,
    retryAttempts: options.onDemand ? Number.POSITIVE_INFINITY : (options.retryAttempts ?? 2),
    maxRecordAgeMs: options.maxRecordAgeMs ?? Number.POSITIVE_INFINITY,
    deadLetter,
    retryDelayMs: () => 10,
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
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
    await writer?.close();
  }
  return result;
}

const clientOf = (target: KafkaMockCluster) =>
  target === cluster
    ? kafka
    : new Kafka({ clientId: 'test', brokers: [...target.bootstrapServers], logLevel: logLevel.NOTHING });

const offsets = (event: KafkaEvent | undefined) => (event ? flattenRecords(event).map((record) => record.offset) : []);
const topicOf = (event: KafkaEvent) => flattenRecords(event)[0]?.topic ?? '';
const fail = (topic: string, ...failed: number[]): KafkaBatchResponse => ({
  batchItemFailures: failed.map((offset) => ({ itemIdentifier: { partition: `${topic}-0`, offset } })),
});
const total = (outcomes: readonly SinkBatchOutcome[], key: keyof SinkBatchOutcome) =>
  outcomes.reduce((sum, outcome) => sum + outcome[key], 0);

async function committed(group: string, topic: string, target = cluster): Promise<string | undefined> {
  const admin = clientOf(target).admin();
  await admin.connect();
  try {
    const [offsetsOfTopic] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsetsOfTopic?.partitions.find((p) => p.partition === 0)?.offset;
  } finally {
    await admin.disconnect();
  }
}

const values = (n: number) => Array.from({ length: n }, (_, i) => `{"n":${i}}`);

/** How many times each offset was invoked. */
const invocationsOf = (events: readonly KafkaEvent[]) => {
  const counts = new Map<number, number>();
  for (const offset of events.flatMap(offsets)) counts.set(offset, (counts.get(offset) ?? 0) + 1);
  return counts;
};

const sinkDeadLetters = async (result: Run, target = cluster) =>
  (await new DeadLetterTopic(clientOf(target), result.dlt, `${result.group}.redrive`).pending(10)).flatMap(
    fromSinkDeadLetter,
  );

// Concurrent: joining a consumer group takes the mock cluster 3 s, which the cases then spend side by side
describe.concurrent('KafkaEventSource', () => {
  it('delivers batches in the shape Lambda does: grouped by topic-partition, base64 key and value, byte-array headers', async ({
    expect,
  }) => {
    // Given three records on partition 0 and a function that acknowledges them
    // When the event source runs until the first batch is done
    const result = await run(
      values(3),
      async () => ({ batchItemFailures: [] }),
      (r) => r.outcomes.length > 0,
    );

    // Then the event has Lambda's shape and the group committed past all three
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
    // Given ten records and a function that fails offsets 7 and 4 on its first invocation
    // When the event source runs until all ten are acknowledged
    const result = await run(
      values(10),
      async (event, call) => (call === 1 ? fail(topicOf(event), 7, 4) : { batchItemFailures: [] }),
      (r) => total(r.outcomes, 'acknowledged') === 10,
    );

    // Then the second invocation starts at offset 4, the lowest failed, and the group commits all ten
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
    // Given five records, a function that always fails offset 2, and two retry attempts
    // When the event source runs until a record is dead-lettered
    const result = await run(
      values(5),
      async (event) => fail(topicOf(event), 2),
      (r) => total(r.outcomes, 'deadLettered') === 1,
      { retryAttempts: 2 },
    );

    // Then the function was invoked once and retried twice, each from the failed offset on
    // The first invocation and 2 retries, each from the failed offset on
    expect(result.events.map(offsets)).toEqual([
      [0, 1, 2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ]);
    // And the group commits past it and the dead-letter topic holds it as Lambda writes it
    expect(await committed(result.group, result.topic)).toBe('5');
    const parked = await sinkDeadLetters(result);
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
    // Given two records, a function that always throws, and one retry attempt
    // When the event source runs until both are dead-lettered
    const result = await run(
      values(2),
      async () => {
        throw new Error('Task timed out after 60.00 seconds');
      },
      (r) => total(r.outcomes, 'deadLettered') === 2,
      { retryAttempts: 1 },
    );

    // Then the whole batch was invoked twice and both records are in the dead-letter topic with the function error
    expect(result.events.map(offsets)).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const parked = await sinkDeadLetters(result);
    expect(parked.map((envelope) => envelope.payload?.data)).toEqual(['{"n":0}', '{"n":1}']);
    expect(parked[0]?.error).toContain('function error Unhandled');
  });

  it('treats a response naming a record not in the batch as a failed invocation', async ({ expect }) => {
    // Given two records and a first response naming a record of another topic
    // When the event source runs until both are acknowledged
    const result = await run(
      values(2),
      async (_event, call) => (call === 1 ? fail('other-topic', 0) : { batchItemFailures: [] }),
      (r) => total(r.outcomes, 'acknowledged') === 2,
    );
    // Then the first invocation counted as failed: the whole batch was invoked again
    expect(result.events.map(offsets)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('sends records older than the maximum record age to the dead-letter topic without invoking the function', async ({
    expect,
  }) => {
    // Given two records an hour old and a maximum record age of a minute
    // When the event source runs until both are dead-lettered
    const result = await run(
      values(2),
      async () => ({ batchItemFailures: [] }),
      (r) => total(r.outcomes, 'deadLettered') === 2,
      { maxRecordAgeMs: 60_000, timestamp: Date.now() - 3_600_000 },
    );

    // Then the function was never invoked, and both are parked as record_age_exceeded
    expect(result.events).toEqual([]);
    const parked = await sinkDeadLetters(result);
    expect(parked.map((envelope) => [envelope.reason, envelope.attempts])).toEqual([
      ['record_age_exceeded', 0],
      ['record_age_exceeded', 0],
    ]);
  });

  it('on demand, ignores partial batch responses and retries a failed invocation until it succeeds', async ({
    expect,
  }) => {
    // Given an on-demand source and a function that throws three times, then reports a partial failure
    // When the event source runs until both records are acknowledged
    const result = await run(
      values(2),
      async (event, call) => {
        if (call <= 3) throw new BatchNotStoredError('2 records not stored');
        return fail(topicOf(event), 0);
      },
      (r) => total(r.outcomes, 'acknowledged') === 2,
      { onDemand: true },
    );
    // Then it retried until the invocation succeeded and ignored the partial response
    expect(result.events).toHaveLength(4);
    expect(await committed(result.group, result.topic)).toBe('2');
  });

  it('counts the retry budget per record: a record failing behind one that recovers gets no fresh budget', async ({
    expect,
  }) => {
    // Record 2 fails twice, then succeeds; record 4 always fails
    // Given five records, record 2 failing twice then recovering, record 4 always failing, and two retry attempts
    // When the event source runs until a record is dead-lettered
    const result = await run(
      values(5),
      async (event, call) => (call <= 2 ? fail(topicOf(event), 2, 4) : fail(topicOf(event), 4)),
      (r) => total(r.outcomes, 'deadLettered') === 1,
      { retryAttempts: 2 },
    );

    // Then record 4 counts its own attempts
    // Record 4 reaches the dead-letter topic after its third invocation, although the first failed offset moved on
    expect(result.events.map(offsets)).toEqual([
      [0, 1, 2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ]);
    // And the group commits all five, with record 4 alone in the dead-letter topic
    expect(await committed(result.group, result.topic)).toBe('5');
    const parked = await sinkDeadLetters(result);
    expect(parked).toEqual([
      expect.objectContaining({ reason: 'retry_attempts_exhausted', attempts: 3, payload: expect.anything() }),
    ]);
    expect(parked[0]?.payload?.data).toBe('{"n":4}');
  });

  it("keeps a record's retry budget when its delivery throws and the batch is fetched again", async ({ expect }) => {
    // Given a cluster of its own whose first offset commit fails
    const own = KafkaMockCluster.start({ brokers: 1 });
    try {
      // The first commit (after the first invocation's partial failure) fails: the delivery throws, the batch is
      // fetched again from its first record
      own.pushRequestErrors(ApiKey.OffsetCommit, [KafkaErrorCode.RequestTimedOut]);
      // When the event source runs five records, offset 2 always failing, with two retry attempts
      const result = await run(
        values(5),
        async (event) => fail(topicOf(event), 2),
        (r) => total(r.outcomes, 'deadLettered') === 1,
        { retryAttempts: 2, cluster: own },
      );

      // Then the batch is fetched again after the failed commit, yet record 2 is dead-lettered after its third invocation
      expect(result.events.map(offsets)).toEqual([
        [0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4],
        [2, 3, 4],
      ]);
      expect(invocationsOf(result.events).get(2)).toBe(3);
      expect(await committed(result.group, result.topic, own)).toBe('5');
      expect((await sinkDeadLetters(result, own)).map((envelope) => envelope.attempts)).toEqual([3]);
    } finally {
      own.stop();
    }
  });

  it('commits nothing past expired records when stopped before the dead-letter topic has them', async ({ expect }) => {
    // Given two expired records and a dead-letter topic that cannot be written until stopped
    let writes = 0;
    // The dead-letter topic cannot be written until `stop` aborts the write (a broker down, then Ctrl-C)
    const unreachable: DeadLetterDestination = {
      write: (_records, _failure, signal) => {
        writes++;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
      },
    };

    // When the event source is stopped while writing them
    const result = await run(
      values(2),
      async () => ({ batchItemFailures: [] }),
      () => writes > 0,
      { maxRecordAgeMs: 60_000, timestamp: Date.now() - 3_600_000, deadLetter: unreachable },
    );

    // Then nothing was invoked, nothing dead-lettered, and nothing committed
    expect(result.events).toEqual([]);
    expect(total(result.outcomes, 'deadLettered')).toBe(0);
    // Nothing committed: the next start reads both records again and writes them to the dead-letter topic then
    expect(await committed(result.group, result.topic)).toBe('-1');
  });

  it('keeps its place in the group through an invocation longer than the session timeout', async ({ expect }) => {
    // Batches of 2 out of 5 records: while the first runs, the buffer holds a full batch and the fetcher waits
    // Given five records in batches of two, a 6 s session timeout, and a first invocation of 8 s
    // When the event source runs until all five are acknowledged
    const result = await run(
      values(5),
      async (_event, call) => {
        if (call === 1) await new Promise((resolve) => setTimeout(resolve, 8_000));
        return { batchItemFailures: [] };
      },
      (r) => total(r.outcomes, 'acknowledged') === 5,
      { batchSize: 2, sessionTimeoutMs: 6_000 },
    );

    // Then the long invocation keeps the source in its group
    // Not dropped from the group mid-invocation: no batch delivered twice
    expect(result.events.map(offsets)).toEqual([[0, 1], [2, 3], [4]]);
    expect(await committed(result.group, result.topic)).toBe('5');
  }, 40_000);
});

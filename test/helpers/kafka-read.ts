/** Reading back what reached the (mock) Kafka topic. */
import { Kafka, logLevel } from 'kafkajs';

export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  /** Record timestamp, epoch ms as a string (kafkajs' representation). */
  readonly timestamp: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
}

const client = (brokers: readonly string[]) =>
  new Kafka({ clientId: 'test-reader', brokers: [...brokers], logLevel: logLevel.NOTHING });

/** Number of records in each partition (high watermarks; the topic is never compacted or truncated in tests). */
export async function partitionCounts(brokers: readonly string[], topic: string): Promise<Map<number, number>> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

export async function totalCount(brokers: readonly string[], topic: string): Promise<number> {
  return [...(await partitionCounts(brokers, topic)).values()].reduce((a, b) => a + b, 0);
}

/**
 * Consumes the topic from the beginning with a fresh consumer group until `count` records have arrived, or until
 * `count(records)` says so.
 */
export async function readTopic(
  brokers: readonly string[],
  topic: string,
  count: number | ((records: readonly ReadRecord[]) => boolean),
): Promise<ReadRecord[]> {
  const done = typeof count === 'number' ? (records: readonly ReadRecord[]) => records.length >= count : count;
  const consumer = client(brokers).consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read only ${records.length} records from ${topic}`)), 30_000);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
              records.push({
                partition: batch.partition,
                offset: m.offset,
                timestamp: m.timestamp,
                key: m.key?.toString() ?? '',
                value: m.value?.toString() ?? '',
                headers,
              });
            }
            if (done(records)) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

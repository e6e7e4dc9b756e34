/**
 * The sink's Kafka dead-letter topic, read as a failure store. Which records are still pending is kept as the
 * committed offsets of a dedicated consumer group (`<sink group>.redrive`): a redrive advances them, so listing
 * shows only what has not been redriven, and a repeated redrive does not send the same records again (it would be
 * harmless anyway: the sink writes each event id once).
 */
import type { Kafka } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import { type KafkaTarget, kafkaCall } from '../kafka/connection';
import { readPartitions } from '../kafka/reader';
import type { ShownBytes } from '../kafka/records';
import type { DeadLetterRecord } from './envelopes';

/** The bytes behind a shown value (text is shown only when it round-trips to the same bytes). */
const bytesOf = (shown: ShownBytes): Buffer | null =>
  shown === null ? null : typeof shown === 'string' ? Buffer.from(shown, 'utf8') : Buffer.from(shown.base64, 'base64');

/** Longest joining the redrive group may take before it is reported as stuck. */
const READ_TIMEOUT_MS = 30_000;

export class DeadLetterTopic {
  public constructor(
    private readonly kafka: Kafka,
    public readonly topic: string,
    /** Consumer group whose committed offsets mark what has been redriven. */
    public readonly redriveGroup: string,
    /** The brokers, for one-line errors that say what to fix; without it kafkajs errors pass through. */
    private readonly target?: KafkaTarget,
  ) {}

  private call<T>(what: string, run: () => Promise<T>): Promise<T> {
    return this.target ? kafkaCall(what, this.target, run) : run();
  }

  /** Per partition: the first pending offset (the redrive group's, or the earliest kept) and the end offset. */
  public ranges(): Promise<Map<number, { start: bigint; end: bigint }>> {
    return this.call(`read the offsets of ${this.topic}`, async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        if (!topics.includes(this.topic))
          throw new UserError(
            `Kafka topic ${this.topic} does not exist: create it (\`confluent kafka topic create ${this.topic} --partitions <n>\`) so the sink's event source mapping can park failed records there`,
          );
        const [ends, [committed]] = await Promise.all([
          admin.fetchTopicOffsets(this.topic),
          admin.fetchOffsets({ groupId: this.redriveGroup, topics: [this.topic] }),
        ]);
        const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        return new Map(
          ends.map((p) => {
            const low = BigInt(p.low);
            const mark = done.get(p.partition) ?? -1n;
            return [p.partition, { start: mark > low ? mark : low, end: BigInt(p.high) }];
          }),
        );
      } finally {
        await admin.disconnect().catch(() => {});
      }
    });
  }

  /** Up to `limit` pending records, in partition then offset order (read without committing anything). */
  public async pending(limit: number): Promise<DeadLetterRecord[]> {
    const ranges = await this.ranges();
    if (limit <= 0) return [];
    const records: DeadLetterRecord[] = [];
    await this.call(`read ${this.topic}`, () =>
      readPartitions(
        this.kafka,
        this.topic,
        [...ranges].map(([partition, range]) => ({ partition, start: Number(range.start), end: Number(range.end) })),
        {
          onRecord: (record) => {
            records.push({
              topic: record.topic,
              partition: record.partition,
              offset: String(record.offset),
              timestamp: record.timestamp,
              value: bytesOf(record.value),
            });
            return records.length >= limit ? 'stop' : undefined;
          },
        },
      ),
    );
    return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  /**
   * Marks everything before `next` (per partition) as redriven, by committing as a member of the redrive group.
   * (`admin.setOffsets` would do on a real cluster, but it needs DescribeGroups, which not every Kafka-protocol
   * broker offers; committing as a member works everywhere OffsetCommit does.)
   */
  public async markRedriven(next: ReadonlyMap<number, bigint>): Promise<void> {
    if (next.size === 0) return;
    await this.call(`commit the redrive progress of ${this.redriveGroup}`, () => this.commit(next));
  }

  private async commit(next: ReadonlyMap<number, bigint>): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.redriveGroup, allowAutoTopicCreation: false });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic] });
      const joined = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new UserError(`Joining consumer group ${this.redriveGroup} took longer than ${READ_TIMEOUT_MS / 1000} s`),
            ),
          READ_TIMEOUT_MS,
        );
        consumer.on(consumer.events.GROUP_JOIN, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Fetched batches are ignored and never resolved: only the explicit commit below moves the group.
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
      await joined;
      await consumer.commitOffsets(
        [...next].map(([partition, offset]) => ({ topic: this.topic, partition, offset: offset.toString() })),
      );
    } finally {
      await consumer.disconnect();
    }
  }
}

/**
 * The sink's Kafka dead-letter topic, read as a failure store. Which records are still pending is kept as the
 * committed offsets of a dedicated consumer group (`<sink group>.redrive`): a redrive advances them, so listing
 * shows only what has not been redriven, and a repeated redrive does not send the same records again (it would be
 * harmless anyway: the sink writes each event id once).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { UserError } from '../errors';
import type { DeadLetterRecord } from './envelopes';

/** Longest a bounded read may take before it is reported as stuck. */
const READ_TIMEOUT_MS = 30_000;

export class DeadLetterTopic {
  public constructor(
    private readonly kafka: Kafka,
    public readonly topic: string,
    /** Consumer group whose committed offsets mark what has been redriven. */
    public readonly redriveGroup: string,
  ) {}

  /** Per partition: the first pending offset (the redrive group's, or the earliest kept) and the end offset. */
  public async ranges(): Promise<Map<number, { start: bigint; end: bigint }>> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const topics = await admin.listTopics();
      if (!topics.includes(this.topic))
        throw new UserError(
          `Kafka topic ${this.topic} does not exist: create it (\`npx telemetry-ops topics create ${this.topic} --partitions <n> --replication-factor 3\`) so the sink's event source mapping can park failed records there`,
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
      await admin.disconnect();
    }
  }

  /** Up to `limit` pending records, in partition then offset order. */
  public async pending(limit: number): Promise<DeadLetterRecord[]> {
    const ranges = await this.ranges();
    const open = [...ranges].filter(([, range]) => range.start < range.end);
    if (open.length === 0 || limit <= 0) return [];
    const records: DeadLetterRecord[] = [];
    // A throwaway group that never commits: reading moves nothing; Kafka drops the empty group on its own.
    const consumer = this.kafka.consumer({
      groupId: `telemetry-ops-reader-${randomUUID()}`,
      allowAutoTopicCreation: false,
    });
    const remaining = new Set(open.map(([partition]) => partition));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new UserError(
                `Reading ${this.topic} took longer than ${READ_TIMEOUT_MS / 1000} s: are the brokers reachable?`,
              ),
            ),
          READ_TIMEOUT_MS,
        );
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const range = ranges.get(partition);
              if (!range || !remaining.has(partition) || records.length >= limit) return;
              const offset = BigInt(message.offset);
              if (offset < range.start) return;
              if (offset < range.end)
                records.push({
                  topic: this.topic,
                  partition,
                  offset: message.offset,
                  timestamp: message.timestamp,
                  value: message.value,
                });
              if (offset + 1n >= range.end) remaining.delete(partition);
              if (remaining.size === 0 || records.length >= limit) finish();
            },
          })
          .then(() => {
            for (const [partition, range] of open)
              consumer.seek({ topic: this.topic, partition, offset: range.start.toString() });
          }, reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  /**
   * Marks everything before `next` (per partition) as redriven, by committing as a member of the redrive group.
   * (`admin.setOffsets` would do on a real cluster, but it needs DescribeGroups, which not every Kafka-protocol
   * broker offers; committing as a member works everywhere OffsetCommit does.)
   */
  public async markRedriven(next: ReadonlyMap<number, bigint>): Promise<void> {
    if (next.size === 0) return;
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

/**
 * Reading a topic from explicit offsets without touching anyone's committed offsets.
 *
 * kafkajs only consumes through a consumer group, so the reader joins a throwaway group of its own
 * (`telemetry-ops-read-<uuid>`, one member), assigns itself exactly the partitions asked for (an assignor of its
 * own, no round-robin), seeks each to its start offset and never commits (autoCommit off, no commitOffsets call).
 * Afterwards it leaves the group and deletes it (DeleteGroups); where the cluster refuses that (no DELETE ACL on
 * the group, a broker without DeleteGroups), the group is empty and has no offsets, and Kafka removes it by itself
 * at its next offset-expiry check (offsets.retention.check.interval.ms, 10 minutes by default).
 */
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import { type ShownRecord, showRecord } from './records';

/** Where to read one partition: from `start` up to `end` (exclusive), or on and on when `end` is absent. */
export interface PartitionRange {
  readonly partition: number;
  readonly start: number;
  readonly end?: number;
}

export interface ReadOptions {
  /** Called for each record in offset order within its partition; return `'stop'` to end the read. */
  readonly onRecord: (record: ShownRecord) => 'stop' | undefined;
  /** Ends the read (Ctrl-C); what was read so far stands. */
  readonly signal?: AbortSignal;
  /** How long a fetch waits on the broker for new records; bounds how quickly an abort is noticed. @default 500 */
  readonly maxWaitMs?: number;
}

/** Prefix of the throwaway groups, so an operator recognises them in `groups list`. */
export const READER_GROUP_PREFIX = 'telemetry-ops-read-';

const ASSIGNOR = 'TelemetryOpsExplicit';

/** Assigns exactly `partitions` of `topic` to the group's only member. */
function explicitAssigner(topic: string, partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: ASSIGNOR,
    version: 0,
    assign: async ({ members }) =>
      members.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: index === 0 ? { [topic]: [...partitions] } : {},
          userData: Buffer.alloc(0),
        }),
      })),
    protocol: ({ topics }) => ({
      name: ASSIGNOR,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    }),
  });
}

/**
 * Reads `ranges` of `topic` until every bounded range is read, `onRecord` says stop, or `signal` aborts. Resolves
 * with the throwaway group's id; rejects with the consumer's error when it crashes (unreachable brokers, lost
 * authorisation).
 */
export async function readPartitions(
  kafka: Kafka,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadOptions,
): Promise<{ groupId: string }> {
  const groupId = `${READER_GROUP_PREFIX}${randomUUID()}`;
  const open = ranges.filter((range) => range.end === undefined || range.start < range.end);
  if (open.length === 0 || options.signal?.aborted) return { groupId };

  const byPartition = new Map(open.map((range) => [range.partition, range]));
  const pending = new Set(open.filter((range) => range.end !== undefined).map((range) => range.partition));
  const following = open.some((range) => range.end === undefined);
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitMs ?? 500,
    partitionAssigners: [explicitAssigner(topic, [...byPartition.keys()])],
    // A failure ends the read with its error instead of kafkajs rejoining behind the user's back.
    retry: { retries: 3, restartOnFailure: async () => false },
  });

  let stopped = false;
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = () => {
      stopped = true;
      resolve();
    };
    fail = reject;
  });
  // Handled where it is awaited; a crash while joining may reject it before that.
  finished.catch(() => {});
  let joined = false;
  const onAbort = () => finish();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // After every batch, including those kafkajs filtered to nothing (transaction markers): a range whose last
  // offset has been passed is done.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const range = byPartition.get(payload.partition);
    if (range?.end === undefined || Number(payload.lastOffset) + 1 < range.end) return;
    pending.delete(payload.partition);
    if (pending.size === 0 && !following) finish();
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = byPartition.get(batch.partition);
        if (!range) return;
        for (const message of batch.messages) {
          if (stopped) return;
          const offset = Number(message.offset);
          if (offset < range.start) continue;
          if (range.end !== undefined && offset >= range.end) break;
          if (options.onRecord(showRecord(topic, batch.partition, message)) === 'stop') finish();
        }
      },
    });
    for (const range of open) consumer.seek({ topic, partition: range.partition, offset: String(range.start) });
    await finished;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => {});
    if (joined) await deleteGroup(kafka, groupId);
  }
  return { groupId };
}

/** Best effort: see the module comment for what happens to the group when this is refused. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // refused or unsupported: Kafka expires the empty group itself
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

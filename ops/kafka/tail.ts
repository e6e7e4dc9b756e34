/**
 * `tail`: which offsets to read (a pure plan from the partitions' earliest and latest offsets and the options), and
 * reading them with the reader that commits nothing.
 *
 * - Default: the newest `--max-messages` records (10): per partition from max(earliest, latest − n) to latest,
 *   then the newest n overall by timestamp.
 * - `--from-beginning` / `--offset`: the oldest n from there, read the same way.
 * - `--follow`: from latest (or the given start) on, until Ctrl-C or `--max-messages`.
 */
import type { Admin, Kafka } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import type { Progress } from '../output';
import { type PartitionRange, readPartitions } from './reader';
import type { ShownRecord } from './records';

export interface TailOptions {
  readonly fromBeginning: boolean;
  /** Read only this partition. */
  readonly partition?: number;
  /** Start at this offset (needs `partition`). */
  readonly offset?: number;
  /** Stop after this many records. @default 10, or no limit with `follow` */
  readonly maxMessages?: number;
  /** Keep reading new records until stopped. */
  readonly follow: boolean;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** Earliest offset kept. */
  readonly low: number;
  /** Next offset to be written. */
  readonly high: number;
}

export interface TailPlan {
  readonly topic: string;
  readonly ranges: readonly PartitionRange[];
  /** At most this many records are shown; null: no limit (follow). */
  readonly limit: number | null;
  /** Which records a bounded read keeps when it read more than `limit`: the oldest or the newest. */
  readonly keep: 'first' | 'last';
  readonly follow: boolean;
}

export const DEFAULT_TAIL_MESSAGES = 10;

export async function partitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

/** Mistakes in the options alone, which need no broker to see: the CLI checks them before connecting. */
export function tailOptionProblems(options: Pick<TailOptions, 'offset' | 'partition' | 'fromBeginning'>): string[] {
  const problems: string[] = [];
  if (options.offset !== undefined && options.partition === undefined)
    problems.push('--offset needs --partition (an offset means something in one partition only)');
  if (options.offset !== undefined && options.fromBeginning)
    problems.push('--offset and --from-beginning both say where to start: give one');
  return problems;
}

/** Plans the read; every mistake in the options is named in one `UserError`. */
export function planTail(topic: string, offsets: readonly PartitionOffsets[], options: TailOptions): TailPlan {
  const problems = tailOptionProblems(options);
  const selected = options.partition === undefined ? offsets : offsets.filter((p) => p.partition === options.partition);
  if (options.partition !== undefined && selected.length === 0)
    problems.push(
      `topic ${topic} has no partition ${options.partition} (it has ${offsets.length}: 0–${offsets.length - 1})`,
    );
  const only = selected.length === 1 ? selected[0] : undefined;
  if (only && options.offset !== undefined) {
    if (options.offset < only.low)
      problems.push(
        `--offset ${options.offset} is before the earliest offset partition ${only.partition} still keeps (${only.low}); older records were deleted by retention`,
      );
    else if (options.offset > only.high)
      problems.push(
        `--offset ${options.offset} is past the end of partition ${only.partition} (the next record gets offset ${only.high})`,
      );
  }
  if (problems.length > 0) throw new UserError(problems.join('; '));

  const limit = options.maxMessages ?? (options.follow ? null : DEFAULT_TAIL_MESSAGES);
  const newest = !options.fromBeginning && options.offset === undefined;
  const ranges = selected.map((p): PartitionRange => {
    if (options.follow)
      return { partition: p.partition, start: options.offset ?? (options.fromBeginning ? p.low : p.high) };
    if (newest) return { partition: p.partition, start: Math.max(p.low, p.high - (limit ?? 0)), end: p.high };
    const start = options.offset ?? p.low;
    return { partition: p.partition, start, end: limit === null ? p.high : Math.min(p.high, start + limit) };
  });
  return { topic, ranges, limit, keep: newest ? 'last' : 'first', follow: options.follow };
}

/** How many records a bounded plan reads (for a progress bar); null for a follow. */
export function recordsToRead(plan: TailPlan): number | null {
  if (plan.follow) return null;
  return plan.ranges.reduce((sum, range) => sum + Math.max(0, (range.end ?? range.start) - range.start), 0);
}

const byTime = (a: ShownRecord, b: ShownRecord) =>
  a.timestamp.localeCompare(b.timestamp) || a.partition - b.partition || a.offset - b.offset;

/** Reads a bounded plan: the records to show, oldest first, and the throwaway group that read them. */
export async function readTail(
  kafka: Kafka,
  plan: TailPlan,
  options: { signal?: AbortSignal; progress?: Progress } = {},
): Promise<{ records: ShownRecord[]; readerGroup: string }> {
  const records: ShownRecord[] = [];
  const { groupId } = await readPartitions(kafka, plan.topic, plan.ranges, {
    signal: options.signal,
    onRecord: (record) => {
      records.push(record);
      options.progress?.increment();
      return undefined;
    },
  });
  records.sort(byTime);
  if (plan.limit === null || records.length <= plan.limit) return { records, readerGroup: groupId };
  const kept = plan.keep === 'first' ? records.slice(0, plan.limit) : records.slice(-plan.limit);
  return { records: kept, readerGroup: groupId };
}

/**
 * Follows a plan, handing each record to `onRecord` as it arrives; resolves after `limit` records or an abort with
 * the count and the throwaway group that read them.
 */
export async function followTail(
  kafka: Kafka,
  plan: TailPlan,
  onRecord: (record: ShownRecord) => void,
  signal?: AbortSignal,
): Promise<{ count: number; readerGroup: string }> {
  let count = 0;
  const { groupId } = await readPartitions(kafka, plan.topic, plan.ranges, {
    signal,
    onRecord: (record) => {
      onRecord(record);
      count++;
      return plan.limit !== null && count >= plan.limit ? 'stop' : undefined;
    },
  });
  return { count, readerGroup: groupId };
}

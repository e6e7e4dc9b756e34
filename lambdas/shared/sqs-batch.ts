/**
 * SendMessageBatch's limits (`contracts/limits.ts`), applied once for every caller (the forwarder's dead-letter
 * sends, the CLI's redrives, the loopback endpoint of `telemetry-ops local`).
 */
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES } from '../../contracts/limits';

/** Bytes SQS counts for an entry: the body plus every attribute's name, type and value. */
export function entrySize(entry: Pick<SendMessageBatchRequestEntry, 'MessageBody' | 'MessageAttributes'>): number {
  let size = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size +=
      Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

/** Splits items into SendMessageBatch calls: ≤ 10 entries and ≤ 1 MiB each, order kept. */
export function sqsBatches<T>(items: readonly T[], sizeOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length === SQS_MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > SQS_MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

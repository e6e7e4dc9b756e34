/**
 * SendMessageBatch's limits, applied once for every caller (the forwarder's dead-letter sends, the CLI's redrives,
 * the loopback endpoint of `telemetry-ops local`): at most 10 entries and 1 MiB of bodies and attributes per call,
 * and only the characters SQS accepts. "The maximum allowed individual message size and the maximum total payload
 * size (the sum of the individual lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes."
 * (Amazon SQS API Reference, SendMessageBatch, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html;
 * SendMessage: "The maximum size is 1 MiB or 1,048,576 bytes".) Queues keep the default MaximumMessageSize (1 MiB).
 */
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';

export const SQS_MAX_BATCH_ENTRIES = 10;
/** The largest message SQS takes (body plus attributes). */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
export const SQS_MAX_BATCH_BYTES = 1024 * 1024;

/** Characters SQS accepts in message bodies and attribute values: #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD, astral. */
export const SQS_UNSAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

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

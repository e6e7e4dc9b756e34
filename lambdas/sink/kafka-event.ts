/**
 * The event Lambda's Kafka event source mapping delivers (self-managed Kafka and MSK share it): records grouped by
 * `"<topic>-<partition>"`, key and value base64-encoded, headers as arrays of byte values.
 */

export interface KafkaEventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType?: string;
  /** Base64; absent for records without a key. */
  readonly key?: string;
  /** Base64; absent (or null) for tombstones. */
  readonly value?: string | null;
  readonly headers?: ReadonlyArray<Readonly<Record<string, readonly number[]>>>;
}

export interface KafkaEvent {
  readonly eventSource: string;
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly KafkaEventRecord[]>>;
}

/** Partial batch response for Kafka event sources: `partition` is `"<topic>-<partition>"`. */
export interface KafkaBatchItemFailure {
  readonly itemIdentifier: { readonly partition: string; readonly offset: number };
}

export interface KafkaBatchResponse {
  readonly batchItemFailures: KafkaBatchItemFailure[];
}

/** Where a record came from: enough to report it, quarantine it and find it again in Kafka. */
export interface RecordSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka record timestamp, epoch ms. */
  readonly timestamp: number;
}

export const sourceId = (source: RecordSource): string => `${source.topic}-${source.partition}@${source.offset}`;

export const failureOf = (source: RecordSource): KafkaBatchItemFailure => ({
  itemIdentifier: { partition: `${source.topic}-${source.partition}`, offset: source.offset },
});

/**
 * Strict base64 decoding: Node's decoder skips characters it does not know, which would turn corrupted input
 * into plausible bytes. Returns undefined unless the text is canonical base64, checked by encoding the result
 * again (several times cheaper than a regular expression over the text).
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Headers as a list of `{key, value}` (value base64, as delivered), safe to store: header names are producer input,
 * so they are kept as values, never as document field names.
 */
export function headerList(headers: KafkaEventRecord['headers']): { key: string; value: string }[] {
  const result: { key: string; value: string }[] = [];
  for (const header of headers ?? []) {
    for (const [key, bytes] of Object.entries(header)) {
      if (Array.isArray(bytes)) result.push({ key, value: Buffer.from(bytes).toString('base64') });
    }
  }
  return result;
}

/** Every record of the event, in partition then offset order. */
export function flattenRecords(event: KafkaEvent): KafkaEventRecord[] {
  // Loops, not Object.values().flat(): flat() is generic over depth and several times slower per record
  const all: KafkaEventRecord[] = [];
  for (const key in event.records ?? {}) {
    for (const record of event.records[key] ?? []) all.push(record);
  }
  return all;
}

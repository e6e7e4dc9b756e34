/**
 * Kafka records as the CLI shows them: keys, header values and values as UTF-8 text when they are printable text,
 * base64 otherwise, so a binary payload never garbles a terminal and `--json` output always round-trips.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';

/** Bytes as shown: text when printable UTF-8, `{ base64 }` otherwise, `null` when absent (a null key or value). */
export type ShownBytes = string | { readonly base64: string } | null;

export interface ShownHeader {
  readonly key: string;
  readonly value: ShownBytes;
}

/** One record, as `tail` prints it. */
export interface ShownRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Record timestamp (CreateTime or LogAppendTime, as the topic is configured), ISO 8601. */
  readonly timestamp: string;
  readonly key: ShownBytes;
  /** In record order; a key may repeat. */
  readonly headers: readonly ShownHeader[];
  readonly value: ShownBytes;
}

/** Control characters other than tab, line feed and carriage return make text unprintable. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export function showBytes(bytes: Buffer | string | null | undefined): ShownBytes {
  if (bytes === null || bytes === undefined) return null;
  if (typeof bytes === 'string') return bytes;
  const text = bytes.toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD and does not encode back to the same bytes.
  if (!UNPRINTABLE.test(text) && Buffer.from(text, 'utf8').equals(bytes)) return text;
  return { base64: bytes.toString('base64') };
}

export function showHeaders(headers: IHeaders | undefined): ShownHeader[] {
  const shown: ShownHeader[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) shown.push({ key, value: showBytes(item) });
  }
  return shown;
}

export function showRecord(topic: string, partition: number, message: KafkaMessage): ShownRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: showBytes(message.key),
    headers: showHeaders(message.headers),
    value: showBytes(message.value),
  };
}

/** Bytes as one piece of text for people: `(null)`, the text itself, or `base64:…`. */
function bytesText(bytes: ShownBytes): string {
  if (bytes === null) return '(null)';
  if (typeof bytes === 'string') return bytes;
  return `base64:${bytes.base64}`;
}

/** A record for people: a line with its position, timestamp and key, one with its headers, then its value. */
export function recordText(record: ShownRecord): string {
  const headers = record.headers.map((header) => `${header.key}=${bytesText(header.value)}`).join(' ');
  return [
    `partition=${record.partition} offset=${record.offset} timestamp=${record.timestamp} key=${bytesText(record.key)}`,
    `  headers: ${headers || '(none)'}`,
    `  value: ${bytesText(record.value)}`,
  ].join('\n');
}

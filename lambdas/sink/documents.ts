/**
 * The MongoDB documents the sink writes, built from a validated envelope. Payload keys never become filter keys or
 * update operators: readings sit under `readings`, whose names the envelope schema restricts to
 * `[A-Za-z_][A-Za-z0-9_-]*` (no `$`, no `.`).
 */
import type { TelemetryEnvelope } from '../../contracts/envelope';
import type { RecordSource } from './kafka-event';

/** `readings` collection: one document per reading, `_id` = eventId. */
export interface ReadingDocument {
  readonly _id: string;
  readonly deviceId: string;
  /** Device time. */
  readonly ts: Date;
  /** Device sequence number; -1 when the device sends none. */
  readonly seq: number;
  /** IoT Core receive time. */
  readonly receivedAt: Date;
  readonly readings: Readonly<Record<string, number>>;
  /** IoT's trace id; absent for a reading published over HTTPS. */
  readonly traceId?: string;
  readonly sourceTopic: string;
  readonly kafka: { readonly partition: number; readonly offset: number };
  /** When the sink first stored it. */
  readonly storedAt: Date;
  /** Time-series collections only: a copy of `_id`, indexed, since they keep `_id` neither unique nor indexed. */
  readonly eventId?: string;
}

/** `devices` collection: the latest reading per device, `_id` = deviceId. */
export interface DeviceStateDocument {
  readonly _id: string;
  readonly ts: Date;
  readonly seq: number;
  readonly eventId: string;
  readonly receivedAt: Date;
  readonly readings: Readonly<Record<string, number>>;
  readonly updatedAt: Date;
}

/** `quarantine` collection: records the sink can never store, `_id` = `<topic>-<partition>@<offset>`. */
export interface QuarantineDocument {
  readonly _id: string;
  readonly stage: 'sink';
  readonly reason: string;
  readonly error: string;
  readonly firstFailedAt: Date;
  readonly attempts: number;
  readonly source: RecordSource;
  /** The record as Kafka delivered it, base64, so it can be replayed byte for byte. */
  readonly key: string | null;
  readonly value: string | null;
  /** Header names are producer input: kept as values, never as field names. Values base64. */
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  /** `event_id_conflict` only: the reading already stored under the record's eventId (the record is the other side). */
  readonly conflictsWith?: StoredReading;
}

/** The fields that make two readings with one eventId the same reading (what a replay or retransmission repeats). */
export type StoredReading = Pick<ReadingDocument, '_id' | 'deviceId' | 'ts' | 'seq' | 'readings'> &
  Partial<Pick<ReadingDocument, 'receivedAt' | 'kafka'>>;

/**
 * Whether two readings carrying one eventId are the same reading: same device, device time, sequence number and
 * values. IoT receive time, trace id and Kafka position legitimately differ between a reading and its replay.
 */
export function sameReading(a: StoredReading, b: StoredReading): boolean {
  // Defensive about the stored side: whatever a document lacks, it is not this reading (and nothing here may throw)
  if (!(a.ts instanceof Date && b.ts instanceof Date) || !a.readings || !b.readings) return false;
  if (a.deviceId !== b.deviceId || a.ts.getTime() !== b.ts.getTime() || a.seq !== b.seq) return false;
  const names = Object.keys(a.readings);
  if (names.length !== Object.keys(b.readings).length) return false;
  return names.every((name) => Object.is(a.readings[name], b.readings[name]));
}

export function readingDocument(envelope: TelemetryEnvelope, source: RecordSource, now: Date): ReadingDocument {
  const document: { -readonly [K in keyof ReadingDocument]: ReadingDocument[K] } = {
    _id: envelope.eventId,
    deviceId: envelope.deviceId,
    ts: new Date(envelope.ts),
    seq: envelope.seq ?? -1,
    receivedAt: new Date(envelope.receivedAt),
    readings: envelope.readings,
    sourceTopic: envelope.sourceTopic,
    kafka: { partition: source.partition, offset: source.offset },
    storedAt: now,
  };
  // Assigned, not spread in: a spread of a conditional object costs an allocation and a copy per record
  if (envelope.traceId !== undefined) document.traceId = envelope.traceId;
  return document;
}

/** Whether reading `a` is newer than `b`: device time first, then sequence number. */
export const isNewer = (a: { ts: Date; seq: number }, b: { ts: Date; seq: number }): boolean =>
  a.ts.getTime() > b.ts.getTime() || (a.ts.getTime() === b.ts.getTime() && a.seq > b.seq);

export function deviceStateDocument(reading: ReadingDocument, now: Date): DeviceStateDocument {
  return {
    _id: reading.deviceId,
    ts: reading.ts,
    seq: reading.seq,
    eventId: reading._id,
    receivedAt: reading.receivedAt,
    readings: reading.readings,
    updatedAt: now,
  };
}

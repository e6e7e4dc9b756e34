/**
 * Generated dashboard data with known answers: readings, device states and quarantined records shaped as the sink
 * writes them (lambdas/sink/documents.ts), for the query tests, the browser test and the benchmark.
 */
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import {
  type DeviceStateDocument,
  deviceStateDocument,
  isNewer,
  type QuarantineDocument,
  type ReadingDocument,
} from '../../lambdas/sink/documents';
import { MemoryDb } from '../../tools/local/memory-store';

export interface ReadingSpec {
  readonly deviceId: string;
  readonly ts: Date;
  readonly seq: number;
  readonly readings: Readonly<Record<string, number>>;
  /** @default ts + 200 ms */
  readonly receivedAt?: Date;
}

/** A reading document as the sink stores it; `_id` from device, time and seq like the deterministic eventId. */
export function readingDocument(spec: ReadingSpec, timeSeries = false): ReadingDocument {
  const _id = `${spec.deviceId}:${spec.ts.getTime()}:${spec.seq}`;
  const receivedAt = spec.receivedAt ?? new Date(spec.ts.getTime() + 200);
  return {
    _id,
    deviceId: spec.deviceId,
    ts: spec.ts,
    seq: spec.seq,
    receivedAt,
    readings: spec.readings,
    traceId: 'trace',
    sourceTopic: `devices/${spec.deviceId}/telemetry`,
    kafka: { partition: 0, offset: 0 },
    storedAt: receivedAt,
    ...(timeSeries ? { eventId: _id } : {}),
  };
}

/**
 * Keeps in `states` the device state the sink keeps for the newest reading per device (by ts, then seq), updated by
 * `readings`; `updatedAt` is the reading's `storedAt`.
 */
export function keepNewest(readings: Iterable<ReadingDocument>, states: Map<string, DeviceStateDocument>): void {
  for (const reading of readings) {
    const current = states.get(reading.deviceId);
    if (current && !isNewer(reading, current)) continue;
    states.set(reading.deviceId, deviceStateDocument(reading, reading.storedAt));
  }
}

/** The device states the sink keeps for `readings`. */
export function deviceStates(readings: readonly ReadingDocument[]): DeviceStateDocument[] {
  const states = new Map<string, DeviceStateDocument>();
  keepNewest(readings, states);
  return [...states.values()];
}

let quarantined = 0;
/** A quarantined record as the sink stores it. */
export function quarantineDocument(reason: string, firstFailedAt: Date): QuarantineDocument {
  const offset = quarantined++;
  return {
    _id: `telemetry.readings.v1-0@${offset}`,
    stage: 'sink',
    reason,
    error: `${reason}: generated`,
    firstFailedAt,
    attempts: 1,
    source: { topic: 'telemetry.readings.v1', partition: 0, offset, timestamp: firstFailedAt.getTime() },
    key: null,
    value: Buffer.from('{}').toString('base64'),
    headers: [],
  } as QuarantineDocument;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/**
 * The fleet the tests know the answers for, at `now` (a whole hour):
 * - `sensor-a`: temperature = seq and humidity = 50, every 10 s over the last hour (seq 0–359, ts = now − 1 h +
 *   seq × 10 s), except seq 100–129 (five minutes that never arrived), and seq 200 stored twice (resent 1 ms later).
 * - `sensor-b`: 3 readings a minute apart, the newest 12 minutes old (late); seq 0–2, each received 10 minutes after its
 *   device time (late arrivals).
 * - `sensor-c`: 1 reading an hour and a half old (silent).
 * - quarantine: 3 × `invalid_json` and 2 × `schema` in the last hour (the newest 10 minutes ago), 1 × `unsafe_key` two
 *   days ago.
 */
export function knownFleet(now: Date, timeSeries = false) {
  const start = now.getTime() - HOUR;
  const specs: ReadingSpec[] = [];
  for (let seq = 0; seq < 360; seq++) {
    if (seq >= 100 && seq < 130) continue;
    specs.push({
      deviceId: 'sensor-a',
      ts: new Date(start + seq * 10_000),
      seq,
      readings: { temperature: seq, humidity: 50 },
    });
  }
  specs.push({
    deviceId: 'sensor-a',
    ts: new Date(start + 200 * 10_000 + 1),
    seq: 200,
    readings: { temperature: 200, humidity: 50 },
  });
  for (let seq = 0; seq < 3; seq++) {
    const ts = new Date(now.getTime() - 12 * MINUTE - (2 - seq) * MINUTE);
    specs.push({
      deviceId: 'sensor-b',
      ts,
      seq,
      readings: { temperature: 20 + seq },
      receivedAt: new Date(ts.getTime() + 10 * MINUTE),
    });
  }
  specs.push({
    deviceId: 'sensor-c',
    ts: new Date(now.getTime() - 90 * MINUTE),
    seq: 7,
    readings: { temperature: -5 },
  });
  const readings = specs.map((spec) => readingDocument(spec, timeSeries));
  const quarantine = [
    ...[30, 20, 10].map((m) => quarantineDocument('invalid_json', new Date(now.getTime() - m * MINUTE))),
    ...[40, 50].map((m) => quarantineDocument('schema', new Date(now.getTime() - m * MINUTE))),
    quarantineDocument('unsafe_key', new Date(now.getTime() - 48 * HOUR)),
  ];
  return { readings, devices: deviceStates(readings), quarantine } satisfies Record<string, Document[]>;
}

/** `local`'s in-memory store holding `collections` (name → documents), as the sink would have written them. */
export async function memoryDbWith(collections: Readonly<Record<string, readonly Document[]>>): Promise<MemoryDb> {
  const db = new MemoryDb('telemetry');
  for (const [name, documents] of Object.entries(collections)) {
    const inserts = documents.map((document): AnyBulkWriteOperation => ({ insertOne: { document } }));
    if (inserts.length > 0) await db.collection(name).bulkWrite(inserts);
  }
  return db;
}

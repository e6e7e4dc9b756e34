/**
 * The IoT rule's enrichment, as TypeScript. `lib/ingest/rule-sql.ts` builds the rule SQL that does this in AWS IoT
 * Core; this twin does the same on one machine (local pipeline, tests, simulator checks). Keep them in step: the
 * tests compare the field lists.
 */
import { hash, randomUUID } from 'node:crypto';
import { ENVELOPE_SCHEMA_VERSION } from './envelope';

/**
 * The device's own fields: the only payload fields the rule copies, in SQL projection order. Naming them (no
 * `SELECT *`) is what keeps a device from overwriting an enrichment field: AWS documents no precedence between `*`
 * and an alias of the same name. Any other payload field is dropped by the rule, never reaching the envelope.
 */
export const DEVICE_FIELDS = ['ts', 'seq', 'readings'] as const;

/** Fields the rule adds to every device message, in SQL projection order, after `DEVICE_FIELDS`. */
export const ENRICHMENT_FIELDS = [
  'schemaVersion',
  'deviceId',
  'clientId',
  'receivedAt',
  'traceId',
  'sourceTopic',
  'eventId',
] as const;

/**
 * The event id of a reading.
 *
 * - Device sends `seq` → `sha256("<deviceId>/<ts>/<seq>")` in hex. The same reading always gets the same id, so
 *   MQTT QoS 1 retransmissions and application-level resends collapse into one document downstream. Including
 *   `ts` keeps ids distinct when a device's sequence restarts after a reboot.
 * - No `seq` → a fresh UUID per rule invocation (`newuuid()`): stable from SQS onward (SQS redelivery, Lambda
 *   retries, Kafka replays all carry it), but a device retransmission is a new event.
 */
export function deriveEventId(deviceId: string, ts: unknown, seq: unknown): string {
  if (seq === undefined) return randomUUID();
  // One-shot `hash` (Node 20.12+): half the cost of createHash, and the forwarder checks every sequenced eventId
  return hash('sha256', `${deviceId}/${String(ts)}/${String(seq)}`, 'hex');
}

/** What IoT Core knows about a message besides its payload. */
export interface IncomingMessage {
  /** The MQTT topic as published (without the `$aws/rules/<rule>/` Basic Ingest prefix). */
  readonly topic: string;
  readonly clientId: string;
  /** The device's JSON payload. */
  readonly payload: Record<string, unknown>;
  /** IoT Core's receive time, epoch ms. */
  readonly receivedAt: number;
  /**
   * IoT's `traceid()`: the MQTT message's trace id. Undefined for messages not sent over MQTT (HTTPS publish), and
   * then the envelope has no `traceId`, as the rule's output has none. @default none (an HTTPS publish)
   */
  readonly traceId?: string;
}

/**
 * Applies the rule's enrichment: `SELECT ts, seq, readings, 1 AS schemaVersion, topic(n) AS deviceId, …`. Only the
 * device fields named in `DEVICE_FIELDS` are taken from the payload, and only when present (IoT leaves an
 * Undefined result out of its output); every enrichment field comes from the message, whatever the payload says.
 *
 * @param deviceSegment 1-based index of the topic level that holds the device id (the `+` of the topic filter).
 */
export function enrich(message: IncomingMessage, deviceSegment: number): Record<string, unknown> {
  const deviceId = message.topic.split('/')[deviceSegment - 1] ?? '';
  const device: Record<string, unknown> = {};
  for (const field of DEVICE_FIELDS) {
    if (Object.hasOwn(message.payload, field) && message.payload[field] !== undefined) {
      device[field] = message.payload[field];
    }
  }
  return {
    ...device,
    schemaVersion: ENVELOPE_SCHEMA_VERSION,
    deviceId,
    clientId: message.clientId,
    receivedAt: message.receivedAt,
    ...(message.traceId === undefined ? {} : { traceId: message.traceId }),
    sourceTopic: message.topic,
    eventId: deriveEventId(deviceId, message.payload.ts, message.payload.seq),
  };
}

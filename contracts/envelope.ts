/**
 * The telemetry envelope: what the IoT rule emits for each device message, what the forwarder validates and
 * produces to Kafka, and what the sink validates again and stores. One schema for every stage; how the functions
 * parse text into it (size, UTF-8, duplicate and unsafe keys, the compiled fast path) is theirs, in
 * `lambdas/shared/envelope.ts`.
 *
 * Shape (schema version 1):
 * ```json
 * { "schemaVersion": 1, "eventId": "…", "deviceId": "sensor-0042", "clientId": "sensor-0042",
 *   "receivedAt": 1767225600123, "traceId": "…", "sourceTopic": "sensors/sensor-0042/telemetry",
 *   "ts": 1767225600000, "seq": 42, "readings": { "temperature": 21.4, "humidity": 40.2 } }
 * ```
 * `ts`, `seq` and `readings` come from the device; the rest is added by the IoT rule (see `enrichment.ts`). `seq` is
 * optional, and so is `traceId`: a reading published over HTTPS has none.
 */
import * as z from 'zod';

export const ENVELOPE_SCHEMA_VERSION = 1;

/** How far a device clock may run ahead of IoT Core's receive time before a reading is rejected. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Earliest accepted device timestamp (2020-01-01T00:00:00Z): anything older is a device with an unset clock. */
export const MIN_DEVICE_TIMESTAMP_MS = Date.UTC(2020, 0, 1);

/** Why a record was rejected. Stable strings: they appear in DLQ message attributes and metrics. */
export const InvalidReason = {
  TooLarge: 'too_large',
  NotJson: 'not_json',
  /** Text that has no UTF-8 encoding (a lone surrogate): Kafka would carry U+FFFD instead of what was validated. */
  NotUtf8: 'not_utf8',
  NotObject: 'not_object',
  /** A member name appears twice in one object: readers disagree on which one counts (`JSON.parse` keeps the last). */
  DuplicateKey: 'duplicate_key',
  UnsafeKey: 'unsafe_key',
  SchemaViolation: 'schema_violation',
  /**
   * The envelope carries `seq` but its eventId is not the IoT rule's `sha256("<deviceId>/<ts>/<seq>")` (see
   * `deriveEventId`): forged, or reused from another reading. Checked by the forwarder.
   */
  EventIdMismatch: 'event_id_mismatch',
} as const;
export type InvalidReason = (typeof InvalidReason)[keyof typeof InvalidReason];

/** AWS IoT thing names: 1–128 of `[a-zA-Z0-9:_-]`. */
const deviceId = z.string().regex(/^[A-Za-z0-9:_-]{1,128}$/, 'expected an IoT thing name ([A-Za-z0-9:_-], 1–128)');
const epochMillis = z.number().int().min(0).max(8.64e15);
/** `newuuid()` (UUID) or `sha256(…)` (64 hex digits) from the IoT rule. */
const eventId = z
  .string()
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64})$/,
    'expected a UUID or 64 lowercase hex digits',
  );
/** Reading names become MongoDB field names: no `$`, no `.`, no NUL, nothing that names a prototype. */
const readingName = z
  .string()
  .regex(
    /^(?!(?:__proto__|constructor|prototype)$)[A-Za-z_][A-Za-z0-9_-]{0,63}$/,
    'expected a reading name matching [A-Za-z_][A-Za-z0-9_-]{0,63}, other than __proto__, constructor or prototype',
  );

export const TelemetryEnvelopeSchema = z
  .strictObject({
    schemaVersion: z.literal(ENVELOPE_SCHEMA_VERSION),
    eventId,
    deviceId,
    clientId: z.string().min(1).max(128),
    receivedAt: epochMillis,
    // IoT's traceid() is Undefined for messages not sent over MQTT (HTTPS publish), and IoT leaves Undefined
    // results out of the rule's output (AWS IoT Core Developer Guide, "Functions", traceid():
    // https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html)
    traceId: z.string().min(1).max(128).optional(),
    sourceTopic: z.string().min(1).max(256),
    ts: epochMillis.min(MIN_DEVICE_TIMESTAMP_MS, 'device timestamp before 2020-01-01: is the device clock set?'),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    readings: z
      .record(readingName, z.number())
      .refine((readings) => Object.keys(readings).length >= 1, 'expected at least one reading')
      .refine((readings) => Object.keys(readings).length <= 64, 'expected at most 64 readings'),
  })
  .refine((envelope) => envelope.ts <= envelope.receivedAt + MAX_CLOCK_SKEW_MS, {
    message: `device timestamp more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes after receivedAt: device clock ahead`,
    path: ['ts'],
  });

export type TelemetryEnvelope = z.output<typeof TelemetryEnvelopeSchema>;

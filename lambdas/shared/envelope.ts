/**
 * The telemetry envelope: what the IoT rule emits for each device message, what the forwarder validates and
 * produces to Kafka, and what the sink validates again and stores. One schema for every stage.
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

/** Default upper bound of an envelope's UTF-8 size; configurable per deployment (`limits.maxMessageBytes`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024;

/** How far a device clock may run ahead of IoT Core's receive time before a reading is rejected. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Earliest accepted device timestamp (2020-01-01T00:00:00Z): anything older is a device with an unset clock. */
export const MIN_DEVICE_TIMESTAMP_MS = Date.UTC(2020, 0, 1);

/** Keys that would reach prototypes if an object were ever spread or merged. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a record was rejected. Stable strings: they appear in DLQ message attributes and metrics. */
export const InvalidReason = {
  TooLarge: 'too_large',
  NotJson: 'not_json',
  NotObject: 'not_object',
  UnsafeKey: 'unsafe_key',
  SchemaViolation: 'schema_violation',
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

export type EnvelopeParseResult =
  | { readonly ok: true; readonly envelope: TelemetryEnvelope }
  | { readonly ok: false; readonly reason: InvalidReason; readonly detail: string };

const MAX_DEPTH = 8;

/**
 * Finds the first key, at any depth, that must never reach MongoDB or an object merge: `$`-prefixed, dotted,
 * containing NUL, or a prototype name. Returns its path, or undefined.
 */
export function findUnsafeKey(value: unknown, path = '', depth = 0): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return `${path || '(root)'} (nested deeper than ${MAX_DEPTH})`;
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value);
  for (const [key, child] of entries) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.startsWith('$') || key.includes('.') || key.includes('\u0000') || PROTOTYPE_KEYS.has(key)) {
      return JSON.stringify(childPath);
    }
    const nested = findUnsafeKey(child, childPath, depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** Formats zod issues as `path: message` pairs, the first few only. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], limit = 5): string {
  const shown = issues.slice(0, limit).map((issue) => {
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    return `${issue.path.join('.') || '(root)'}: ${message}`;
  });
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return shown.join('; ') + more;
}

/**
 * Parses and validates one serialized envelope. Never throws: every way the input can be wrong comes back as a
 * reason (stable, for metrics and DLQ attributes) and a detail (human-readable, names the field).
 */
export function parseEnvelope(text: string, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): EnvelopeParseResult {
  // Cheap upper bound first: a UTF-8 string is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      return { ok: false, reason: InvalidReason.TooLarge, detail: `${bytes} bytes exceeds the ${maxBytes}-byte limit` };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: InvalidReason.NotJson, detail: (error as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: InvalidReason.NotObject, detail: `expected a JSON object, got ${jsonType(value)}` };
  }
  // Always scanned, even though the strict schema rejects most unsafe keys: zod skips a JSON `__proto__` key inside
  // records instead of rejecting it, and the raw text (not zod's output) is what travels on to Kafka and MongoDB.
  const unsafe = findUnsafeKey(value);
  if (unsafe !== undefined) {
    return { ok: false, reason: InvalidReason.UnsafeKey, detail: `forbidden key ${unsafe}` };
  }
  const result = TelemetryEnvelopeSchema.safeParse(value);
  if (!result.success) {
    return { ok: false, reason: InvalidReason.SchemaViolation, detail: formatIssues(result.error.issues) };
  }
  return { ok: true, envelope: result.data };
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

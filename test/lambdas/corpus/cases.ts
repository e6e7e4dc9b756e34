/**
 * The hostile-input corpus: every body the forwarder and the sink must handle, and what each of them must do with it.
 * One table, run against the forwarder core (`forwarder.corpus.test.ts`), the sink core (`sink.corpus.test.ts`) and
 * the bundled forwarder (`test/lambdas/forward/bundle.smoke.test.ts`). A body either goes through (`'pass'`: produced
 * to Kafka / stored) or is parked with the reason named.
 */
import { InvalidReason } from '../../../lambdas/shared/envelope';
import { devicePayload, envelope, NOW } from '../../helpers/factories';

export type Outcome = 'pass' | string;

export interface BodyCase {
  readonly name: string;
  /** The SQS message body, which is also the Kafka record value the sink reads. */
  readonly body: string;
  readonly forwarder: Outcome;
  /** @default what the forwarder does */
  readonly sink?: Outcome;
}

/** A valid envelope as text, with a fixed traceId so that every run builds the same bytes. */
export function validBody(deviceId = 'sensor-0001', payload: Record<string, unknown> = devicePayload()): string {
  return JSON.stringify({ ...envelope(deviceId, payload), traceId: 'trace-corpus' });
}

const valid = validBody();
/** `valid` with `extra` members placed just before `"readings"` (so the real ones come last and win in JSON.parse). */
const before = (extra: string) => valid.replace('"readings":', `${extra},"readings":`);
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

export const BODY_CASES: readonly BodyCase[] = [
  { name: 'a valid envelope', body: valid, forwarder: 'pass' },
  // Duplicate member names: JSON.parse keeps the last, a consumer that keeps the first would see the hidden one
  {
    name: 'an operator hidden by a later duplicate reading ({"t":{"$gt":0},"t":1})',
    body: valid.replace('"readings":{', '"readings":{"t":{"$gt":0},"t":1,'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'two readings members, $where in the first',
    body: before('"readings":{"$where":"sleep(1000)"}'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'two readings members, __proto__ in the first',
    body: before('"readings":{"__proto__":{"polluted":1}}'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'two deviceId members',
    body: valid.replace('"deviceId":', '"deviceId":"sensor-evil","deviceId":'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'a dotted key hidden by a later member ({"a.b":1})',
    body: before('"readings":{"a.b":1}'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'a duplicate whose name has escaped quotes',
    body: valid.replace('"readings":{', '"readings":{"a\\"b":1,"a\\"b":2,'),
    forwarder: InvalidReason.DuplicateKey,
  },
  {
    name: 'the same name in different objects (not a duplicate)',
    body: valid.replace('"readings":{', '"readings":{"deviceId":1,'),
    forwarder: 'pass',
  },
  {
    name: 'a colon and quotes inside string values',
    body: valid.replace('trace-corpus', 'a:\\"b\\":c'),
    forwarder: 'pass',
  },
  // Byte order mark: one rule for both functions
  { name: 'a leading UTF-8 byte order mark', body: `\uFEFF${valid}`, forwarder: InvalidReason.NotJson },
  // Not UTF-8-encodable text: Kafka would carry U+FFFD instead of what was validated
  {
    name: 'a lone surrogate in clientId',
    body: valid.replace('"clientId":"sensor-0001"', '"clientId":"sensor-\uD800"'),
    forwarder: InvalidReason.NotUtf8,
    // UTF-8 has no lone surrogates: the bytes the sink reads carry U+FFFD, a valid clientId
    sink: 'pass',
  },
  // Deep nesting: parsed, never a stack overflow
  { name: '5,000 levels of nesting (over the size limit)', body: nested(5_000), forwarder: InvalidReason.TooLarge },
  { name: '2,000 levels of nesting (within the size limit)', body: nested(2_000), forwarder: InvalidReason.UnsafeKey },
  {
    name: '5,000 nested arrays (within the size limit)',
    body: `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    forwarder: InvalidReason.NotObject,
  },
  // Huge and odd numbers
  {
    name: 'a ts of 1e999 (Infinity)',
    body: valid.replace(/"ts":\d+/, '"ts":1e999'),
    forwarder: InvalidReason.SchemaViolation,
  },
  {
    name: 'a reading of 1e400 (Infinity)',
    body: valid.replace('"temperature":21.5', '"temperature":1e400'),
    forwarder: InvalidReason.SchemaViolation,
  },
  { name: 'a reading of -0', body: valid.replace('"temperature":21.5', '"temperature":-0'), forwarder: 'pass' },
  {
    name: 'a seq beyond 2^53',
    body: valid.replace(/"seq":\d+/, '"seq":9007199254740993'),
    forwarder: InvalidReason.SchemaViolation,
  },
  // Prototype and operator keys
  {
    name: 'a top-level __proto__',
    body: valid.replace('{', '{"__proto__":{"x":1},'),
    forwarder: InvalidReason.UnsafeKey,
  },
  {
    name: 'constructor as a reading name',
    body: valid.replace('"readings":{', '"readings":{"constructor":1,'),
    forwarder: InvalidReason.UnsafeKey,
  },
  { name: 'a top-level $where', body: valid.replace('{', '{"$where":"1",'), forwarder: InvalidReason.UnsafeKey },
  {
    name: 'a NUL in a key (escaped)',
    body: valid.replace('"readings":{', '"readings":{"t\\u0000":1,'),
    forwarder: InvalidReason.UnsafeKey,
  },
  {
    name: 'a raw NUL in the body',
    body: valid.replace('trace-corpus', 'trace\u0000'),
    forwarder: InvalidReason.NotJson,
  },
  // Not JSON, not an object
  { name: 'an empty body', body: '', forwarder: InvalidReason.NotJson },
  { name: 'a JSON array', body: '[1,2]', forwarder: InvalidReason.NotObject },
  { name: 'JSON null', body: 'null', forwarder: InvalidReason.NotObject },
  {
    name: 'over the size limit',
    body: valid.replace('trace-corpus', 'x'.repeat(20_000)),
    forwarder: InvalidReason.TooLarge,
  },
  // Forged or reused eventIds: a sequenced reading's id must be the rule's sha256("<deviceId>/<ts>/<seq>")
  {
    name: "another device's eventId on a sequenced reading",
    body: JSON.stringify({ ...JSON.parse(validBody('sensor-0002')), eventId: JSON.parse(valid).eventId }),
    forwarder: InvalidReason.EventIdMismatch,
    // One record alone conflicts with nothing stored: the sink's check is against what it holds (sink.test.ts)
    sink: 'pass',
  },
  {
    name: 'an eventId reused with another seq',
    body: valid.replace(/"seq":\d+/, '"seq":99'),
    forwarder: InvalidReason.EventIdMismatch,
    sink: 'pass',
  },
  {
    name: 'an unsequenced reading with any UUID (nothing to check against)',
    body: JSON.stringify({
      ...JSON.parse(validBody()),
      seq: undefined,
      eventId: '00000000-0000-4000-8000-000000000000',
    }),
    forwarder: 'pass',
  },
  {
    name: 'a device clock far ahead',
    body: validBody('sensor-0001', devicePayload({ ts: NOW + 60 * 60_000 })),
    forwarder: InvalidReason.SchemaViolation,
  },
];

/**
 * Five bodies whose details quote ~12 KB of attacker-chosen key names each (unknown fields, a dotted key): what an
 * unbounded log line would carry five times over.
 */
export function hostileKeyBodies(): string[] {
  const base = JSON.parse(validBody()) as Record<string, unknown>;
  const unknown = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${'k'.repeat(110)}${i}`, 1]));
  const dotted = { ...base, readings: { [`${'d'.repeat(12_000)}.x`]: 1 } };
  return [
    JSON.stringify({ ...base, ...unknown }),
    JSON.stringify(dotted),
    ...Array(3).fill(JSON.stringify({ ...base, ...unknown })),
  ];
}

/** Every string in a log entry's attributes, at any depth. */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

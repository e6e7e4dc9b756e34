import { SQS_UNSAFE } from './limits';

/**
 * Names of the SQS message attributes that describe why a message sits in a failure store. Every stage that
 * parks a message writes the same set, so an operator (and the CLI) reads every failure the same way.
 */
export const FailureAttribute = {
  /** Pipeline stage that gave up: `forward`, `sink`, … */
  Stage: 'failure.stage',
  /** Stable machine-readable reason, e.g. `schema_violation`. */
  Reason: 'failure.reason',
  /** Human-readable detail naming the field or error (no stack, no secrets). */
  Error: 'failure.error',
  /** ISO-8601 time the message was first received by the stage. */
  FirstFailedAt: 'failure.firstFailedAt',
  /** Delivery attempts the stage made. */
  Attempts: 'failure.attempts',
  /** Id of the message in the stage's input (SQS message id, Kafka topic-partition@offset). */
  SourceId: 'failure.sourceId',
  /**
   * Set when the body is not the original message, which SQS could not carry as it is: `base64` (the body is the
   * original's UTF-8 bytes in base64: it held characters SQS refuses) or `pointer` (the body is a `ParkedPointer`:
   * even base64 would exceed SQS's message size).
   */
  PayloadEncoding: 'failure.payloadEncoding',
} as const;

/** What a dead-letter body holds instead of an original too large for SQS (`failure.payloadEncoding: pointer`). */
export interface ParkedPointer {
  /** Where the original was: `sqs://<source queue ARN>#<message id>` (deleted from there once parked). */
  readonly pointer: string;
  /** The original's size, UTF-8 bytes, and its SHA-256 (hex), to recognise it. */
  readonly bytes: number;
  readonly sha256: string;
  /** Its first `MAX_FAILURE_DETAIL_CHARS` characters, made SQS-safe. */
  readonly head: string;
}

/** The longest `failure.error` value written; longer details are cut. */
export const MAX_FAILURE_DETAIL_CHARS = 1_000;

/** Pipeline stage that gave up on a message: the IoT rule's action, the forwarder, the sink. */
export type FailureStage = 'ingest' | 'forward' | 'sink';

/**
 * The places a message can end up after failing, in flow order:
 * - `ingest-errors`: the IoT rule's error-action queue (the rule could not send to the ingest queue);
 * - `ingest-dlq`: the ingest dead-letter queue (invalid envelopes parked by the forwarder, and messages SQS moved
 *   there after `ingest.maxReceiveCount` failed deliveries);
 * - `sink-dlt`: the Kafka dead-letter topic the sink's event source mapping writes to after its retries;
 * - `quarantine`: the MongoDB collection of records the sink can never store.
 */
export const FAILURE_STORES = ['ingest-errors', 'ingest-dlq', 'sink-dlt', 'quarantine'] as const;
export type FailureStore = (typeof FAILURE_STORES)[number];

/**
 * One failed message, whichever store holds it: how the operator CLI (and anyone scripting against `--json`)
 * reads every failure the same way. Stores keep their native format; this is the view over all of them.
 */
export interface FailureEnvelope {
  /** `<store>:<id in the store>`: SQS message id, `<partition>@<offset>` of the dead-letter topic, quarantine `_id`. */
  readonly id: string;
  readonly store: FailureStore;
  readonly stage: FailureStage;
  /** Stable machine-readable reason, e.g. `schema_violation`, `max_receives_exceeded`, `retries_exhausted`. */
  readonly reason: string;
  /** Human-readable detail. */
  readonly error: string;
  /** ISO-8601 time of the first failure, when the store records it. */
  readonly firstFailedAt: string | null;
  /** Delivery attempts made before giving up, when the store records them. */
  readonly attempts: number | null;
  /** The original message: UTF-8 text when it is valid UTF-8, base64 otherwise; null when only `pointer` has it. */
  readonly payload: { readonly encoding: 'utf8' | 'base64'; readonly data: string } | null;
  /** Where the original lives: `sqs://<queue url>#<message id>`, `kafka://<topic>/<partition>@<offset>`, `mongodb://<db>/quarantine/<_id>`. */
  readonly pointer: string;
  /** Device and event ids when the payload names them. */
  readonly deviceId: string | null;
  readonly eventId: string | null;
}

const SQS_UNSAFE_ALL = new RegExp(SQS_UNSAFE.source, 'gu');

/**
 * A failure detail fit for an SQS attribute or a log: characters SQS rejects replaced by U+FFFD (details quote
 * producer input, such as key names), cut at `MAX_FAILURE_DETAIL_CHARS` code points without splitting a character.
 */
export function failureDetail(detail: string): string {
  return Array.from(detail.replace(SQS_UNSAFE_ALL, '\uFFFD')).slice(0, MAX_FAILURE_DETAIL_CHARS).join('');
}

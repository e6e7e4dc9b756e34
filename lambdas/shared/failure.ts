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
} as const;

/** The longest `failure.error` value written; longer details are cut. */
export const MAX_FAILURE_DETAIL_CHARS = 1_000;

export type FailureStage = 'forward' | 'sink';

/** Characters SQS accepts in message bodies and attribute values: #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD, astral. */
const SQS_UNSAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A failure detail fit for an SQS attribute or a log: characters SQS rejects replaced by U+FFFD (details quote
 * producer input, such as key names), cut at `MAX_FAILURE_DETAIL_CHARS` code points without splitting a character.
 */
export function failureDetail(detail: string): string {
  return Array.from(detail.replace(SQS_UNSAFE, '\uFFFD')).slice(0, MAX_FAILURE_DETAIL_CHARS).join('');
}

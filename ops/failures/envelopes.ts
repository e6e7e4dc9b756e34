/**
 * Reads each failure store's native format into the one `FailureEnvelope` (contracts/failure.ts). Pure
 * functions: the stores fetch, these translate.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { enrich } from '../../contracts/enrichment';
import { FailureAttribute, type FailureEnvelope } from '../../contracts/failure';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import { decodeBase64, type KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import { deviceSegment } from '../../lib/ingest/rule-sql';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as UTF-8 text when it is valid UTF-8, base64 otherwise. */
export function payloadOf(bytes: Buffer | null | undefined): FailureEnvelope['payload'] {
  if (!bytes) return null;
  try {
    return { encoding: 'utf8', data: utf8.decode(bytes) };
  } catch {
    return { encoding: 'base64', data: bytes.toString('base64') };
  }
}

/** The payload's bytes, whichever encoding the envelope holds. */
export const payloadBytes = (payload: NonNullable<FailureEnvelope['payload']>): Buffer =>
  payload.encoding === 'utf8' ? Buffer.from(payload.data, 'utf8') : Buffer.from(payload.data, 'base64');

function jsonObject(payload: FailureEnvelope['payload']): Record<string, unknown> | undefined {
  if (payload?.encoding !== 'utf8') return undefined;
  try {
    const value: unknown = JSON.parse(payload.data);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

function ids(payload: FailureEnvelope['payload']): Pick<FailureEnvelope, 'deviceId' | 'eventId'> {
  const object = jsonObject(payload);
  return { deviceId: text(object?.deviceId), eventId: text(object?.eventId) };
}

const isoFromEpoch = (value: string | undefined): string | null => {
  const ms = Number(value);
  return value && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
};

// --- ingest-errors: the IoT rule's error action -------------------------------------------------------------

/** What IoT Core sends to an error action (one message per rule and message; see AWS IoT "Error action"). */
export interface IotErrorMessage {
  readonly ruleName?: string;
  readonly topic?: string;
  readonly cloudwatchTraceId?: string;
  readonly clientId?: string;
  readonly base64OriginalPayload?: string;
  readonly failures?: ReadonlyArray<{ failedAction?: string; failedResource?: string; errorMessage?: string }>;
}

function parseIotError(body: string | undefined): IotErrorMessage | undefined {
  try {
    const value: unknown = JSON.parse(body ?? '');
    return value && typeof value === 'object' ? (value as IotErrorMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** Basic Ingest topics reach rules as `$aws/rules/<rule>/<topic>`; devices' topics are what follows. */
export const withoutBasicIngestPrefix = (topic: string): string => topic.replace(/^\$aws\/rules\/[^/]+\//, '');

export function fromIotError(message: Message, queueUrl: string, topicFilters: readonly string[]): FailureEnvelope {
  const error = parseIotError(message.Body);
  const original = error?.base64OriginalPayload === undefined ? undefined : decodeBase64(error.base64OriginalPayload);
  const payload = payloadOf(original);
  const failures = error?.failures ?? [];
  const topic = error?.topic ? withoutBasicIngestPrefix(error.topic) : undefined;
  return {
    id: `ingest-errors:${message.MessageId}`,
    store: 'ingest-errors',
    stage: 'ingest',
    reason: error ? 'rule_action_failed' : 'unreadable_error_message',
    error: error
      ? failures
          .map(
            (failure) =>
              `${failure.failedAction ?? 'action'} → ${failure.failedResource ?? '?'}: ${failure.errorMessage ?? ''}`,
          )
          .join('; ') || 'the rule action failed (IoT gave no detail)'
      : 'the error-queue message is not an IoT error-action document',
    firstFailedAt: isoFromEpoch(message.Attributes?.SentTimestamp),
    // IoT makes one delivery attempt per action (the SDK retries inside it) before running the error action.
    attempts: error ? 1 : null,
    payload: payload ?? payloadOf(Buffer.from(message.Body ?? '', 'utf8')),
    pointer: `sqs://${queueUrl}#${message.MessageId}`,
    deviceId: topic ? deviceOfTopic(topic, topicFilters) : null,
    eventId: null,
  };
}

/** The device id in a topic: the level of the `+` of the topic filter it matches. */
function deviceOfTopic(topic: string, topicFilters: readonly string[]): string | null {
  const filter = topicFilters.find((candidate) => topicMatches(candidate, topic));
  return filter ? (topic.split('/')[deviceSegment(filter) - 1] ?? null) : null;
}

/**
 * The ingest-queue body a replay of an IoT error needs: the original payload enriched exactly as the rule would
 * have (contracts/enrichment.ts), with the failure time as receive time. A problem instead when the payload
 * is not a JSON object (the rule could not have enriched it either) or its topic matches no topic filter.
 */
export function replayBodyOfIotError(
  message: Message,
  topicFilters: readonly string[],
): { body: string } | { problem: string } {
  const error = parseIotError(message.Body);
  if (!error?.topic || error.base64OriginalPayload === undefined)
    return { problem: 'not an IoT error-action document' };
  const original = decodeBase64(error.base64OriginalPayload);
  const payload = jsonObject(payloadOf(original));
  if (!payload) return { problem: 'the original payload is not a JSON object' };
  const topic = withoutBasicIngestPrefix(error.topic);
  const filter = topicFilters.find((candidate) => topicMatches(candidate, topic));
  if (!filter) return { problem: `topic ${topic} matches none of iot.topicFilters` };
  const receivedAt = Number(message.Attributes?.SentTimestamp ?? Date.now());
  const envelope = enrich(
    {
      topic,
      clientId: error.clientId ?? '',
      payload,
      receivedAt,
      ...(error.cloudwatchTraceId ? { traceId: error.cloudwatchTraceId } : {}),
    },
    deviceSegment(filter),
  );
  return { body: JSON.stringify(envelope) };
}

/** MQTT topic-filter matching (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

// --- ingest-dlq: invalid envelopes and messages past maxReceiveCount -----------------------------------------

/**
 * The original of a parked message: the body itself, or decoded when the forwarder had to encode it
 * (`failure.payloadEncoding`, lambdas/forward/sqs-quarantine.ts): base64 bytes, or only a pointer.
 */
function parkedPayload(
  body: string,
  encoding: string | undefined,
): { payload: FailureEnvelope['payload']; pointer?: string } {
  if (encoding === 'base64') return { payload: payloadOf(Buffer.from(body, 'base64')) };
  if (encoding === 'pointer') {
    const pointer = jsonObject(payloadOf(Buffer.from(body, 'utf8')))?.pointer;
    return { payload: null, ...(typeof pointer === 'string' ? { pointer } : {}) };
  }
  return { payload: payloadOf(Buffer.from(body, 'utf8')) };
}

export function fromDeadLetter(message: Message, queueUrl: string, maxReceiveCount: number): FailureEnvelope {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const { payload, pointer } = parkedPayload(message.Body ?? '', attribute(FailureAttribute.PayloadEncoding));
  const parked = attribute(FailureAttribute.Reason) !== undefined;
  const attempts = Number(attribute(FailureAttribute.Attempts));
  return {
    id: `ingest-dlq:${message.MessageId}`,
    store: 'ingest-dlq',
    stage: parked ? ((attribute(FailureAttribute.Stage) as FailureEnvelope['stage']) ?? 'forward') : 'forward',
    reason: attribute(FailureAttribute.Reason) ?? 'max_receives_exceeded',
    error:
      attribute(FailureAttribute.Error) ??
      `SQS moved it here after ${maxReceiveCount} failed deliveries to the forwarder (Kafka unreachable or rejecting, or the forwarder failing): see the forwarder's logs`,
    firstFailedAt: attribute(FailureAttribute.FirstFailedAt) ?? isoFromEpoch(message.Attributes?.SentTimestamp),
    attempts: parked ? (Number.isFinite(attempts) ? attempts : null) : maxReceiveCount,
    payload,
    pointer: pointer ?? `sqs://${queueUrl}#${message.MessageId}`,
    ...ids(payload),
  };
}

// --- sink-dlt: the event source mapping's Kafka on-failure destination ---------------------------------------

/**
 * What Lambda writes to a Kafka on-failure destination (AWS Lambda, "Using a Kafka topic as an on-failure
 * destination"): a JSON document with the failure metadata and, under `payload`, the failed record(s) in the
 * invoke-event shape (key and value base64).
 */
interface KafkaDestinationDocument {
  readonly requestContext?: { condition?: string; approximateInvokeCount?: number; functionArn?: string };
  readonly responseContext?: { functionError?: string; statusCode?: number } | null;
  readonly timestamp?: string;
  readonly payload?: { records?: Record<string, KafkaEventRecord[]> };
}

/** A record read from the dead-letter topic. */
export interface DeadLetterRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Record timestamp, ISO 8601. */
  readonly timestamp: string;
  readonly value: Buffer | null;
}

/** `RetryAttemptsExhausted` → `retry_attempts_exhausted`. */
const snake = (condition: string) =>
  condition
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();

/**
 * One envelope per failed record the dead-letter record carries. A value that is not Lambda's document (written by
 * someone else) is reported as it is, with reason `unrecognised_dead_letter`.
 */
export function fromSinkDeadLetter(record: DeadLetterRecord): FailureEnvelope[] {
  const id = `${record.partition}@${record.offset}`;
  const pointer = `kafka://${record.topic}/${id}`;
  let document: KafkaDestinationDocument | undefined;
  try {
    const value: unknown = JSON.parse(record.value?.toString('utf8') ?? '');
    if (value && typeof value === 'object' && 'payload' in value) document = value as KafkaDestinationDocument;
  } catch {
    document = undefined;
  }
  const failed = Object.values(document?.payload?.records ?? {}).flat();
  if (!document || failed.length === 0) {
    const payload = payloadOf(record.value);
    return [
      {
        id: `sink-dlt:${id}`,
        store: 'sink-dlt',
        stage: 'sink',
        reason: 'unrecognised_dead_letter',
        error: 'the record is not a Lambda on-failure document; its value is shown as it is',
        firstFailedAt: record.timestamp,
        attempts: null,
        payload,
        pointer,
        ...ids(payload),
      },
    ];
  }
  const condition = document.requestContext?.condition ?? 'Unknown';
  const functionError = document.responseContext?.functionError;
  return failed.map((inner, index) => {
    const payload = payloadOf(typeof inner.value === 'string' ? decodeBase64(inner.value) : null);
    return {
      id: `sink-dlt:${id}${failed.length > 1 ? `.${index}` : ''}`,
      store: 'sink-dlt',
      stage: 'sink',
      reason: snake(condition),
      error: `the sink's event source mapping gave up (${condition}${functionError ? `, function error ${functionError}` : ''}) on ${inner.topic}-${inner.partition}@${inner.offset}`,
      firstFailedAt: document.timestamp ?? record.timestamp,
      attempts: document.requestContext?.approximateInvokeCount ?? null,
      payload,
      pointer,
      ...ids(payload),
    };
  });
}

// --- quarantine: records the sink can never store ----------------------------------------------------------

export function fromQuarantine(document: QuarantineDocument, database: string): FailureEnvelope {
  const value = document.value === null ? null : decodeBase64(document.value);
  const payload = payloadOf(value);
  return {
    id: `quarantine:${document._id}`,
    store: 'quarantine',
    stage: document.stage,
    reason: document.reason,
    error: document.error,
    firstFailedAt: new Date(document.firstFailedAt).toISOString(),
    attempts: document.attempts,
    payload,
    pointer: `mongodb://${database}/quarantine/${document._id}`,
    ...ids(payload),
  };
}

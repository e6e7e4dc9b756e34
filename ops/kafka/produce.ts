/**
 * `produce`: one test record with a delivery report. Without a value it is a valid telemetry envelope for a device,
 * built the way the IoT rule builds it (`enrich`) and keyed and headed the way the forwarder produces it
 * (`toKafkaMessage`), so the sink stores it like any reading. A given value that is an envelope gets the same key
 * and headers; any other value goes as it is (the sink will quarantine it, which is a way to test that path).
 */
import { type Kafka, Partitioners } from 'kafkajs';
import { enrich } from '../../contracts/enrichment';
import { UserError } from '../../contracts/errors';
import { toKafkaMessage } from '../../lambdas/forward/forwarder';
import { parseEnvelope } from '../../lambdas/shared/envelope';
import { deviceSegment } from '../../lib/ingest/rule-sql';
import { requireTopics } from './topics';

export const DEFAULT_TEST_DEVICE = 'telemetry-ops-test';
export const DEFAULT_TEST_READINGS: Readonly<Record<string, number>> = { temperature: 21.5 };

export interface MessageInput {
  /** Record key. @default the envelope's deviceId, or none for a value that is not an envelope */
  readonly key?: string;
  /** The value as given (`--value` text or `--file` bytes); absent: a telemetry envelope is built. */
  readonly value?: string | Buffer;
  /** Extra headers; they win over the forwarder's of the same name. */
  readonly headers: Readonly<Record<string, string>>;
  /** Device of the built envelope. @default {@link DEFAULT_TEST_DEVICE} */
  readonly device?: string;
  /** The device's sequence number: makes the event id deterministic, as for a real device. */
  readonly seq?: number;
  readonly readings?: Readonly<Record<string, number>>;
  /** The IoT topic filter whose `+` level is the device id (the configuration's first). */
  readonly topicFilter: string;
  readonly maxMessageBytes: number;
  readonly now: number;
}

export interface OutgoingMessage {
  readonly key: string | null;
  readonly value: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Record timestamp (CreateTime), epoch ms. */
  readonly timestamp: number;
  /** The envelope's event id when the value is a valid envelope. */
  readonly eventId: string | null;
  /** Why the value is not a valid envelope, when it is not. */
  readonly invalidEnvelope: string | null;
}

/** `name=number` pairs from `--reading`. */
export function parseReadings(pairs: readonly string[]): Record<string, number> {
  const readings: Record<string, number> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const [name = '', text = ''] = pair.split('=', 2);
    const value = Number(text);
    if (!name || text.trim() === '' || !Number.isFinite(value))
      problems.push(`--reading ${JSON.stringify(pair)}: expected name=number, e.g. temperature=21.5`);
    else readings[name] = value;
  }
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return readings;
}

/** `key=value` pairs from `--header`; a value may be empty, a key may not. */
export function parseHeaders(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) problems.push(`--header ${JSON.stringify(pair)}: expected key=value, e.g. trace-id=abc`);
    else headers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return headers;
}

export function buildMessage(input: MessageInput): OutgoingMessage {
  if (input.value !== undefined && (input.device !== undefined || input.seq !== undefined || input.readings))
    throw new UserError('--device, --seq and --reading build the value: give them, or --value/--file, not both');
  const body = input.value ?? generatedEnvelope(input);
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const parsed = parseEnvelope(text, input.maxMessageBytes);
  if (!parsed.ok) {
    return {
      key: input.key ?? null,
      value: body,
      headers: { ...input.headers },
      timestamp: input.now,
      eventId: null,
      invalidEnvelope: `${parsed.reason}: ${parsed.detail}`,
    };
  }
  const forwarded = toKafkaMessage('telemetry-ops', text, parsed.envelope);
  return {
    key: input.key ?? forwarded.key,
    value: body,
    headers: { ...forwarded.headers, ...input.headers },
    timestamp: input.now,
    eventId: parsed.envelope.eventId,
    invalidEnvelope: null,
  };
}

function generatedEnvelope(input: MessageInput): string {
  const deviceId = input.device ?? DEFAULT_TEST_DEVICE;
  const segment = deviceSegment(input.topicFilter);
  const topic = input.topicFilter
    .split('/')
    .map((level, i) => (i === segment - 1 ? deviceId : level))
    .join('/');
  const payload = {
    ts: input.now,
    ...(input.seq !== undefined ? { seq: input.seq } : {}),
    readings: { ...(input.readings ?? DEFAULT_TEST_READINGS) },
  };
  const envelope = enrich({ topic, clientId: deviceId, payload, receivedAt: input.now }, segment);
  const body = JSON.stringify(envelope);
  const parsed = parseEnvelope(body, input.maxMessageBytes);
  // A device id with "/" would shift the topic levels and name another device.
  if (!parsed.ok || parsed.envelope.deviceId !== deviceId)
    throw new UserError(
      `Cannot build a valid telemetry envelope for device ${JSON.stringify(deviceId)}: ${
        parsed.ok ? 'a device id is one topic level ([A-Za-z0-9:_-], 1–128)' : parsed.detail
      }`,
    );
  return body;
}

export interface DeliveryReport {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset: the request's base offset, as it carried one record. */
  readonly offset: number;
  readonly baseOffset: number;
  /** The timestamp the record carries (CreateTime), ISO 8601. */
  readonly timestamp: string;
  /** The broker's append time when the topic uses LogAppendTime; null otherwise. */
  readonly logAppendTime: string | null;
  readonly logStartOffset: number | null;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly valueBytes: number;
  readonly eventId: string | null;
}

/**
 * Produces one record with acks=all and reports where it landed. The topic must exist (never auto-created) and
 * `partition`, when given, must be one of its partitions; otherwise the key picks it (murmur2, like the forwarder).
 */
export async function produceMessage(
  kafka: Kafka,
  topic: string,
  message: OutgoingMessage,
  partition?: number,
): Promise<DeliveryReport> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await requireTopics(admin, [topic]);
    if (partition !== undefined) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (partition >= count)
        throw new UserError(`Kafka topic ${topic} has no partition ${partition} (it has ${count}: 0–${count - 1})`);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }

  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await producer.connect();
    const [metadata] = await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: { ...message.headers },
          timestamp: String(message.timestamp),
          ...(partition !== undefined ? { partition } : {}),
        },
      ],
    });
    if (!metadata) throw new Error(`Kafka acknowledged the record to ${topic} without saying where it went`);
    const baseOffset = Number(metadata.baseOffset ?? metadata.offset);
    const appendTime = Number(metadata.logAppendTime ?? -1);
    return {
      topic,
      partition: metadata.partition,
      offset: baseOffset,
      baseOffset,
      timestamp: new Date(message.timestamp).toISOString(),
      logAppendTime: appendTime >= 0 ? new Date(appendTime).toISOString() : null,
      logStartOffset: metadata.logStartOffset !== undefined ? Number(metadata.logStartOffset) : null,
      key: message.key,
      headers: message.headers,
      valueBytes: Buffer.byteLength(message.value),
      eventId: message.eventId,
    };
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

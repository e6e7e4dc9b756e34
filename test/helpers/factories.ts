/** Event and payload factories shared by the tests. Each returns a fresh, valid object; overrides make it invalid. */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { enrich } from '../../contracts/enrichment';
import type { TelemetryEnvelope } from '../../contracts/envelope';
import type { KafkaEvent, KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import type { ReadRecord } from './kafka-read';

/** Fixed "now" for deterministic envelopes: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);

/** What a sensor publishes. */
export function devicePayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ts: NOW - 1_000, seq: 1, readings: { temperature: 21.5, humidity: 40.25, pressure: 1013.2 }, ...overrides };
}

/** The IoT rule's output for a device message on `sensors/<deviceId>/telemetry`, published over MQTT. */
export function envelope(
  deviceId = 'sensor-0001',
  payload: Record<string, unknown> = devicePayload(),
  receivedAt = NOW,
): TelemetryEnvelope {
  return ruleOutput(deviceId, payload, receivedAt, { clientId: deviceId, traceId: randomUUID() });
}

/**
 * The same for a reading published over HTTPS (iot-data `Publish`): `traceid()` is Undefined for messages not sent
 * over MQTT, so the envelope has no `traceId`; `clientid()` returns `n/a`.
 */
export function httpsEnvelope(
  deviceId = 'sensor-0001',
  payload: Record<string, unknown> = devicePayload(),
  receivedAt = NOW,
): TelemetryEnvelope {
  return ruleOutput(deviceId, payload, receivedAt, { clientId: 'n/a' });
}

function ruleOutput(
  deviceId: string,
  payload: Record<string, unknown>,
  receivedAt: number,
  transport: { clientId: string; traceId?: string },
): TelemetryEnvelope {
  return enrich({ topic: `sensors/${deviceId}/telemetry`, payload, receivedAt, ...transport }, 2) as TelemetryEnvelope;
}

let sqsSequence = 0;

/** An SQS record as Lambda delivers it. */
export function sqsRecord(body: string | object, overrides: Partial<SQSRecord> = {}): SQSRecord {
  sqsSequence++;
  return {
    messageId: overrides.messageId ?? `msg-${sqsSequence}-${randomUUID()}`,
    receiptHandle: `receipt-${sqsSequence}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(NOW),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(NOW + 5),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:telemetry-ingest',
    awsRegion: 'eu-west-1',
    ...overrides,
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A realistic batch: `count` readings spread over `devices` devices, one SQS record each. */
export function telemetryBatch(count: number, devices = 10, receivedAt = NOW): SQSRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const deviceId = `sensor-${String(i % devices).padStart(4, '0')}`;
    const seq = Math.floor(i / devices);
    return sqsRecord(
      envelope(deviceId, devicePayload({ seq, ts: receivedAt - 1_000 + seq, readings: readingsFor(i) }), receivedAt),
    );
  });
}

function readingsFor(i: number): Record<string, number> {
  return {
    temperature: Math.round((20 + Math.sin(i) * 5) * 100) / 100,
    humidity: Math.round((45 + Math.cos(i) * 10) * 100) / 100,
    pressure: Math.round((1013 + Math.sin(i / 7) * 8) * 10) / 10,
  };
}

/** A Lambda context whose deadline is `remainingMs` from its creation. */
export function lambdaContext(remainingMs = 30_000, functionName = 'telemetry-forwarder'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A record as Lambda's Kafka event source delivers it: base64 key and value, headers as byte arrays. */
export function kafkaRecord(
  value: string | object | null,
  position: { topic?: string; partition?: number; offset: number },
  headers: Record<string, string> = {},
): KafkaEventRecord {
  const text = value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
  const deviceId = value && typeof value === 'object' ? String((value as { deviceId?: unknown }).deviceId ?? '') : '';
  return {
    topic: position.topic ?? 'telemetry.readings.v1',
    partition: position.partition ?? 0,
    offset: position.offset,
    timestamp: NOW,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(deviceId).toString('base64'),
    value: text === null ? null : Buffer.from(text).toString('base64'),
    headers: Object.entries(headers).map(([name, v]) => ({ [name]: [...Buffer.from(v)] })),
  };
}

/** Groups records by `"<topic>-<partition>"`, as the event source does. */
export function kafkaEvent(records: readonly KafkaEventRecord[]): KafkaEvent {
  const grouped: Record<string, KafkaEventRecord[]> = {};
  for (const record of records) {
    const key = `${record.topic}-${record.partition}`;
    grouped[key] = [...(grouped[key] ?? []), record];
  }
  return {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: 'pkc-12abc.eu-west-1.aws.confluent.cloud:9092',
    records: grouped,
  };
}

/** What Lambda's Kafka event source would deliver for records a kafkajs consumer read, in batches of `size`. */
export function esmEvents(records: readonly ReadRecord[], topic: string, size = 100): KafkaEvent[] {
  const events: KafkaEvent[] = [];
  for (let i = 0; i < records.length; i += size) {
    events.push(
      kafkaEvent(
        records.slice(i, i + size).map((r) => ({
          topic,
          partition: r.partition,
          offset: Number(r.offset),
          timestamp: Number(r.timestamp),
          timestampType: 'CREATE_TIME',
          key: Buffer.from(r.key).toString('base64'),
          value: Buffer.from(r.value).toString('base64'),
          headers: Object.entries(r.headers).map(([name, value]) => ({ [name]: [...Buffer.from(value)] })),
        })),
      ),
    );
  }
  return events;
}

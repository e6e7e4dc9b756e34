/**
 * `failures list | show | redrive` against every store: SQS queues through aws-sdk-client-mock, the sink's Kafka
 * dead-letter topic on the librdkafka mock cluster, the quarantine collection in memory.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId } from '../../lambdas/shared/enrichment';
import type { FailureEnvelope } from '../../lambdas/shared/failure';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import type { QuarantineCollection } from '../../ops/failures/stores';
import { cli, configDir } from '../helpers/cli';
import { devicePayload, envelope, NOW } from '../helpers/factories';
import { KafkaMockCluster } from '../helpers/kafka-mock';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
const INGEST = `${URL}/ingest`;
const DLQ = `${URL}/ingest-dlq`;
const ERRORS = `${URL}/errors`;
const TOPIC = 'telemetry.readings.v1';
const DLT = `${TOPIC}.sink-dlt`;

const sqs = mockClient(SQSClient);
const cloudFormation = mockClient(CloudFormationClient);

class MemoryQuarantine implements QuarantineCollection {
  public readonly docs = new Map<string, QuarantineDocument>();
  public find(_filter: object, options: { limit: number }) {
    const sorted = [...this.docs.values()].sort((a, b) => a.firstFailedAt.getTime() - b.firstFailedAt.getTime());
    return { toArray: async () => sorted.slice(0, options.limit) };
  }
  public async deleteOne(filter: { _id: string }) {
    return { deletedCount: this.docs.delete(filter._id) ? 1 : 0 };
  }
  public async countDocuments() {
    return this.docs.size;
  }
}

function quarantined(id: string, value: Buffer | null, at = NOW): QuarantineDocument {
  return {
    _id: id,
    stage: 'sink',
    reason: 'schema_violation',
    error: 'readings: expected at least one reading',
    firstFailedAt: new Date(at),
    attempts: 1,
    source: { topic: TOPIC, partition: 3, offset: 1842, timestamp: at },
    key: null,
    value: value?.toString('base64') ?? null,
    headers: [],
  };
}

const iotError = (id: string, topic: string, payload: string): Message => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Attributes: { SentTimestamp: String(NOW) },
  Body: JSON.stringify({
    ruleName: 'TelemetryPipeline_dev_1',
    topic,
    cloudwatchTraceId: 'trace-1',
    clientId: 'sensor-7',
    base64OriginalPayload: Buffer.from(payload).toString('base64'),
    failures: [{ failedAction: 'SqsAction', failedResource: 'ingest', errorMessage: 'Failed to send message' }],
  }),
});

const attribute = (value: string, type = 'String') => ({ DataType: type, StringValue: value });
const parked = envelope('sensor-1', devicePayload({ seq: 4 }));
const moved = envelope('sensor-2', devicePayload({ seq: 9 }));
const dlqMessages: Message[] = [
  {
    MessageId: 'm-parked',
    ReceiptHandle: 'rh-parked',
    Body: JSON.stringify({ ...parked, readings: {} }),
    Attributes: { SentTimestamp: String(NOW) },
    MessageAttributes: {
      'failure.stage': attribute('forward'),
      'failure.reason': attribute('schema_violation'),
      'failure.error': attribute('readings: expected at least one reading'),
      'failure.firstFailedAt': attribute(new Date(NOW - 5_000).toISOString()),
      'failure.attempts': attribute('1', 'Number'),
      'failure.sourceId': attribute('m-original'),
    },
  },
  {
    MessageId: 'm-moved',
    ReceiptHandle: 'rh-moved',
    Body: JSON.stringify(moved),
    Attributes: { SentTimestamp: String(NOW) },
  },
];

let cluster: KafkaMockCluster;
let kafka: Kafka;
let quarantine: MemoryQuarantine;
let dir: string;
const deadLettered = envelope('sensor-3', devicePayload({ seq: 11 }));

/** What Lambda writes to a Kafka on-failure destination: failure metadata plus the record in invoke-event shape. */
function lambdaDeadLetter(value: string, offset: number) {
  return JSON.stringify({
    requestContext: {
      requestId: 'r-1',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:sink',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 11,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date(NOW).toISOString(),
    KafkaBatchInfo: { batchSize: 1 },
    payload: {
      eventSource: 'SelfManagedKafka',
      records: {
        [`${TOPIC}-0`]: [
          {
            topic: TOPIC,
            partition: 0,
            offset,
            timestamp: NOW,
            timestampType: 'CREATE_TIME',
            key: Buffer.from('sensor-3').toString('base64'),
            value: Buffer.from(value).toString('base64'),
            headers: [],
          },
        ],
      },
    },
  });
}

beforeAll(async () => {
  cluster = KafkaMockCluster.start({ brokers: 1 });
  cluster.createTopic(TOPIC, 2);
  cluster.createTopic(DLT, 1);
  kafka = new Kafka({ clientId: 'test', brokers: [...cluster.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: DLT,
    acks: -1,
    messages: [
      { key: 'sensor-3', value: lambdaDeadLetter(JSON.stringify(deadLettered), 17) },
      { key: 'x', value: 'written by someone else' },
    ],
  });
  await producer.disconnect();
  dir = configDir();
});
afterAll(() => cluster.stop());

beforeEach(() => {
  sqs.reset();
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'TelemetryPipeline-dev',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'IngestQueueUrl', OutputValue: INGEST },
          { OutputKey: 'DeadLetterQueueUrl', OutputValue: DLQ },
          { OutputKey: 'ErrorQueueUrl', OutputValue: ERRORS },
        ],
      },
    ],
  });
  sqs.on(ReceiveMessageCommand).resolves({});
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  quarantine = new MemoryQuarantine();
});

/** The queue returns `messages` once, then nothing (they are in flight). */
const queueHolds = (queueUrl: string, messages: Message[]) =>
  sqs.on(ReceiveMessageCommand, { QueueUrl: queueUrl }).resolvesOnce({ Messages: messages }).resolves({});

const run = (args: string[]) =>
  cli(args, {
    environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
    clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
    configDir: dir,
  });

const sentBodies = () =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      queue: call.args[0].input.QueueUrl,
      body: entry.MessageBody ?? '',
    })),
  );

describe('failures list', () => {
  it('reads all four stores into one envelope and leaves queue messages where they were', async () => {
    // Given one failure in every store
    queueHolds(ERRORS, [iotError('e-1', 'sensors/sensor-7/telemetry', JSON.stringify(devicePayload({ seq: 1 })))]);
    queueHolds(DLQ, dlqMessages);
    quarantine.docs.set(`${TOPIC}-3@1842`, quarantined(`${TOPIC}-3@1842`, Buffer.from('{"deviceId":"sensor-9"}')));

    // When
    const result = await run(['failures', 'list', '--json']);

    // Then
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { failures, unavailable } = JSON.parse(result.stdout) as { failures: FailureEnvelope[]; unavailable: [] };
    expect(unavailable).toEqual([]);
    const byId = new Map(failures.map((f) => [f.id, f]));
    expect([...byId.keys()]).toEqual([
      'ingest-errors:e-1',
      'ingest-dlq:m-parked',
      'ingest-dlq:m-moved',
      'sink-dlt:0@0',
      'sink-dlt:0@1',
      `quarantine:${TOPIC}-3@1842`,
    ]);
    expect(byId.get('ingest-errors:e-1')).toMatchObject({
      store: 'ingest-errors',
      stage: 'ingest',
      reason: 'rule_action_failed',
      error: 'SqsAction → ingest: Failed to send message',
      firstFailedAt: new Date(NOW).toISOString(),
      deviceId: 'sensor-7',
      payload: { encoding: 'utf8', data: JSON.stringify(devicePayload({ seq: 1 })) },
      pointer: `sqs://${ERRORS}#e-1`,
    });
    expect(byId.get('ingest-dlq:m-parked')).toMatchObject({
      stage: 'forward',
      reason: 'schema_violation',
      firstFailedAt: new Date(NOW - 5_000).toISOString(),
      attempts: 1,
      deviceId: 'sensor-1',
      eventId: parked.eventId,
    });
    expect(byId.get('ingest-dlq:m-moved')).toMatchObject({ reason: 'max_receives_exceeded', attempts: 5 });
    expect(byId.get('sink-dlt:0@0')).toMatchObject({
      stage: 'sink',
      reason: 'retry_attempts_exhausted',
      attempts: 11,
      firstFailedAt: new Date(NOW).toISOString(),
      deviceId: 'sensor-3',
      eventId: deadLettered.eventId,
      pointer: `kafka://${DLT}/0@0`,
    });
    expect(byId.get('sink-dlt:0@1')).toMatchObject({
      reason: 'unrecognised_dead_letter',
      payload: { data: 'written by someone else' },
    });
    expect(byId.get(`quarantine:${TOPIC}-3@1842`)).toMatchObject({ reason: 'schema_violation', deviceId: 'sensor-9' });
    // Every message looked at was made visible again
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout]).sort()).toEqual([
      ['rh-e-1', 0],
      ['rh-moved', 0],
      ['rh-parked', 0],
    ]);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it('shows one failure with its payload, and names an unknown one in one line', async () => {
    // A queue whose messages become visible again after each look (as after a release)
    sqs.on(ReceiveMessageCommand, { QueueUrl: DLQ }).resolves({ Messages: dlqMessages });

    const shown = await run(['failures', 'show', 'ingest-dlq:m-parked']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/reason:\s+schema_violation/);
    expect(shown.stdout).toContain(`"eventId": "${parked.eventId}"`);

    const missing = await run(['failures', 'show', 'ingest-dlq:nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: No failure ingest-dlq:nope among the first 1000 of ingest-dlq/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    const malformed = await run(['failures', 'show', 'm-parked']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/is not a failure id/);
  });

  it('says once, without a stack, when the stack is not deployed', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id TelemetryPipeline-dev does not exist'), { name: 'ValidationError' }),
      );
    const result = await run(['failures', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Stack TelemetryPipeline-dev is not deployed in eu-west-1: run `npx cdk deploy -c env=dev`, or pick another --env / --region\n',
    );
  });
});

describe('failures redrive', () => {
  it('re-enriches IoT errors into the ingest queue, deletes them, and keeps what cannot be replayed', async () => {
    // Given a replayable IoT error (through Basic Ingest) and one whose payload is not JSON
    const payload = devicePayload({ seq: 21, ts: NOW - 1_000 });
    queueHolds(ERRORS, [
      iotError('e-ok', '$aws/rules/TelemetryPipeline_dev_1/sensors/sensor-7/telemetry', JSON.stringify(payload)),
      iotError('e-bad', 'sensors/sensor-8/telemetry', 'not json'),
    ]);

    // When
    const result = await run(['failures', 'redrive', '--store', 'ingest-errors', '--json']);

    // Then the replay carries the same deterministic event id the rule would have given it
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [sent, ...others] = sentBodies();
    expect(others).toEqual([]);
    expect(sent?.queue).toBe(INGEST);
    expect(JSON.parse(sent?.body ?? '')).toMatchObject({
      ...payload,
      schemaVersion: 1,
      deviceId: 'sensor-7',
      clientId: 'sensor-7',
      receivedAt: NOW,
      sourceTopic: 'sensors/sensor-7/telemetry',
      eventId: deriveEventId('sensor-7', payload.ts, payload.seq),
    });
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted.map((entry) => entry.ReceiptHandle)).toEqual(['rh-e-ok']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => entry.ReceiptHandle)).toEqual(['rh-e-bad']);
    expect(JSON.parse(result.stdout).reports[0].items).toEqual([
      { id: 'ingest-errors:e-bad', outcome: 'skipped', detail: 'the original payload is not a JSON object' },
      { id: 'ingest-errors:e-ok', outcome: 'redriven' },
    ]);
  });

  it('hands the whole dead-letter queue to an SQS move task, and only looks with --dry-run', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ }).resolves({
      Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest-dlq', ApproximateNumberOfMessages: '2' },
    });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: INGEST })
      .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest' } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    queueHolds(DLQ, dlqMessages);

    const dryRun = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--dry-run', '--json']);
    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout).reports[0].items.map((i: { outcome: string }) => i.outcome)).toEqual([
      'would-redrive',
      'would-redrive',
    ]);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sentBodies()).toEqual([]);

    const real = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--max-per-second', '50']);
    expect(real.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest-dlq',
        DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest',
        MaxNumberOfMessagesPerSecond: 50,
      },
    ]);
    expect(real.stdout).toContain('SQS move task task-1 started for ~2 message(s)');
  });

  it('keeps a message SQS refused in its store and exits 1', async () => {
    queueHolds(DLQ, dlqMessages);
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });

    const result = await run(['failures', 'redrive', '--id', 'ingest-dlq:m-parked', '--id', 'ingest-dlq:m-moved']);

    expect(result.stderr).toBe('error: 1 message(s) could not be redriven; they stay in their store\n');
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted.map((entry) => entry.ReceiptHandle)).toEqual(['rh-parked']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => entry.ReceiptHandle)).toEqual(['rh-moved']);
  });

  it('redrives the dead-letter topic once: the redrive group remembers what was sent', async () => {
    // When redriving twice
    const first = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const firstSent = sentBodies();
    sqs.resetHistory();
    const second = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const listed = await run(['failures', 'list', '--store', 'sink-dlt', '--json']);

    // Then the failed record's value went to the ingest queue once; the foreign record was not Lambda's and was sent as is
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(firstSent).toEqual([
      { queue: INGEST, body: JSON.stringify(deadLettered) },
      { queue: INGEST, body: 'written by someone else' },
    ]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).reports[0].items).toEqual([]);
    expect(sentBodies()).toEqual([]);
    expect(JSON.parse(listed.stdout).failures).toEqual([]);
  });

  it('sends quarantined records back and removes them; binary ones stay with the reason', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00]);
    quarantine.docs.set('q-text', quarantined('q-text', Buffer.from(JSON.stringify(moved)), NOW - 2));
    quarantine.docs.set('q-binary', quarantined('q-binary', binary, NOW - 1));

    const result = await run(['failures', 'redrive', '--store', 'quarantine', '--json']);

    expect(result.code).toBe(0);
    expect(sentBodies()).toEqual([{ queue: INGEST, body: JSON.stringify(moved) }]);
    expect([...quarantine.docs.keys()]).toEqual(['q-binary']);
    expect(JSON.parse(result.stdout).reports[0].items).toEqual([
      { id: 'quarantine:q-binary', outcome: 'skipped', detail: 'the payload is not UTF-8 text; SQS cannot carry it' },
      { id: 'quarantine:q-text', outcome: 'redriven' },
    ]);
  });
});

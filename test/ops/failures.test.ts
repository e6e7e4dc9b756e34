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
import { deriveEventId } from '../../contracts/enrichment';
import type { FailureEnvelope } from '../../contracts/failure';
import { parseEnvelope } from '../../lambdas/shared/envelope';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import { replayBodyOfIotError } from '../../ops/failures/envelopes';
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

describe('errors a user can fix', () => {
  it('shows the other stores when Kafka cannot be reached, in one line, exit 1', async () => {
    const result = await cli(['failures', 'list', '--json'], {
      environment: { KAFKA_BROKERS: '127.0.0.1:1' },
      clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
      configDir: dir,
    });

    expect(result.code).toBe(1);
    const { unavailable } = JSON.parse(result.stdout);
    expect(unavailable.map((u: { store: string }) => u.store)).toEqual(['sink-dlt']);
    expect(unavailable[0].error).toMatch(/Kafka at 127\.0\.0\.1:1 is unreachable/);
    expect(result.stderr).toBe('error: 1 store(s) could not be read: sink-dlt\n');
  });

  it('names an unreachable AWS endpoint (a mistyped region) instead of printing a stack', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-wst-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      );
    const result = await run(['failures', 'list', '--store', 'ingest-dlq']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Cannot read stack TelemetryPipeline-dev: AWS is unreachable (ENOTFOUND): check the region (--region, AWS_REGION) and the network\n',
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

  it('replays an IoT error without a trace id (a publish over HTTPS) as a valid envelope without traceId', () => {
    const message = iotError('e-https', 'sensors/sensor-7/telemetry', JSON.stringify(devicePayload({ seq: 2 })));
    const { cloudwatchTraceId: _, ...body } = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;

    const replay = replayBodyOfIotError({ ...message, Body: JSON.stringify(body) }, ['sensors/+/telemetry']);

    if (!('body' in replay)) throw new Error(replay.problem);
    expect(JSON.parse(replay.body)).not.toHaveProperty('traceId');
    expect(parseEnvelope(replay.body).ok).toBe(true);
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

  it('redrives the dead-letter topic once, keeps a foreign record pending until it is named, then marks it too', async () => {
    // When redriving twice
    const first = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const firstSent = sentBodies();
    sqs.resetHistory();
    const second = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const listed = await run(['failures', 'list', '--store', 'sink-dlt', '--json']);

    // Then Lambda's record went to the ingest queue once; the foreign one was skipped and is still listed
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(firstSent).toEqual([{ queue: INGEST, body: JSON.stringify(deadLettered) }]);
    const skipped = {
      id: 'sink-dlt:0@1',
      outcome: 'skipped',
      detail: 'not a Lambda on-failure document: look at it (`failures show`), then redrive it by --id',
    };
    expect(JSON.parse(first.stdout).reports[0].items).toEqual([skipped, { id: 'sink-dlt:0@0', outcome: 'redriven' }]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).reports[0].items).toEqual([skipped]);
    expect(sentBodies()).toEqual([]);
    expect(JSON.parse(listed.stdout).failures.map((f: FailureEnvelope) => f.id)).toEqual(['sink-dlt:0@1']);

    // When the operator names it, it goes as it is and the store is empty
    sqs.resetHistory();
    const named = await run(['failures', 'redrive', '--id', 'sink-dlt:0@1']);
    const after = await run(['failures', 'list', '--store', 'sink-dlt', '--json']);
    expect(named.code).toBe(0);
    expect(sentBodies()).toEqual([{ queue: INGEST, body: 'written by someone else' }]);
    expect(JSON.parse(after.stdout).failures).toEqual([]);
  });

  it('keeps a dead-letter record SQS refused, and every later one of its partition, pending', async () => {
    // Given three failed records in one partition of another deployment's dead-letter topic
    const topic = 'other.readings.sink-dlt';
    cluster.createTopic(topic, 1);
    const producer = kafka.producer();
    await producer.connect();
    const values = [0, 1, 2].map((i) => envelope(`sensor-${10 + i}`, devicePayload({ seq: i })));
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ value: lambdaDeadLetter(JSON.stringify(value), i) })),
    });
    await producer.disconnect();
    const otherDir = configDir({ sink: { deadLetterTopic: topic, consumerGroupId: 'other-sink' } });
    // SQS takes the first and third, refuses the second
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });
    const inOther = (args: string[]) =>
      cli(args, {
        environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
        clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
        configDir: otherDir,
      });

    // When
    const result = await inOther(['failures', 'redrive', '--store', 'sink-dlt']);
    const listed = await inOther(['failures', 'list', '--store', 'sink-dlt', '--json']);

    // Then
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: 1 message(s) could not be redriven; they stay in their store\n');
    expect(JSON.parse(listed.stdout).failures.map((f: FailureEnvelope) => f.id)).toEqual([
      'sink-dlt:0@1',
      'sink-dlt:0@2',
    ]);
  });

  it('redrives a long queue in steps SQS accepts: ≤ 10 entries and ≤ 1 MiB per call, unsafe bodies kept', async () => {
    // Given 25 parked messages of ~300 KB each (three fit in SendMessageBatch's 1 MiB) and one SQS would reject
    const big = (i: number): Message => ({
      MessageId: `big-${i}`,
      ReceiptHandle: `rh-big-${i}`,
      Body: JSON.stringify({ ...moved, padding: 'x'.repeat(300_000), i }),
      Attributes: { SentTimestamp: String(NOW) },
    });
    const messages = [...Array.from({ length: 25 }, (_, i) => big(i)), { ...big(99), Body: 'bad \u0001 body' }];
    const pages = Array.from({ length: Math.ceil(messages.length / 10) }, (_, i) =>
      messages.slice(i * 10, i * 10 + 10),
    );
    let receive = sqs.on(ReceiveMessageCommand, { QueueUrl: DLQ });
    for (const page of pages) receive = receive.resolvesOnce({ Messages: page });
    receive.resolves({});

    // When (an explicit --limit: message by message, not a move task)
    const result = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--limit', '100', '--json']);

    // Then
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.flat()).toHaveLength(25);
    for (const entries of calls) {
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(entries.reduce((bytes, e) => bytes + Buffer.byteLength(e.MessageBody ?? ''), 0)).toBeLessThanOrEqual(
        1024 * 1024,
      );
    }
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted).toHaveLength(25);
    const items = JSON.parse(result.stdout).reports[0].items;
    expect(items.find((item: { id: string }) => item.id === 'ingest-dlq:big-99')).toEqual({
      id: 'ingest-dlq:big-99',
      outcome: 'skipped',
      detail: 'the payload holds characters SQS does not accept',
    });
    // Each step received, sent and deleted before the next receive: handles never outlive their visibility
    expect(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.VisibilityTimeout)).toEqual([
      120, 120, 120, 120,
    ]);
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

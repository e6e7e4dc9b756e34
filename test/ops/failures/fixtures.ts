/**
 * What every `failures` test shares: the deployed stack's queues, SQS and CloudFormation mocks, messages in each
 * store's native format, the librdkafka mock cluster with the sink's dead-letter topic, an in-memory quarantine, and
 * the CLI run against them.
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
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { QuarantineDocument } from '../../../lambdas/sink/documents';
import type { QuarantineCollection } from '../../../ops/failures/stores';
import { cli, configDir } from '../../helpers/cli';
import { devicePayload, envelope, NOW } from '../../helpers/factories';
import { KafkaMockCluster } from '../../helpers/kafka-mock';

export const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
export const INGEST = `${URL}/ingest`;
export const DLQ = `${URL}/ingest-dlq`;
export const ERRORS = `${URL}/errors`;
export const TOPIC = 'telemetry.readings.v1';
export const DLT = `${TOPIC}.sink-dlt`;

export const sqs = mockClient(SQSClient);
export const cloudFormation = mockClient(CloudFormationClient);

export class MemoryQuarantine implements QuarantineCollection {
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

export function quarantined(id: string, value: Buffer | null, at = NOW): QuarantineDocument {
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

export const iotError = (id: string, topic: string, payload: string): Message => ({
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

export const attribute = (value: string, type = 'String') => ({ DataType: type, StringValue: value });
export const parked = envelope('sensor-1', devicePayload({ seq: 4 }));
export const moved = envelope('sensor-2', devicePayload({ seq: 9 }));
export const dlqMessages: Message[] = [
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

export let cluster: KafkaMockCluster;
export let kafka: Kafka;
export let quarantine: MemoryQuarantine;
export let dir: string;
export const deadLettered = envelope('sensor-3', devicePayload({ seq: 11 }));

/** What Lambda writes to a Kafka on-failure destination: failure metadata plus the record in invoke-event shape. */
export function lambdaDeadLetter(value: string, offset: number) {
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

/**
 * Registers the hooks every failures test file shares: a mock Kafka cluster holding the sink's dead-letter topic
 * (one record Lambda wrote, one someone else did), a config dir, the stack's outputs and quiet SQS mocks, and an
 * empty quarantine before each test.
 */
export function useFailureStores(): void {
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
}

/** The queue returns `messages` once, then nothing (they are in flight). */
export const queueHolds = (queueUrl: string, messages: Message[]) =>
  sqs.on(ReceiveMessageCommand, { QueueUrl: queueUrl }).resolvesOnce({ Messages: messages }).resolves({});

export const run = (args: string[]) =>
  cli(args, {
    environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
    clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
    configDir: dir,
  });

export const sentBodies = () =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      queue: call.args[0].input.QueueUrl,
      body: entry.MessageBody ?? '',
    })),
  );

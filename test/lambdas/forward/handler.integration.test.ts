/**
 * The forwarder handler against a real Kafka-protocol broker (librdkafka's mock cluster) with injected faults.
 * For each fault: exactly the right batchItemFailures, the handler returns before the Lambda deadline, and after
 * SQS-style redelivery of the failed items every valid record is in Kafka.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ForwarderEnvironmentSchema } from '../../../contracts/environment';
import { KafkaHeader } from '../../../contracts/kafka-headers';
import { createHandler, type ForwarderHandler } from '../../../lambdas/forward/create-handler';
import { lambdaContext, sqsEvent, sqsRecord, telemetryBatch } from '../../helpers/factories';
import { ApiKey, KafkaErrorCode, KafkaMockCluster } from '../../helpers/kafka-mock';
import { readTopic, totalCount } from '../../helpers/kafka-read';

const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/telemetry-ingest-dlq';
const PARTITIONS = 6;
const sqsMock = mockClient(SQSClient);

let cluster: KafkaMockCluster;
let topic: string;
let handler: ForwarderHandler;
let topicNumber = 0;

beforeAll(() => {
  cluster = KafkaMockCluster.start({ brokers: 3 });
});

afterAll(() => {
  cluster.stop();
});

beforeEach(() => {
  topic = `telemetry-${++topicNumber}`;
  cluster.createTopic(topic, PARTITIONS);
  // Spread leadership evenly (the mock picks leaders at random): partition p is led by broker p % 3 + 1
  for (let p = 0; p < PARTITIONS; p++) cluster.setPartitionLeader(topic, p, (p % cluster.brokerIds.length) + 1);
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  handler = createHandler(
    ForwarderEnvironmentSchema.parse({
      KAFKA_BROKERS: cluster.bootstrapServers.join(','),
      KAFKA_TOPIC: topic,
      DLQ_URL,
    }),
    new SQSClient({}),
  );
});

afterEach(async () => {
  for (const id of cluster.brokerIds) {
    cluster.brokerUp(id);
    cluster.setRtt(id, 0);
  }
  await handler.close();
});

/** The leader broker of each record's partition, as the producer's partitioner will choose it. */
async function leaderOf(records: readonly SQSRecord[]): Promise<Map<string, number>> {
  const admin = new Kafka({ brokers: [...cluster.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.disconnect();
  const partitionMetadata = metadata.topics[0]?.partitions ?? [];
  const partitioner = Partitioners.DefaultPartitioner();
  return new Map(
    records.map((record) => {
      const partition = partitioner({
        topic,
        partitionMetadata,
        message: { key: JSON.parse(record.body).deviceId, value: '' },
      });
      return [record.messageId, partitionMetadata.find((p) => p.partitionId === partition)?.leader ?? -1];
    }),
  );
}

/** Invokes the handler like Lambda would, timing it against the context's deadline. */
async function invoke(records: SQSRecord[], remainingMs = 6_000) {
  const context = lambdaContext(remainingMs);
  const response = await handler(sqsEvent(records), context);
  return {
    failed: response.batchItemFailures.map((f) => f.itemIdentifier),
    remainingAtReturn: context.getRemainingTimeInMillis(),
  };
}

/** SQS redelivery: the failed items come back, same message ids and bodies, until none fail (bounded). */
async function redeliverUntilDone(records: SQSRecord[], failed: string[]) {
  let pending = failed;
  for (let round = 0; round < 5 && pending.length > 0; round++) {
    const again = records
      .filter((r) => pending.includes(r.messageId))
      .map((r) => ({ ...r, attributes: { ...r.attributes, ApproximateReceiveCount: String(round + 2) } }));
    pending = (await invoke(again)).failed;
  }
  expect(pending).toEqual([]);
}

const eventIds = (records: readonly SQSRecord[]) => records.map((r) => JSON.parse(r.body).eventId as string).sort();

describe('forwarder handler against the Kafka mock cluster', () => {
  it('lands every valid record with its device key, one partition per device, and the tracing headers', async () => {
    // Given 200 readings from 20 devices and two invalid messages
    const valid = telemetryBatch(200, 20);
    const invalid = [sqsRecord('not json'), sqsRecord({ deviceId: { $ne: null } })];
    // When the batch is forwarded
    const { failed } = await invoke([...valid, ...invalid]);
    // Then nothing is reported failed and the invalid ones went to the DLQ
    expect(failed).toEqual([]);
    const dlqEntries = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(dlqEntries.map((e) => e.MessageBody)).toEqual(invalid.map((r) => r.body));
    expect(dlqEntries.map((e) => e.MessageAttributes?.['failure.reason']?.StringValue)).toEqual([
      'not_json',
      'unsafe_key',
    ]);

    // And Kafka holds each valid record once, keyed by device, each device in a single partition
    const stored = await readTopic(cluster.bootstrapServers, topic, valid.length);
    expect(stored).toHaveLength(valid.length);
    expect(stored.map((r) => r.headers[KafkaHeader.EventId]).sort()).toEqual(eventIds(valid));
    const partitionsByDevice = new Map<string, Set<number>>();
    for (const record of stored) {
      const envelope = JSON.parse(record.value);
      expect(record.key).toBe(envelope.deviceId);
      expect(record.headers).toEqual({
        [KafkaHeader.EventId]: envelope.eventId,
        [KafkaHeader.ReceivedAt]: String(envelope.receivedAt),
        [KafkaHeader.SchemaVersion]: '1',
        [KafkaHeader.SourceTopic]: envelope.sourceTopic,
        [KafkaHeader.TraceId]: envelope.traceId,
        [KafkaHeader.ContentType]: 'application/json',
      });
      partitionsByDevice.set(record.key, (partitionsByDevice.get(record.key) ?? new Set()).add(record.partition));
    }
    expect(partitionsByDevice.size).toBe(20);
    for (const partitions of partitionsByDevice.values()) expect(partitions.size).toBe(1);
    expect(new Set(stored.map((r) => r.partition)).size).toBeGreaterThan(1);
  });

  it('rides out retriable Produce errors with no failures and no duplicates', async () => {
    const records = telemetryBatch(120, 12);
    cluster.pushRequestErrors(ApiKey.Produce, [
      KafkaErrorCode.NotLeaderForPartition,
      KafkaErrorCode.NotEnoughReplicas,
      KafkaErrorCode.RequestTimedOut,
    ]);
    const { failed } = await invoke(records);
    expect(failed).toEqual([]);
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(120);
  });

  it('reports exactly the records of the request that got a non-retriable Produce error', async () => {
    const records = telemetryBatch(120, 12);
    const leaders = await leaderOf(records);
    cluster.pushRequestErrors(ApiKey.Produce, [KafkaErrorCode.InvalidRecord]);

    const { failed } = await invoke(records);

    // One request failed: its records share one leader broker, and they are all of that broker's records
    const failedLeaders = new Set(failed.map((id) => leaders.get(id)));
    expect(failedLeaders.size).toBe(1);
    const [leader] = [...failedLeaders];
    expect(failed.sort()).toEqual(
      records
        .filter((r) => leaders.get(r.messageId) === leader)
        .map((r) => r.messageId)
        .sort(),
    );
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(120 - failed.length);

    await redeliverUntilDone(records, failed);
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(120);
  });

  it('with one broker down, reports exactly the records it leads; redelivery completes the set', async () => {
    const records = telemetryBatch(150, 30);
    const leaders = await leaderOf(records);
    const down = leaders.get(records[0]!.messageId)!;
    const expected = records.filter((r) => leaders.get(r.messageId) === down).map((r) => r.messageId);
    expect(expected.length).toBeLessThan(records.length);
    cluster.brokerDown(down);

    const { failed, remainingAtReturn } = await invoke(records);

    expect(failed.sort()).toEqual(expected.sort());
    expect(remainingAtReturn).toBeGreaterThan(0);

    cluster.brokerUp(down);
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(150 - expected.length);
    await redeliverUntilDone(records, failed);
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(150);
  });

  it('with all brokers down, reports every valid record and returns before the deadline', async () => {
    const records = telemetryBatch(50, 10);
    const invalid = sqsRecord('{"truncated":');
    for (const id of cluster.brokerIds) cluster.brokerDown(id);

    const { failed, remainingAtReturn } = await invoke([...records, invalid], 4_000);

    expect(failed.sort()).toEqual(records.map((r) => r.messageId).sort());
    expect(remainingAtReturn).toBeGreaterThan(0);
    // The invalid record still reached the DLQ: a Kafka outage does not block bad-input handling
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);

    for (const id of cluster.brokerIds) cluster.brokerUp(id);
    await redeliverUntilDone(records, failed);
    expect(await totalCount(cluster.bootstrapServers, topic)).toBe(50);
  });

  it('with a broker slower than the remaining time, reports exactly its records and returns in time', async () => {
    const records = telemetryBatch(90, 18);
    const leaders = await leaderOf(records);
    const slow = leaders.get(records[0]!.messageId)!;
    const expected = records.filter((r) => leaders.get(r.messageId) === slow).map((r) => r.messageId);
    expect(expected.length).toBeLessThan(records.length);
    // Warm the connection, then make one broker answer after 8 s when only 3 s remain
    expect((await invoke(telemetryBatch(1, 1))).failed).toEqual([]);
    cluster.setRtt(slow, 8_000);

    const { failed, remainingAtReturn } = await invoke(records, 3_000);

    expect(failed.sort()).toEqual(expected.sort());
    expect(remainingAtReturn).toBeGreaterThan(0);

    cluster.setRtt(slow, 0);
    await redeliverUntilDone(records, failed);
    // The slow request may still have been appended after the deadline: duplicates are allowed, losses are not
    const wanted = new Set(eventIds(records));
    const stored = await readTopic(cluster.bootstrapServers, topic, (read) =>
      [...wanted].every((id) => read.some((r) => r.headers[KafkaHeader.EventId] === id)),
    );
    const storedIds = new Set(stored.map((r) => r.headers[KafkaHeader.EventId]));
    for (const id of eventIds(records)) expect(storedIds.has(id)).toBe(true);
  });
});

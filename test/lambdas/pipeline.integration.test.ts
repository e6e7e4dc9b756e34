/**
 * Forwarder to sink through a real Kafka-protocol broker: records produced by the forwarder handler into the
 * librdkafka mock cluster, consumed by a kafkajs consumer group, handed to the sink handler in the exact event
 * shape Lambda's Kafka event source delivers, then the same offsets replayed. Every reading is stored once and
 * each device's latest state is its newest reading.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForwarderEnvironmentSchema, SinkEnvironmentSchema } from '../../contracts/environment';
import { KafkaHeader } from '../../contracts/kafka-headers';
import { createHandler as createForwarder } from '../../lambdas/forward/create-handler';
import { createHandler as createSink } from '../../lambdas/sink/create-handler';
import {
  devicePayload,
  envelope,
  esmEvents,
  httpsEnvelope,
  lambdaContext,
  NOW,
  sqsEvent,
  sqsRecord,
} from '../helpers/factories';
import { KafkaMockCluster } from '../helpers/kafka-mock';
import { readTopic } from '../helpers/kafka-read';
import { memoryStores } from '../helpers/sink-stores';

const TOPIC = 'telemetry.readings.v1';
const sqsMock = mockClient(SQSClient);
let cluster: KafkaMockCluster;

beforeAll(() => {
  cluster = KafkaMockCluster.start({ brokers: 3 });
  cluster.createTopic(TOPIC, 6);
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});
afterAll(() => cluster.stop());

describe('forwarder → Kafka → sink', () => {
  it('stores every reading exactly once and the newest state per device, across duplicates, disorder and replay', async () => {
    // Given 30 devices × 10 readings, sent out of order, with every 7th reading resent by its device
    const devices = 30;
    const perDevice = 10;
    const readings = [];
    for (let d = 0; d < devices; d++) {
      for (let seq = 0; seq < perDevice; seq++) {
        readings.push(envelope(`sensor-${d}`, devicePayload({ seq, ts: NOW - 100_000 + seq * 1_000 })));
      }
    }
    const shuffled = readings
      .map((r, i) => ({ r, k: (i * 7919) % readings.length }))
      .sort((a, b) => a.k - b.k)
      .map(({ r }) => r);
    const resent = shuffled.filter((_, i) => i % 7 === 0);
    const malformed = [sqsRecord('{"deviceId":'), sqsRecord({ ...envelope('sensor-1'), $where: '1' })];
    const forwarder = createForwarder(
      ForwarderEnvironmentSchema.parse({
        KAFKA_BROKERS: cluster.bootstrapServers.join(','),
        KAFKA_TOPIC: TOPIC,
        DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      }),
      new SQSClient({}),
    );
    const sent = [...shuffled, ...resent].map((r) => sqsRecord(r));
    for (let i = 0; i < sent.length; i += 100) {
      const response = await forwarder(
        sqsEvent([...sent.slice(i, i + 100), ...(i === 0 ? malformed : [])]),
        lambdaContext(10_000),
      );
      expect(response.batchItemFailures).toEqual([]);
    }
    await forwarder.close();

    // When the sink consumes them as the event source would, twice (a replay of the same offsets)
    const consumed = await readTopic(cluster.bootstrapServers, TOPIC, sent.length);
    const events = esmEvents(consumed, TOPIC, 64);
    const stores = memoryStores();
    const sink = createSink(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:1' }), { stores });
    for (let pass = 0; pass < 2; pass++) {
      for (const event of events) expect((await sink(event, lambdaContext(10_000))).batchItemFailures).toEqual([]);
    }

    // Then each reading is stored once, with its Kafka position, and each device shows its newest reading
    expect(consumed).toHaveLength(devices * perDevice + resent.length);
    expect(stores.readings.docs.size).toBe(devices * perDevice);
    expect(new Set(stores.readings.all().map((doc) => doc._id))).toEqual(new Set(readings.map((r) => r.eventId)));
    for (let d = 0; d < devices; d++) {
      expect(stores.devices.get(`sensor-${d}`)).toMatchObject({
        seq: perDevice - 1,
        ts: new Date(NOW - 100_000 + (perDevice - 1) * 1_000),
      });
    }
    // And the malformed messages never reached Kafka: the forwarder parked them in its DLQ
    const parked = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(parked.map((e) => e.MessageBody)).toEqual(malformed.map((m) => m.body));
    expect(stores.quarantine.docs.size).toBe(0);
  });

  it('stores a reading published over HTTPS, which has no trace id, like any other', async () => {
    // Given a reading published with iot-data Publish (HTTPS): IoT's traceid() is Undefined, so no traceId
    // (AWS IoT Core Developer Guide, "Functions", traceid(): https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html)
    const reading = httpsEnvelope('sensor-https', devicePayload({ seq: 1 }));
    expect(reading).not.toHaveProperty('traceId');
    const topic = 'telemetry.https.v1';
    cluster.createTopic(topic, 1);
    const forwarder = createForwarder(
      ForwarderEnvironmentSchema.parse({
        KAFKA_BROKERS: cluster.bootstrapServers.join(','),
        KAFKA_TOPIC: topic,
        DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      }),
      new SQSClient({}),
    );
    sqsMock.resetHistory();

    // When it goes through the forwarder, Kafka and the sink
    const response = await forwarder(sqsEvent([sqsRecord(reading)]), lambdaContext(10_000));
    await forwarder.close();
    // Then it is forwarded, not dead-lettered
    expect(response.batchItemFailures).toEqual([]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const consumed = await readTopic(cluster.bootstrapServers, topic, 1);
    const stores = memoryStores();
    const sink = createSink(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:1' }), { stores });
    const [event] = esmEvents(consumed, topic, 64);
    if (!event) throw new Error('no event built from the consumed record');
    const stored = await sink(event, lambdaContext(10_000));

    // And produced without a trace-id header, then stored without a traceId
    expect(consumed).toHaveLength(1);
    expect(consumed[0]?.headers).not.toHaveProperty(KafkaHeader.TraceId);
    expect(consumed[0]?.headers).toHaveProperty(KafkaHeader.EventId, reading.eventId);
    expect(stored.batchItemFailures).toEqual([]);
    expect(stores.quarantine.docs.size).toBe(0);
    const document = stores.readings.get(reading.eventId);
    expect(document).toMatchObject({ deviceId: 'sensor-https', seq: 1 });
    expect(document).not.toHaveProperty('traceId');
  });
});

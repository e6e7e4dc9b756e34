/**
 * The forwarder exactly as deployed: the esbuild bundle that `cdk synth` produces, loaded with `require` and invoked
 * against the Kafka mock cluster and a loopback SQS endpoint. Proves the bundle has no missing externals and that
 * kafkajs, the bundled AWS SDK (request signing, checksum validation) and Powertools work minified.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaHeader } from '../../../contracts/kafka-headers';
import { lambdaContext, sqsEvent, sqsRecord, telemetryBatch } from '../../helpers/factories';
import { FakeSqs } from '../../helpers/fake-sqs';
import { KafkaMockCluster } from '../../helpers/kafka-mock';
import { readTopic } from '../../helpers/kafka-read';
import { synthStack } from '../../helpers/synth';
import { BODY_CASES } from '../corpus/cases';

type BundledHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const TOPIC = 'telemetry.readings.v1';

let outdir: string;
let bundlePath: string;
let cluster: KafkaMockCluster;
let sqs: FakeSqs;
let handler: BundledHandler;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // Given the bundle produced by synth
  outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const { template } = synthStack({}, { bundle: true, outdir });
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  const s3Key = String(fn?.Properties?.Code?.S3Key ?? '');
  bundlePath = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.js');

  // And a Kafka broker and an SQS endpoint on loopback, configured the way the stack configures the function
  cluster = KafkaMockCluster.start({ brokers: 3 });
  cluster.createTopic(TOPIC, 6);
  sqs = await FakeSqs.start();
  Object.assign(process.env, {
    KAFKA_BROKERS: cluster.bootstrapServers.join(','),
    KAFKA_TOPIC: TOPIC,
    KAFKA_CLIENT_ID: 'smoke',
    // The SQS client sends to the queue URL's host, so a loopback queue URL reaches the fake endpoint
    DLQ_URL: `${sqs.endpoint}/123456789012/telemetry-ingest-dlq`,
  });
  // When Lambda would load it
  handler = (require(bundlePath) as { handler: BundledHandler }).handler;
});

afterAll(async () => {
  process.env = savedEnv;
  await sqs?.stop();
  cluster?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('forwarder bundle (as deployed)', () => {
  it('is one self-contained file', () => {
    expect(existsSync(bundlePath)).toBe(true);
    expect(statSync(bundlePath).size).toBeGreaterThan(100_000);
  });

  it('forwards valid records to Kafka and parks invalid ones in the DLQ through the bundled AWS SDK', async () => {
    const valid = telemetryBatch(40, 8);
    const invalid = sqsRecord('{"deviceId":{"$ne":null}}');

    const response = await handler(sqsEvent([...valid, invalid]), lambdaContext(10_000));

    expect(response.batchItemFailures).toEqual([]);
    const stored = await readTopic(cluster.bootstrapServers, TOPIC, valid.length);
    expect(stored.map((r) => r.headers[KafkaHeader.EventId]).sort()).toEqual(
      valid.map((r) => JSON.parse(r.body).eventId).sort(),
    );
    expect(sqs.messages).toEqual([
      {
        queueUrl: process.env.DLQ_URL,
        body: invalid.body,
        attributes: expect.objectContaining({
          'failure.stage': { DataType: 'String', StringValue: 'forward' },
          'failure.reason': { DataType: 'String', StringValue: 'unsafe_key' },
        }),
      },
    ]);
  });

  it('gives every corpus body the outcome the core gives it: produced byte for byte, or parked with its reason', async () => {
    // Given the hostile-input corpus (test/lambdas/corpus/cases.ts) as one SQS batch
    const records = BODY_CASES.map((c) => sqsRecord(c.body));
    const parkedBefore = sqs.messages.length;
    // When the bundled forwarder handles it
    const response = await handler(sqsEvent(records), lambdaContext(10_000));
    // Then nothing is retried, every valid body reached Kafka as it was, every other one sits in the DLQ with its reason
    expect(response.batchItemFailures).toEqual([]);
    const passing = BODY_CASES.filter((c) => c.forwarder === 'pass').map((c) => c.body);
    const stored = await readTopic(cluster.bootstrapServers, TOPIC, (read) =>
      passing.every((body) => read.some((r) => r.value === body)),
    );
    expect(passing.every((body) => stored.some((r) => r.value === body))).toBe(true);
    const parked = sqs.messages.slice(parkedBefore);
    const reasonOf = (sourceId: string) =>
      parked.find((m) => m.attributes['failure.sourceId']?.StringValue === sourceId)?.attributes['failure.reason']
        ?.StringValue;
    expect(records.map((r) => reasonOf(r.messageId) ?? 'pass')).toEqual(BODY_CASES.map((c) => c.forwarder));
  });

  it('reports every record when all brokers are down, before the deadline, and recovers once they are back', async () => {
    for (const id of cluster.brokerIds) cluster.brokerDown(id);
    const records = telemetryBatch(10, 5);
    const context = lambdaContext(3_000);

    const response = await handler(sqsEvent(records), context);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    for (const id of cluster.brokerIds) cluster.brokerUp(id);
    const retried = await handler(sqsEvent(records), lambdaContext(10_000));
    expect(retried.batchItemFailures).toEqual([]);
  });
});

/** `status` against mocked SQS, CloudFormation and CloudWatch, the librdkafka mock cluster, and an in-memory quarantine. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import { DeadLetterTopic } from '../../ops/failures/dead-letter-topic';
import type { QuarantineCollection } from '../../ops/failures/stores';
import type { StatusReport } from '../../ops/status';
import { cli, configDir } from '../helpers/cli';
import { KafkaMockCluster } from '../helpers/kafka-mock';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
const TOPIC = 'telemetry.readings.v1';
const GROUP = 'TelemetryPipeline-dev-sink';

const sqs = mockClient(SQSClient);
const cloudFormation = mockClient(CloudFormationClient);
const cloudWatch = mockClient(CloudWatchClient);

const quarantine: QuarantineCollection = {
  find: () => ({ toArray: async () => [] as QuarantineDocument[] }),
  deleteOne: async () => ({ deletedCount: 0 }),
  countDocuments: async () => 2,
};

let cluster: KafkaMockCluster;
let dir: string;

beforeAll(async () => {
  cluster = KafkaMockCluster.start({ brokers: 1 });
  cluster.createTopic(TOPIC, 2);
  cluster.createTopic(`${TOPIC}.sink-dlt`, 1);
  const kafka = new Kafka({ clientId: 'test', brokers: [...cluster.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: [
      ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `a${i}` })),
      ...Array.from({ length: 5 }, (_, i) => ({ partition: 1, value: `b${i}` })),
    ],
  });
  await producer.send({ topic: `${TOPIC}.sink-dlt`, acks: -1, messages: [{ value: 'x' }] });
  await producer.disconnect();
  // The sink's group has stored 3 of partition 0 and all of partition 1: 7 behind
  await new DeadLetterTopic(kafka, TOPIC, GROUP).markRedriven(
    new Map([
      [0, 3n],
      [1, 5n],
    ]),
  );
  dir = configDir({ alarms: { maxOffsetLag: 5, maxDeadLetterMessages: 0 } });
});
afterAll(() => cluster.stop());

beforeEach(() => {
  sqs.reset();
  cloudFormation.reset();
  cloudWatch.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'TelemetryPipeline-dev',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: 'IngestQueueUrl', OutputValue: `${URL}/ingest` },
          { OutputKey: 'DeadLetterQueueUrl', OutputValue: `${URL}/dlq` },
          { OutputKey: 'ErrorQueueUrl', OutputValue: `${URL}/errors` },
        ],
      },
    ],
  });
  const depth = (visible: number, inFlight: number) => ({
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
    },
  });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: `${URL}/ingest` }).resolves(depth(40, 10));
  sqs.on(GetQueueAttributesCommand, { QueueUrl: `${URL}/errors` }).resolves(depth(0, 0));
  sqs.on(GetQueueAttributesCommand, { QueueUrl: `${URL}/dlq` }).resolves(depth(3, 0));
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'deviceP50', Values: [1_200] },
      { Id: 'deviceP99', Values: [4_800] },
      { Id: 'ingestP50', Values: [900] },
      { Id: 'ingestP99', Values: [150_000] },
      { Id: 'ingestAge', Values: [12, 30] },
    ],
  });
});

const run = (
  args: string[],
  clients: { quarantine?: QuarantineCollection } = { quarantine },
  brokers = cluster.bootstrapServers.join(','),
) =>
  cli(args, {
    environment: { KAFKA_BROKERS: brokers },
    clients: {
      sqs: new SQSClient({}),
      cloudFormation: new CloudFormationClient({}),
      cloudWatch: new CloudWatchClient({}),
      ...clients,
    },
    configDir: dir,
  });

describe('status', () => {
  it('reads every part and lists what is past its threshold', async () => {
    // Given every part readable (the mocks above): queues, Kafka lag 7 over a maximum of 5, dead letters, quarantine, freshness
    // When status runs
    const result = await run(['status', '--json']);

    // Then each part is reported, and each one past its threshold is listed with what to run
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.queues).toEqual({
      ok: true,
      value: {
        ingest: { visible: 40, inFlight: 10, delayed: 0, oldestAgeSeconds: 12 },
        ingestErrors: { visible: 0, inFlight: 0, delayed: 0 },
        deadLetter: { visible: 3, inFlight: 0, delayed: 0 },
      },
    });
    expect(report.kafka).toEqual({
      ok: true,
      value: { topic: TOPIC, group: GROUP, lag: 7, partitions: 2, partitionsWithoutCommit: 0 },
    });
    expect(report.deadLetterTopic).toEqual({ ok: true, value: { topic: `${TOPIC}.sink-dlt`, pending: 1 } });
    expect(report.quarantine).toEqual({ ok: true, value: { records: 2 } });
    expect(report.freshness).toEqual({
      ok: true,
      value: { windowMinutes: 15, deviceP50: 1_200, deviceP99: 4_800, ingestP50: 900, ingestP99: 150_000 },
    });
    expect(report.attention).toEqual([
      'ingest-dlq holds 3: npx telemetry-ops failures list --store ingest-dlq',
      `sink lag 7 > 5: npx telemetry-ops groups describe ${GROUP}`,
      'sink-dlt holds 1: npx telemetry-ops failures list --store sink-dlt',
      'quarantine holds 2: npx telemetry-ops failures list --store quarantine',
      'freshness p99 150.0 s > 120 s (README runbook, FreshnessP99High)',
    ]);
    // The freshness queries name the sink's metrics with both dimensions
    const queries = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    expect(queries.find((q) => q.Id === 'deviceP99')?.MetricStat).toEqual({
      Metric: {
        Namespace: 'TelemetryPipeline',
        MetricName: 'FreshnessDeviceMs',
        Dimensions: [
          { Name: 'service', Value: 'telemetry-sink' },
          { Name: 'pipeline', Value: 'TelemetryPipeline-dev' },
        ],
      },
      Period: 900,
      Stat: 'p99',
    });
  });

  it('on demand (no provisioned pollers), reports no dead-letter topic and reads no event source mapping metric', async () => {
    // Given an on-demand event source: no dead-letter topic, no event source mapping metrics (provisioned only)
    const onDemand = configDir({ sink: { provisionedPollers: null }, alarms: { maxOffsetLag: 5 } });
    const result = await cli(['status'], {
      environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
      clients: {
        sqs: new SQSClient({}),
        cloudFormation: new CloudFormationClient({}),
        cloudWatch: new CloudWatchClient({}),
        quarantine,
      },
      configDir: onDemand,
    });
    // Then the line says why there is none, and every other part still reads
    expect(result.stdout).toMatch(/sink-dlt\s+none \(on-demand event source\)/);
    expect(result.stdout).toMatch(/sink consumer lag\s+7 record\(s\) behind/);
    expect(result.stdout).not.toMatch(/unavailable/);
    const queries = cloudWatch
      .commandCalls(GetMetricDataCommand)
      .flatMap((call) => call.args[0].input.MetricDataQueries ?? []);
    expect(
      queries.some((q) => q.MetricStat?.Metric?.Dimensions?.some((d) => d.Name === 'EventSourceMappingUUID')),
    ).toBe(false);
  });

  it('shows the other parts when one cannot be read, and exits 1', async () => {
    // Given no MongoDB to read the quarantine from
    // No MongoDB: no MONGODB_URI and the deployed stack (mocked) has no MongoUriSecretArn output
    // When status runs
    const result = await run(['status'], {});

    // Then the quarantine is unavailable, the rest is shown, and one line says a part could not be read
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /quarantine\s+unavailable: Stack TelemetryPipeline-dev has no output MongoUriSecretArn/,
    );
    expect(result.stdout).toMatch(/sink consumer lag\s+7 record\(s\) behind on telemetry\.readings\.v1/);
    expect(result.stdout).toMatch(/ingest-dlq\s+3/);
    expect(result.stderr).toBe('error: 1 part(s) of the status could not be read\n');
  });

  it('reports unreachable Kafka as two unavailable parts, still showing the rest', async () => {
    // Given Kafka at an address nobody listens on
    // When status runs
    const result = await run(['status', '--json'], { quarantine }, '127.0.0.1:1');

    // Then the lag and the dead-letter topic are unavailable, every other part is read
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.kafka.ok).toBe(false);
    expect(report.deadLetterTopic.ok).toBe(false);
    expect(!report.kafka.ok && report.kafka.error).toMatch(/Kafka at 127\.0\.0\.1:1 is unreachable/);
    expect(report.queues.ok && report.quarantine.ok && report.freshness.ok).toBe(true);
    expect(result.stderr).toBe('error: 2 part(s) of the status could not be read\n');
  });
});

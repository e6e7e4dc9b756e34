/**
 * `verify` against mocked AWS APIs (aws-sdk-client-mock), the librdkafka mock cluster for the topics and the Kafka
 * record of the canary, and an in-memory readings collection that the mocked iot-data Publish fills as the pipeline
 * would.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { GetEventSourceMappingCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId } from '../../contracts/enrichment';
import type { ReadingDocument } from '../../lambdas/sink/documents';
import type { ReadingsCollection } from '../../ops/context';
import { mongoUriProblem, type VerifyReport } from '../../ops/verify';
import { cli } from '../helpers/cli';
import { KafkaMockCluster } from '../helpers/kafka-mock';

const TOPIC = 'telemetry.readings.v1';
const DLT = `${TOPIC}.sink-dlt`;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';
const ALARM_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:TelemetryPipeline-dev-Alarms';
const ALARM = 'TelemetryPipeline-dev-IngestAgeHigh';
const UUID = '6f3e0c2a-1b2c-4d5e-8f90-0123456789ab';
const VERIFY_REASON = 'telemetry-ops verify: testing that the alarm topic receives notifications';
const SUCCEEDED = {
  AlarmName: ALARM,
  HistoryItemType: 'Action' as const,
  Timestamp: new Date('2026-01-01T10:00:00Z'),
  HistorySummary: `Successfully executed action ${ALARM_TOPIC}`,
  HistoryData: `{"actionState":"Succeeded","notificationResource":"${ALARM_TOPIC}"}`,
};

const cloudFormation = mockClient(CloudFormationClient);
const secrets = mockClient(SecretsManagerClient);
const iot = mockClient(IoTClient);
const iotData = mockClient(IoTDataPlaneClient);
const lambda = mockClient(LambdaClient);
const cloudWatch = mockClient(CloudWatchClient);

let cluster: KafkaMockCluster;
let producer: Producer;
const stored = new Map<string, ReadingDocument>();
const readings: ReadingsCollection = { findById: async (eventId) => stored.get(eventId) ?? null };

/** What the pipeline does with a publish: IoT receives it 30 ms later, the forwarder produces it 120 ms after that
 * (the Kafka record's timestamp), the sink stores it 200 ms after that. */
async function pipeline(input: { topic?: string; payload?: Uint8Array }) {
  const payload = JSON.parse(new TextDecoder().decode(input.payload)) as { ts: number; seq: number };
  const deviceId = (input.topic ?? '').split('/')[1] ?? '';
  const receivedAt = payload.ts + 30;
  const forwardedAt = receivedAt + 120;
  const [sent] = await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: [{ key: deviceId, value: JSON.stringify(payload), timestamp: String(forwardedAt), partition: 1 }],
  });
  const eventId = deriveEventId(deviceId, payload.ts, payload.seq);
  stored.set(eventId, {
    _id: eventId,
    deviceId,
    ts: new Date(payload.ts),
    seq: payload.seq,
    receivedAt: new Date(receivedAt),
    readings: { canary: 1 },
    sourceTopic: input.topic ?? '',
    kafka: { partition: sent?.partition ?? -1, offset: Number(sent?.baseOffset) },
    storedAt: new Date(forwardedAt + 200),
  });
  return {};
}

beforeAll(async () => {
  cluster = KafkaMockCluster.start({ brokers: 1 });
  cluster.createTopic(TOPIC, 2);
  cluster.createTopic(DLT, 1);
  producer = new Kafka({
    clientId: 'test',
    brokers: [...cluster.bootstrapServers],
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  cluster.stop();
});

const outputs = (extra: Record<string, string> = {}) => ({
  Stacks: [
    {
      StackName: 'TelemetryPipeline-dev',
      CreationTime: new Date(),
      StackStatus: 'CREATE_COMPLETE' as const,
      Outputs: Object.entries({
        CredentialsSecretArn: `${ARN}:kafka`,
        MongoUriSecretArn: `${ARN}:mongo`,
        SinkFunctionName: 'TelemetryPipeline-dev-Sink',
        AlarmTopicArn: ALARM_TOPIC,
        SinkDeadLetterTopic: DLT,
        ...extra,
      }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    },
  ],
});

beforeEach(() => {
  stored.clear();
  for (const mock of [cloudFormation, secrets, iot, iotData, lambda, cloudWatch]) mock.reset();
  cloudFormation.on(DescribeStacksCommand).resolves(outputs());
  secrets
    .on(GetSecretValueCommand, { SecretId: `${ARN}:kafka` })
    .resolves({ SecretString: JSON.stringify({ username: 'KEY123', password: 'hunter2-secret' }) })
    .on(GetSecretValueCommand, { SecretId: `${ARN}:mongo` })
    .resolves({ SecretString: JSON.stringify({ uri: 'mongodb+srv://sink:pa55word@cluster0.example.mongodb.net/' }) });
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc123-ats.iot.eu-west-1.amazonaws.com' });
  iotData.on(PublishCommand).callsFake(pipeline);
  lambda.on(ListEventSourceMappingsCommand).resolves({
    EventSourceMappings: [
      { UUID: 'sqs-mapping' },
      { UUID, SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: ['b:9092'] } } },
    ],
  });
  lambda.on(GetEventSourceMappingCommand, { UUID }).resolves({ UUID, State: 'Enabled', LastProcessingResult: 'OK' });
  cloudWatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      {
        AlarmName: 'TelemetryPipeline-dev-Other',
        AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:else'],
        StateValue: 'OK',
      },
      { AlarmName: ALARM, AlarmActions: [ALARM_TOPIC], OKActions: [ALARM_TOPIC], StateValue: 'OK' },
    ],
  });
  // After verify's SetAlarmState the alarm holds verify's ALARM, until CloudWatch evaluates it again
  cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: [ALARM] }).resolves({
    MetricAlarms: [{ AlarmName: ALARM, StateValue: 'ALARM', StateReason: VERIFY_REASON }],
  });
  cloudWatch.on(SetAlarmStateCommand).resolves({});
  // The history has no action before verify sets the state, and CloudWatch's SNS action after
  cloudWatch
    .on(DescribeAlarmHistoryCommand)
    .resolvesOnce({ AlarmHistoryItems: [] })
    .resolves({ AlarmHistoryItems: [SUCCEEDED] });
});

const run = (args: string[]) =>
  cli(args, {
    environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
    clients: {
      cloudFormation: new CloudFormationClient({}),
      secretsManager: new SecretsManagerClient({}),
      iot: new IoTClient({}),
      iotData: new IoTDataPlaneClient({}),
      lambda: new LambdaClient({}),
      cloudWatch: new CloudWatchClient({}),
      readings,
    },
  });

describe('verify', () => {
  it('passes every check of a working pipeline, with the time each stage of the canary took', async () => {
    // When verify runs against a pipeline where everything works
    const result = await run(['verify', '--json']);

    // Then every check passes and the exit code is 0
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report.checks.map((check) => [check.name, check.ok])).toEqual([
      ['Confluent secret', true],
      ['Atlas secret', true],
      ['Kafka topics', true],
      ['canary reading', true],
      ['Kafka event source', true],
      ['alarm topic', true],
    ]);
    // And the canary went to the canary device's topic, with seq, so its event id was known in advance
    const [publish] = iotData.commandCalls(PublishCommand);
    expect(publish?.args[0].input).toMatchObject({ topic: 'sensors/telemetry-ops-verify/telemetry', qos: 1 });
    // And the stage times come from receivedAt, the Kafka record's timestamp and storedAt
    expect(report.canary).toMatchObject({ iotMs: 30, forwardMs: 120, sinkMs: 200, totalMs: 350 });
    expect(report.canary?.eventId).toMatch(/^[0-9a-f]{64}$/);
    // And the alarm went to ALARM, CloudWatch's action was found in its history, and it went back to OK
    expect(
      cloudWatch.commandCalls(SetAlarmStateCommand).map((c) => [c.args[0].input.AlarmName, c.args[0].input.StateValue]),
    ).toEqual([
      [ALARM, 'ALARM'],
      [ALARM, 'OK'],
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmHistoryCommand)[0]?.args[0].input).toMatchObject({
      AlarmName: ALARM,
      HistoryItemType: 'Action',
    });
    // And no secret value appears anywhere in the output
    expect(result.stdout).not.toMatch(/hunter2|pa55word|KEY123/);
  });

  it('prints one ✓ line per check for people', async () => {
    // Given a deployed pipeline whose every check passes (the mocks above)
    // When verify runs for people
    const result = await run(['verify']);
    // Then each check is one ✓ line, the canary's with its latencies
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('Pipeline TelemetryPipeline-dev (eu-west-1)');
    expect(lines.slice(1, -1).every((line) => line.startsWith('✓ '))).toBe(true);
    expect(lines).toHaveLength(8);
    expect(result.stdout).toMatch(
      /✓ canary reading: sensors\/telemetry-ops-verify\/telemetry → MongoDB: IoT 30 ms, forwarder 120 ms, sink 200 ms, total 350 ms/,
    );
    expect(lines.at(-1)).toBe('All checks passed.');
  });

  it('marks each broken part ✗ with what to do, still runs the rest, and exits 1', async () => {
    // Given empty secrets (as the stack creates them), a disabled event source, no dead-letter topic, and a
    // CloudWatch that cannot publish to the topic
    secrets
      .on(GetSecretValueCommand, { SecretId: `${ARN}:kafka` })
      .resolves({ SecretString: JSON.stringify({ username: '', password: 'hunter2-secret' }) })
      .on(GetSecretValueCommand, { SecretId: `${ARN}:mongo` })
      .resolves({ SecretString: JSON.stringify({ uri: 'https://pa55word@example.com' }) });
    cloudFormation.on(DescribeStacksCommand).resolves(outputs({ SinkDeadLetterTopic: 'no-such-topic' }));
    lambda.on(GetEventSourceMappingCommand, { UUID }).resolves({ UUID, State: 'Disabled', LastProcessingResult: 'OK' });
    cloudWatch
      .on(DescribeAlarmHistoryCommand)
      .resolvesOnce({ AlarmHistoryItems: [] })
      .resolves({
        AlarmHistoryItems: [
          {
            HistoryItemType: 'Action',
            HistorySummary: `Failed to execute action ${ALARM_TOPIC}. Received error: "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."`,
          },
        ],
      });

    // When verify runs
    const result = await run(['verify']);

    // Then each broken part is its own ✗ line with its fix, the working canary still ✓, and the exit code 1
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain(`✗ Confluent secret: ${ARN}:kafka: username empty`);
    expect(out).toContain(`aws secretsmanager put-secret-value --secret-id ${ARN}:kafka`);
    expect(out).toContain(`✗ Atlas secret: ${ARN}:mongo: uri does not start with mongodb+srv:// or mongodb://`);
    expect(out).toContain('✗ Kafka topics: missing on');
    expect(out).toContain('confluent kafka topic create no-such-topic --partitions 6');
    expect(out).toMatch(/✓ canary reading/);
    expect(out).toContain(`✗ Kafka event source: ${UUID}: Disabled`);
    expect(out).toContain(`aws lambda update-event-source-mapping --uuid ${UUID} --enabled`);
    expect(out).toContain(`✗ alarm topic: ${ALARM} → ${ALARM_TOPIC}: CloudWatch failed to publish`);
    expect(out).not.toMatch(/hunter2|pa55word/);
    expect(result.stderr).toBe(
      'error: 5 check(s) failed: Confluent secret, Atlas secret, Kafka topics, Kafka event source, alarm topic\n',
    );
    // And the alarm is set back to OK even though the test failed
    expect(cloudWatch.commandCalls(SetAlarmStateCommand).at(-1)?.args[0].input.StateValue).toBe('OK');
  });

  it('says where the canary went when it never reaches MongoDB', async () => {
    // Given a canary that IoT takes but that never reaches MongoDB
    iotData.on(PublishCommand).resolves({});

    // When verify runs with a 5 s timeout
    const result = await run(['verify', '--timeout', '5', '--json']);

    // Then the canary check fails, naming the topic and event id, with where to look next
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as VerifyReport;
    const canary = report.checks.find((check) => check.name === 'canary reading');
    expect(canary).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /^published to sensors\/telemetry-ops-verify\/telemetry \(event id [0-9a-f]{64}\); not in MongoDB after 5 s$/,
      ),
      fix: expect.stringContaining('npx telemetry-ops failures list'),
    });
    expect(report.canary).toBeNull();
  }, 20_000);

  it('reports a last processing result other than OK with the likely cause', async () => {
    // Given an event source mapping whose last processing result is a SASL failure
    lambda
      .on(GetEventSourceMappingCommand, { UUID })
      .resolves({ UUID, State: 'Enabled', LastProcessingResult: 'PROBLEM: SASL authentication failed' });
    // When verify runs / Then the Kafka event source check fails with the likely cause
    const report = JSON.parse((await run(['verify', '--json'])).stdout) as VerifyReport;
    expect(report.checks.find((check) => check.name === 'Kafka event source')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('Confluent API key'),
    });
  });
});

describe('verify: the alarm topic check', () => {
  const alarm = (name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA') => ({
    AlarmName: name,
    AlarmActions: [ALARM_TOPIC],
    StateValue: state,
  });
  /** The stack's alarms, and the one verify set, as DescribeAlarms returns them after its SetAlarmState. */
  const alarmsAre = (alarms: ReturnType<typeof alarm>[]) =>
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: alarms })
      .on(DescribeAlarmsCommand, { AlarmNames: [ALARM] })
      .resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue: 'ALARM', StateReason: VERIFY_REASON }] });
  const setStates = () =>
    cloudWatch.commandCalls(SetAlarmStateCommand).map((c) => [c.args[0].input.AlarmName, c.args[0].input.StateValue]);

  it('never tests an alarm in ALARM: takes one in INSUFFICIENT_DATA and sets it back to INSUFFICIENT_DATA', async () => {
    // Given the first alarm that notifies the topic is in ALARM (a real incident), another in INSUFFICIENT_DATA
    const other = 'TelemetryPipeline-dev-SinkErrors';
    alarmsAre([alarm(other, 'ALARM'), alarm(ALARM, 'INSUFFICIENT_DATA')]);

    // When verify runs
    const report = JSON.parse((await run(['verify', '--json'])).stdout) as VerifyReport;

    // Then it tests the INSUFFICIENT_DATA one, returns it to INSUFFICIENT_DATA, and never touches the one in ALARM
    expect(report.checks.find((check) => check.name === 'alarm topic')?.ok).toBe(true);
    expect(setStates()).toEqual([
      [ALARM, 'ALARM'],
      [ALARM, 'INSUFFICIENT_DATA'],
    ]);
  });

  it('prefers an alarm in OK over one in INSUFFICIENT_DATA', async () => {
    // Given one alarm in INSUFFICIENT_DATA and one in OK notifying the topic
    alarmsAre([alarm('TelemetryPipeline-dev-Unknown', 'INSUFFICIENT_DATA'), alarm(ALARM, 'OK')]);
    // When verify runs
    await run(['verify', '--json']);
    // Then the alarm in OK is the one set to ALARM and back
    expect(setStates()).toEqual([
      [ALARM, 'ALARM'],
      [ALARM, 'OK'],
    ]);
  });

  it('skips the check, saying why, when every alarm is in ALARM, and changes no state', async () => {
    // Given every alarm that notifies the topic is in ALARM
    alarmsAre([alarm(ALARM, 'ALARM'), alarm('TelemetryPipeline-dev-SinkErrors', 'ALARM')]);

    // When verify runs
    const result = await run(['verify']);

    // Then the check is skipped with the reason, the run still passes, and no alarm state was set
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/– alarm topic: skipped, every alarm that notifies .* is in ALARM now/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('All checks passed (1 skipped).');
    expect(setStates()).toEqual([]);
  });

  it('leaves the alarm as CloudWatch set it when CloudWatch evaluated it during the test', async () => {
    // Given CloudWatch evaluated the alarm after verify set it (its reason is no longer verify's)
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: [ALARM] }).resolves({
      MetricAlarms: [{ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'Threshold Crossed: 1 datapoint' }],
    });

    // When verify runs
    await run(['verify', '--json']);

    // Then verify does not force it back to OK
    expect(setStates()).toEqual([[ALARM, 'ALARM']]);
  });

  it('reads minutes of history, whatever the clocks, and does not count an action that was already there', async () => {
    // Given the history holds a successful action from an earlier run, and nothing new appears
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [SUCCEEDED] });

    // When verify runs
    const startedAt = Date.now();
    const report = JSON.parse((await run(['verify', '--timeout', '5', '--json'])).stdout) as VerifyReport;

    // Then the earlier action does not pass the check
    expect(report.checks.find((check) => check.name === 'alarm topic')).toMatchObject({
      ok: false,
      detail: `${ALARM}: no action in its history after 5 s`,
    });
    // And the history window starts minutes back, not a second (this machine's clock is not AWS's)
    const since = cloudWatch.commandCalls(DescribeAlarmHistoryCommand)[0]?.args[0].input.StartDate;
    expect(startedAt - (since?.getTime() ?? startedAt)).toBeGreaterThanOrEqual(5 * 60_000);
  }, 20_000);
});

describe('verify with an on-demand event source', () => {
  it('checks the pipeline topic alone when the stack has no dead-letter topic', async () => {
    // Given a stack without a dead-letter topic output (an on-demand event source)
    const { SinkDeadLetterTopic: _, ...rest } = Object.fromEntries(
      (outputs().Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]),
    );
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'TelemetryPipeline-dev',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.entries(rest).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    // When verify runs / Then the Kafka topics check passes on the pipeline topic alone, saying why
    const report = JSON.parse((await run(['verify', '--json'])).stdout) as VerifyReport;
    expect(report.checks.find((check) => check.name === 'Kafka topics')).toEqual({
      name: 'Kafka topics',
      ok: true,
      detail: `${TOPIC} exists (the stack has no dead-letter topic)`,
    });
  });
});

describe('mongoUriProblem', () => {
  it.each([
    ['', 'uri empty'],
    ['http://x', 'uri does not start with mongodb+srv:// or mongodb://'],
    ['mongodb+srv://', 'uri names no host'],
    ['mongodb+srv://u:p@/db', 'uri names no host'],
    ['mongodb+srv://u:p@host/ db', 'uri contains whitespace'],
    ['mongodb+srv://u:p@cluster0.example.mongodb.net/', undefined],
    ['mongodb://a:27017,b:27017/?replicaSet=rs0', undefined],
  ])('%j → %s', (uri, problem) => {
    // Given a MongoDB URI / When it is checked / Then the problem, if any, is named
    expect(mongoUriProblem(uri)).toBe(problem);
  });
});

/**
 * `verify`: a smoke check of a deployed pipeline, each check one line with what to do when it fails.
 *
 * 1. The Confluent and Atlas secrets are filled and well-formed (values are never printed).
 * 2. The Kafka topic and the sink's dead-letter topic exist (Kafka metadata, through the CLI's Kafka connection).
 * 3. A canary reading published through IoT Core (iot-data `Publish` to a device topic, over HTTPS with this
 *    machine's AWS credentials) arrives in MongoDB, with the time each stage took: IoT's receive time
 *    (`receivedAt`), the Kafka record's timestamp (the forwarder's produce time) and the sink's `storedAt`.
 * 4. The sink's Kafka event source is Enabled and its last processing result is OK (Lambda GetEventSourceMapping;
 *    after the canary, so a fresh deploy has processed a batch).
 * 5. The alarm topic takes CloudWatch's notification: one of this stack's alarms in OK (else INSUFFICIENT_DATA,
 *    never one in ALARM) is set to ALARM (`SetAlarmState`), its history must show the SNS action executed, and the
 *    alarm is set back to the state it was in, unless CloudWatch evaluated it meanwhile. Skipped, with why, when
 *    every alarm is in ALARM.
 *
 * Sources: iot-data Publish, https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_Publish.html;
 * GetEventSourceMapping (State: Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting;
 * LastProcessingResult), https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html;
 * SetAlarmState (for testing: when the new state differs from the old, the actions of that state run),
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html; DescribeAlarmHistory
 * (HistoryItemType Action), https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html.
 */
import {
  type AlarmHistoryItem,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { GetEventSourceMappingCommand, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { deriveEventId } from '../contracts/enrichment';
import { isUserError } from '../contracts/errors';
import { deviceTopic } from '../lib/ingest/rule-sql';
import { aws } from './aws-errors';
import type { OpsContext } from './context';
import { withAdmin } from './kafka/connection';
import { readPartitions } from './kafka/reader';
import { CANARY_DEVICE_ID } from './verify-canary';

/** One line of the report. */
export interface VerifyCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was found. */
  readonly detail: string;
  /** What to do about it, when not ok or skipped. */
  readonly fix?: string;
  /** The check could not run without doing harm; it does not fail the run (`ok` is true) but says why. */
  readonly skipped?: boolean;
}

/** How long each stage of the canary took, from the timestamps the pipeline records. */
export interface CanaryTimings {
  readonly eventId: string;
  readonly publishedAt: string;
  /** IoT Core's receive time (`receivedAt`). */
  readonly receivedAt: string;
  /** The Kafka record's timestamp: when the forwarder produced it. Null when the topic could not be read. */
  readonly forwardedAt: string | null;
  /** The sink's `storedAt`. */
  readonly storedAt: string;
  /** publish → IoT, IoT → Kafka (forwarder), Kafka → MongoDB (sink), and in all; milliseconds. */
  readonly iotMs: number;
  readonly forwardMs: number | null;
  readonly sinkMs: number | null;
  readonly totalMs: number;
}

export interface VerifyReport {
  readonly pipeline: string;
  readonly region: string;
  readonly checks: readonly VerifyCheck[];
  readonly canary: CanaryTimings | null;
  readonly ok: boolean;
}

export interface VerifyOptions {
  /** How long to wait for the canary in MongoDB and for the alarm action. @default 90 000 */
  readonly timeoutMs?: number;
  /** Between two looks. @default 2 000 */
  readonly pollMs?: number;
  /** The canary's device id: a thing name, the `+` level of the first topic filter. @default telemetry-ops-verify */
  readonly deviceId?: string;
  readonly now?: () => number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A user error's message as it is; anything else (a bug, an AWS server error) with its name, so it stands out. */
const message = (error: unknown) =>
  isUserError(error)
    ? (error as Error).message
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);

export async function runVerify(context: OpsContext, options: VerifyOptions = {}): Promise<VerifyReport> {
  const settings = {
    timeoutMs: options.timeoutMs ?? 90_000,
    pollMs: options.pollMs ?? 2_000,
    deviceId: options.deviceId ?? CANARY_DEVICE_ID,
    now: options.now ?? Date.now,
  };
  const checks: VerifyCheck[] = [];
  // A check that throws is a failed check, with the error as its detail: the others still run
  const run = async (name: string, fix: string, check: () => Promise<Omit<VerifyCheck, 'name'>>) => {
    try {
      checks.push({ name, ...(await check()) });
    } catch (error) {
      checks.push({ name, ok: false, detail: message(error), fix });
    }
  };

  await run('Confluent secret', putSecretFix('<CredentialsSecretArn>', KAFKA_SHAPE), () => kafkaSecret(context));
  await run('Atlas secret', putSecretFix('<MongoUriSecretArn>', MONGO_SHAPE), () => mongoSecret(context));
  await run('Kafka topics', 'check kafka.bootstrapServers and the Confluent API key', () => kafkaTopics(context));
  let canary: CanaryTimings | null = null;
  await run('canary reading', CANARY_FIX, async () => {
    const result = await canaryReading(context, settings);
    canary = result.timings;
    return result.check;
  });
  await run('Kafka event source', 'see "Kafka event source: provisioned mode" in the README', () =>
    eventSource(context),
  );
  await run('alarm topic', ALARM_FIX, () => alarmTopic(context, settings));
  return {
    pipeline: context.config.stackName,
    region: context.region,
    checks,
    canary,
    ok: checks.every((check) => check.ok),
  };
}

// --- secrets -------------------------------------------------------------------------------------------------

const KAFKA_SHAPE = '{"username":"<API key>","password":"<API secret>"}';
const MONGO_SHAPE = '{"uri":"mongodb+srv://<user>:<password>@<cluster host>/"}';
const putSecretFix = (id: string, shape: string) =>
  `aws secretsmanager put-secret-value --secret-id ${id} --secret-string '${shape}'`;

async function secretObject(context: OpsContext, secretId: string, what: string) {
  const text = await context.secretString(secretId, what);
  try {
    const value: unknown = JSON.parse(text ?? '');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return undefined;
}

const filled = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

async function kafkaSecret(context: OpsContext): Promise<Omit<VerifyCheck, 'name'>> {
  const { kafka } = context.config;
  const secretId =
    kafka.credentialsSecretArn ?? kafka.credentialsSecretName ?? (await context.output('CredentialsSecretArn'));
  const value = await secretObject(context, secretId, 'Kafka credentials');
  const missing = ['username', 'password'].filter((field) => !filled(value?.[field]));
  if (!value || missing.length > 0)
    return {
      ok: false,
      detail: value ? `${secretId}: ${missing.join(' and ')} empty` : `${secretId} does not hold a JSON object`,
      fix: putSecretFix(secretId, KAFKA_SHAPE),
    };
  return { ok: true, detail: `${secretId}: username and password set` };
}

async function mongoSecret(context: OpsContext): Promise<Omit<VerifyCheck, 'name'>> {
  const { mongo } = context.config.sink;
  const secretId = mongo.uriSecretArn ?? mongo.uriSecretName ?? (await context.output('MongoUriSecretArn'));
  const value = await secretObject(context, secretId, 'MongoDB URI');
  const problem = mongoUriProblem(value?.uri);
  if (!value || problem)
    return {
      ok: false,
      detail: `${secretId}: ${value ? problem : 'does not hold a JSON object'}`,
      fix: putSecretFix(secretId, MONGO_SHAPE),
    };
  return { ok: true, detail: `${secretId}: a mongodb+srv/mongodb URI with a host` };
}

/** What is wrong with a MongoDB connection string, never quoting it (it holds a password). */
export function mongoUriProblem(uri: unknown): string | undefined {
  if (!filled(uri)) return 'uri empty';
  // Not WHATWG URL: a replica-set string lists several hosts, which URL cannot parse
  const parts = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?#]*)/.exec(uri);
  if (!parts) return 'uri does not start with mongodb+srv:// or mongodb://';
  if (!parts[1]) return 'uri names no host';
  if (/\s/.test(uri)) return 'uri contains whitespace';
  return undefined;
}

// --- Kafka topics ------------------------------------------------------------------------------------------

async function kafkaTopics(context: OpsContext): Promise<Omit<VerifyCheck, 'name'>> {
  const topic = context.config.kafka.topic;
  const deadLetterTopic = (await context.stackOutputs()).SinkDeadLetterTopic;
  const wanted = [topic, ...(deadLetterTopic ? [deadLetterTopic] : [])];
  const target = context.kafkaTarget();
  // The full list, never a Metadata request naming the topics: that would create them on an auto-creating broker
  const names = await withAdmin(await context.kafka(), 'list Kafka topics', target, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata();
    return new Set(topics.map((t) => t.name));
  });
  const missing = wanted.filter((name) => !names.has(name));
  const what = deadLetterTopic
    ? `${topic} and dead-letter topic ${deadLetterTopic} exist`
    : `${topic} exists (the stack has no dead-letter topic)`;
  if (missing.length > 0)
    return {
      ok: false,
      detail: `missing on ${target.brokers.join(',')}: ${missing.join(', ')}`,
      // The topics are made with Confluent's tools (or IaC), as README "Deploying" says; the CLI creates none.
      // https://docs.confluent.io/confluent-cli/current/command-reference/kafka/topic/confluent_kafka_topic_create.html
      fix: missing
        .map((name) => `confluent kafka topic create ${name} --partitions ${context.config.kafka.partitions}`)
        .join('; '),
    };
  return { ok: true, detail: what };
}

// --- canary ----------------------------------------------------------------------------------------------------

const CANARY_FIX =
  'follow it with `npx telemetry-ops status` and `npx telemetry-ops failures list`, then the dashboard top to bottom';

async function canaryReading(
  context: OpsContext,
  settings: { timeoutMs: number; pollMs: number; deviceId: string; now: () => number },
): Promise<{ check: Omit<VerifyCheck, 'name'>; timings: CanaryTimings | null }> {
  const [filter] = context.config.iot.topicFilters;
  if (!filter) throw new Error('iot.topicFilters is empty');
  const topic = deviceTopic(filter, settings.deviceId);
  const endpoint = (
    await aws(
      'find the IoT data endpoint',
      context.iot().send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })),
    )
  ).endpointAddress;
  if (!endpoint) throw new Error('DescribeEndpoint returned no endpointAddress');
  const readings = await context.readings();

  // With seq, the event id is sha256(<device>/<ts>/<seq>): known before publishing, so MongoDB can be asked for it
  const ts = settings.now();
  const seq = ts % 1_000_000_000;
  const eventId = deriveEventId(settings.deviceId, ts, seq);
  await aws(
    `publish the canary to ${topic}`,
    context.iotData(`https://${endpoint}`).send(
      new PublishCommand({
        topic,
        qos: 1,
        contentType: 'application/json',
        payload: new TextEncoder().encode(JSON.stringify({ ts, seq, readings: { canary: 1 } })),
      }),
    ),
  );

  const deadline = ts + settings.timeoutMs;
  for (;;) {
    const stored = await readings.findById(eventId);
    if (stored) {
      const timings = await canaryTimings(context, eventId, ts, stored);
      return { check: { ok: true, detail: `${topic} → MongoDB: ${renderTimings(timings)}` }, timings };
    }
    if (settings.now() >= deadline) break;
    await sleep(settings.pollMs);
  }
  return {
    check: {
      ok: false,
      detail: `published to ${topic} (event id ${eventId}); not in MongoDB after ${settings.timeoutMs / 1000} s`,
      fix: CANARY_FIX,
    },
    timings: null,
  };
}

async function canaryTimings(
  context: OpsContext,
  eventId: string,
  publishedAt: number,
  stored: { receivedAt: Date; storedAt: Date; kafka: { partition: number; offset: number } },
): Promise<CanaryTimings> {
  const forwarded = await kafkaRecordTime(context, stored.kafka).catch(() => null);
  const [received, at] = [stored.receivedAt.getTime(), stored.storedAt.getTime()];
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    eventId,
    publishedAt: iso(publishedAt),
    receivedAt: iso(received),
    forwardedAt: forwarded === null ? null : iso(forwarded),
    storedAt: iso(at),
    iotMs: received - publishedAt,
    forwardMs: forwarded === null ? null : forwarded - received,
    sinkMs: forwarded === null ? null : at - forwarded,
    totalMs: at - publishedAt,
  };
}

/** The timestamp of the record at `partition`@`offset` of the pipeline topic, epoch ms. */
async function kafkaRecordTime(
  context: OpsContext,
  position: { partition: number; offset: number },
): Promise<number | null> {
  let timestamp: number | null = null;
  await readPartitions(
    await context.kafka(),
    context.config.kafka.topic,
    [{ partition: position.partition, start: position.offset, end: position.offset + 1 }],
    {
      onRecord: (record) => {
        timestamp = Date.parse(record.timestamp);
        return 'stop';
      },
    },
  );
  return timestamp;
}

export function renderTimings(t: CanaryTimings): string {
  const ms = (value: number | null) => (value === null ? '?' : `${value} ms`);
  return `IoT ${ms(t.iotMs)}, forwarder ${ms(t.forwardMs)}, sink ${ms(t.sinkMs)}, total ${ms(t.totalMs)}`;
}

// --- event source ------------------------------------------------------------------------------------------

async function eventSource(context: OpsContext): Promise<Omit<VerifyCheck, 'name'>> {
  const functionName = await context.output('SinkFunctionName');
  const listed = await aws(
    `list the event sources of ${functionName}`,
    context.lambda().send(new ListEventSourceMappingsCommand({ FunctionName: functionName })),
  );
  const kafka = (listed.EventSourceMappings ?? []).find((mapping) => mapping.SelfManagedEventSource);
  if (!kafka?.UUID)
    return { ok: false, detail: `${functionName} has no Kafka event source`, fix: 'redeploy: `npx cdk deploy`' };
  const mapping = await aws(
    `read event source ${kafka.UUID}`,
    context.lambda().send(new GetEventSourceMappingCommand({ UUID: kafka.UUID })),
  );
  const state = mapping.State ?? 'unknown';
  const result = mapping.LastProcessingResult ?? 'none';
  const detail = `${kafka.UUID}: ${state}, last processing result "${result}"`;
  if (state !== 'Enabled')
    return {
      ok: false,
      detail,
      fix:
        state === 'Disabled'
          ? `aws lambda update-event-source-mapping --uuid ${kafka.UUID} --enabled`
          : 'wait until it is Enabled (Creating/Updating/Enabling take a few minutes), then run verify again',
    };
  if (result !== 'OK')
    return {
      ok: false,
      detail,
      fix: /auth|SASL/i.test(result)
        ? 'the Confluent API key in the secret is wrong or lacks read access to the topic and the consumer group'
        : /PROBLEM/.test(result)
          ? 'the event source cannot reach or read the cluster: check kafka.bootstrapServers, the secret and the ACLs'
          : 'no batch processed yet: wait a minute after the canary and run verify again',
    };
  return { ok: true, detail };
}

// --- alarm topic -------------------------------------------------------------------------------------------

const ALARM_FIX =
  'the alarm topic must allow cloudwatch.amazonaws.com sns:Publish (topic policy) and its KMS key must let CloudWatch use it';

/** The states verify may move to ALARM, best first: OK (nobody is looking at it), then INSUFFICIENT_DATA. An alarm in
 * ALARM is never used: SetAlarmState to the state it is already in changes nothing, so no action runs, and setting
 * it back afterwards would hide a real incident behind a false OK notification. */
const TESTABLE_STATES = ['OK', 'INSUFFICIENT_DATA'] as const;
type TestableState = (typeof TESTABLE_STATES)[number];
/** How far back the alarm history is read. AWS's clock and this machine's may differ by more than a second, so the
 * window is generous and the history items that were already there before the test are ignored instead. */
const HISTORY_MARGIN_MS = 10 * 60_000;
const TEST_REASON = 'telemetry-ops verify: testing that the alarm topic receives notifications';

async function alarmTopic(
  context: OpsContext,
  settings: { timeoutMs: number; pollMs: number; now: () => number },
): Promise<Omit<VerifyCheck, 'name'>> {
  const topicArn = await context.output('AlarmTopicArn');
  const cloudWatch = context.cloudWatch();
  const { MetricAlarms: alarms = [] } = await aws(
    'list the alarms',
    cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${context.config.stackName}-`, MaxRecords: 100 })),
  );
  const candidates = alarms.filter((alarm) => alarm.AlarmName && alarm.AlarmActions?.includes(topicArn));
  if (candidates.length === 0)
    return { ok: false, detail: `no alarm of this stack notifies ${topicArn}`, fix: 'redeploy: `npx cdk deploy`' };
  const picked = TESTABLE_STATES.flatMap((state) =>
    candidates.filter((a) => a.StateValue === state).map((a) => ({ name: a.AlarmName ?? '', state })),
  )[0];
  if (!picked)
    return {
      ok: true,
      skipped: true,
      detail: `every alarm that notifies ${topicArn} is in ALARM now (${candidates.map((a) => a.AlarmName).join(', ')}): setting one to ALARM would run no action, so there is nothing to test without hiding a real incident`,
      fix: 'look at why they are in ALARM (`npx telemetry-ops status`), then run verify again once one is OK',
    };
  const alarmName = picked.name;
  const since = new Date(settings.now() - HISTORY_MARGIN_MS);
  const before = new Set((await actionItems(context, alarmName, since)).map(historyKey));
  const setState = (value: 'ALARM' | TestableState, reason: string) =>
    aws(
      `set the state of ${alarmName}`,
      cloudWatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: value, StateReason: reason })),
    );
  await setState('ALARM', TEST_REASON);
  try {
    const deadline = settings.now() + settings.timeoutMs;
    for (;;) {
      const fresh = (await actionItems(context, alarmName, since)).filter((item) => !before.has(historyKey(item)));
      const outcome = actionOutcome(fresh, topicArn);
      if (outcome === 'succeeded')
        return { ok: true, detail: `${alarmName} → ${topicArn}: CloudWatch published the notification` };
      if (outcome === 'failed')
        return { ok: false, detail: `${alarmName} → ${topicArn}: CloudWatch failed to publish`, fix: ALARM_FIX };
      if (settings.now() >= deadline) break;
      await sleep(settings.pollMs);
    }
    return {
      ok: false,
      detail: `${alarmName}: no action in its history after ${settings.timeoutMs / 1000} s`,
      fix: ALARM_FIX,
    };
  } finally {
    await restoreAlarm(context, alarmName, picked.state, setState);
  }
}

/**
 * Sets the alarm back to the state it was in, only while it still holds verify's ALARM: if CloudWatch evaluated it
 * meanwhile (a real ALARM, or back to OK), the state is CloudWatch's and stays as it is.
 */
async function restoreAlarm(
  context: OpsContext,
  alarmName: string,
  state: TestableState,
  setState: (value: TestableState, reason: string) => Promise<unknown>,
) {
  const { MetricAlarms: [now] = [] } = await aws(
    `read the state of ${alarmName}`,
    context.cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] })),
  );
  if (now?.StateValue === 'ALARM' && now.StateReason === TEST_REASON)
    await setState(state, 'telemetry-ops verify: test finished, back to the state it was in');
}

const historyKey = (item: AlarmHistoryItem) =>
  `${item.Timestamp?.toISOString() ?? ''}|${item.HistorySummary ?? ''}|${item.HistoryData ?? ''}`;

async function actionItems(context: OpsContext, alarmName: string, since: Date) {
  const { AlarmHistoryItems: items = [] } = await aws(
    `read the history of ${alarmName}`,
    context
      .cloudWatch()
      .send(new DescribeAlarmHistoryCommand({ AlarmName: alarmName, HistoryItemType: 'Action', StartDate: since })),
  );
  return items;
}

/**
 * Whether CloudWatch executed the alarm's SNS action, from history items: an `Action` item naming the topic,
 * "Successfully executed action …" or "Failed to execute action …" (its HistoryData's `actionState`).
 */
function actionOutcome(items: readonly AlarmHistoryItem[], topicArn: string): 'succeeded' | 'failed' | undefined {
  for (const item of items) {
    const summary = item.HistorySummary ?? '';
    if (!summary.includes(topicArn) && !(item.HistoryData ?? '').includes(topicArn)) continue;
    const state = /"actionState"\s*:\s*"(\w+)"/.exec(item.HistoryData ?? '')?.[1];
    if (state === 'Failed' || /^Failed/.test(summary)) return 'failed';
    if (state === 'Succeeded' || /^Successfully/.test(summary)) return 'succeeded';
  }
  return undefined;
}

export function renderVerify(report: VerifyReport): string {
  const skipped = report.checks.filter((check) => check.skipped).length;
  return [
    `Pipeline ${report.pipeline} (${report.region})`,
    ...report.checks.map((check) => {
      const mark = check.skipped ? '–' : check.ok ? '✓' : '✗';
      const fix = (!check.ok || check.skipped) && check.fix ? `\n    → ${check.fix}` : '';
      return `${mark} ${check.name}: ${check.skipped ? 'skipped, ' : ''}${check.detail}${fix}`;
    }),
    report.ok
      ? `All checks passed${skipped > 0 ? ` (${skipped} skipped)` : ''}.`
      : `${report.checks.filter((c) => !c.ok).length} check(s) failed.`,
  ].join('\n');
}

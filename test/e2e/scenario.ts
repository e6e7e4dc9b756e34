/**
 * The end-to-end scenario, shared by the test (`pipeline.e2e.test.ts`) and the benchmark (`test/bench/end-to-end.ts`):
 * the fleet simulator publishes over MQTT to the local pipeline's embedded broker; the forwarder (its esbuild bundle,
 * as deployed) produces to the librdkafka mock cluster; the sink (from source) writes to an in-memory MongoDB fake.
 * Faults on the way: Produce errors, a broker down and back, sink write failures mid-batch, and one reading the sink
 * cannot store until it is given up on (dead-letter topic) and redriven — besides the simulator's duplicates,
 * out-of-order sends and malformed messages.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ENRICHMENT_FIELDS } from '../../contracts/enrichment';
import type { FailureEnvelope } from '../../contracts/failure';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../lambdas/sink/documents';
import type { PipelineConfig } from '../../lib/config/schema';
import { DeadLetterTopic } from '../../ops/failures/dead-letter-topic';
import { fromSinkDeadLetter } from '../../ops/failures/envelopes';
import { ApiKey, KafkaErrorCode, KafkaMockCluster } from '../../tools/kafka-mock/cluster';
import { bundledHandlers, bundleFunctions, type FunctionBundles } from '../../tools/local/bundles';
import { type LocalCounters, LocalPipeline } from '../../tools/local/pipeline';
import { type DeviceRecord, runSimulation, type SimulationSummary } from '../../tools/simulate';
import { FakeCollection } from '../helpers/fake-mongo';
import { sourceForwarder, sourceSink } from '../helpers/source-handlers';
import { devConfig } from '../helpers/synth';
import type { SimulatorMessage, SimulatorRequest } from './simulator-process';

export interface ScenarioOptions {
  readonly devices: number;
  readonly readingsPerDevice: number;
  /** Inject the pipeline faults (the simulator's device faults are always on). @default true */
  readonly faults?: boolean;
  /** The forwarder as deployed (esbuild bundle) or from source. @default 'bundle' */
  readonly forwarder?: 'bundle' | 'source';
  /** The simulator in this process, or in a child process of its own (the devices are elsewhere). @default 'inline' */
  readonly simulator?: 'inline' | 'process';
  /** Publishes per second across the fleet. @default unlimited (as fast as PUBACKs come) */
  readonly rate?: number;
  /** Partitions of the topic. @default the configuration's (6) */
  readonly partitions?: number;
  /** @default 7 */
  readonly seed?: number;
  /**
   * Delay added to every response of every broker of the mock cluster (`rd_kafka_mock_broker_set_rtt`), in ms: ~2 for
   * Confluent Cloud in the functions' region. @default 0 (loopback)
   */
  readonly brokerRttMs?: number;
  /** Batch sizes and windows of the two event sources, as in a configuration file. @default the scenario's (below) */
  readonly batching?: {
    readonly forwarder: Pick<PipelineConfig['forwarder'], 'batchSize' | 'maxBatchingWindowSeconds'>;
    readonly sink: Pick<PipelineConfig['sink'], 'batchSize' | 'maxBatchingWindowSeconds' | 'provisionedPollers'>;
  };
  /** The simulator's device faults (duplicates, out-of-order sends, malformed messages). @default true */
  readonly deviceFaults?: boolean;
  /** How long to wait for the pipeline to drain. @default 120 s */
  readonly timeoutMs?: number;
  readonly progress?: (line: string) => void;
}

export interface ScenarioCollections {
  readonly readings: FakeCollection<ReadingDocument>;
  readonly devices: FakeCollection<DeviceStateDocument>;
  readonly quarantine: FakeCollection<QuarantineDocument>;
}

export interface ScenarioRun {
  readonly summary: SimulationSummary;
  /** What each device sent (the simulator's record). */
  readonly sent: readonly DeviceRecord[];
  readonly collections: ScenarioCollections;
  readonly counters: LocalCounters;
  /** The ingest dead-letter queue, read as `failures` reads it. */
  readonly ingestDeadLetters: readonly FailureEnvelope[];
  /** The sink dead-letter topic, read as `failures` reads it, before the redrive. */
  readonly sinkDeadLetters: readonly FailureEnvelope[];
  /** The same, as the pipeline kept what it wrote (its stop summary). */
  readonly sinkDeadLettersKept: readonly FailureEnvelope[];
  /** Event ids the sink could not store until the dead-letter topic's records were redriven. */
  readonly givenUp: readonly string[];
  /** When the simulator started publishing and when the last reading was stored (epoch ms). */
  readonly publishStartedAt: number;
  readonly lastStoredAt: number;
  /** What the injected faults did (nothing injected, all zero, without faults). */
  readonly faults: FaultReport;
}

/**
 * Whether each injected fault fired, and whether anything else made the forwarder fail. A forwarder failure is an
 * ingest message the forwarder failed (listed in its response, or a failed invocation), counted when the invocation
 * ended, and attributed to the fault whose window it falls in (see `faultReport`).
 */
export interface FaultReport {
  /** Produce errors pushed on one broker, and how many of them it had not returned when the run ended. */
  readonly produceErrors: { readonly injected: number; readonly unreturned: number };
  readonly failedDuringProduceErrors: number;
  readonly failedWhileBrokerDown: number;
  /** Forwarder failures in no fault's window: failures no fault explains. */
  readonly failedOutsideFaults: number;
  /** Sink write faults (`failNext`) no bulk write used up. */
  readonly sinkWriteFaultsLeft: number;
}

/** What the forwarder answers for each malformed variant the simulator sends (`failure.reason`). */
export const EXPECTED_REASONS = {
  truncated_json: 'not_json',
  not_object: 'not_object',
  missing_readings: 'schema_violation',
  empty_readings: 'schema_violation',
  dollar_key: 'unsafe_key',
  ts_string: 'schema_violation',
  reading_string: 'schema_violation',
  clock_unset: 'schema_violation',
} as const;

/** The device payload inside a dead-letter queue body: the IoT rule's enrichment taken off again. */
export function devicePayloadOf(body: string): string {
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const payload: Record<string, unknown> = { ...value };
      for (const field of ENRICHMENT_FIELDS) delete payload[field];
      return JSON.stringify(payload);
    }
  } catch {
    // not JSON: the body is the payload as published
  }
  return body;
}

const FORWARDER_TIMEOUT_SECONDS = 3;

/**
 * How long broker 2 stays down: longer than the forwarder's timeout, so that an invocation begun early in the outage
 * cannot reach the broker before its deadline and fails its records (kafkajs' own retries can outlast a shorter one).
 */
const BROKER_DOWN_MS = FORWARDER_TIMEOUT_SECONDS * 1000 + 500;

/** The broker the Produce errors are pushed on: it leads partitions of the topic (see `runScenario`). */
const PRODUCE_ERROR_BROKER = 1;

/** A fault's span (epoch ms); `until` stays open while the fault lasts. */
interface FaultWindow {
  readonly from: number;
  until: number | undefined;
}

/** The ingest redeliveries counted so far, sampled through the run. */
interface Sample {
  readonly at: number;
  readonly redelivered: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs: number, state: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}: ${state()}`);
    await sleep(50);
  }
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioRun> {
  const faults = options.faults ?? true;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const progress = options.progress ?? (() => undefined);
  const config = devConfig({
    ...(options.partitions ? { kafka: { partitions: options.partitions } } : {}),
    // The shortest forwarder timeout the configuration allows bounds how long an invocation waits on a broker that is
    // down, and with it the visibility timeout (below)
    forwarder: {
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      ...options.batching?.forwarder,
      timeoutSeconds: FORWARDER_TIMEOUT_SECONDS,
    },
    sink: { batchSize: 500, ...options.batching?.sink, retryAttempts: 2, timeoutSeconds: 10 },
    ingest: { maxReceiveCount: 5 },
  });
  const dltTopic = `${config.kafka.topic}.sink-dlt`;
  const cluster = KafkaMockCluster.start({ brokers: 3 });
  cluster.createTopic(config.kafka.topic, config.kafka.partitions);
  cluster.createTopic(dltTopic, 1);
  // The mock picks leaders at random: a broker could lead none, and a fault on it reach nothing. Each broker leads
  // every third partition; broker 3, untouched by the faults, leads the dead-letter topic.
  for (let partition = 0; partition < config.kafka.partitions; partition++)
    cluster.setPartitionLeader(config.kafka.topic, partition, (partition % 3) + 1);
  cluster.setPartitionLeader(dltTopic, 0, 3);
  for (const broker of cluster.brokerIds) cluster.setRtt(broker, options.brokerRttMs ?? 0);
  let bundles: FunctionBundles | undefined;
  let pipeline: LocalPipeline | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    if ((options.forwarder ?? 'bundle') === 'bundle') bundles = await bundleFunctions();
    const collections: ScenarioCollections = {
      readings: new FakeCollection<ReadingDocument>(),
      devices: new FakeCollection<DeviceStateDocument>(),
      quarantine: new FakeCollection<QuarantineDocument>(),
    };
    // One reading the sink cannot store (a transient server error, every time) until it is released
    const stuck = { deviceId: 'sim-sensor-0007', seq: Math.floor(options.readingsPerDevice / 2) };
    let blocked = faults;
    collections.readings.reject(
      (doc) => blocked && doc.deviceId === stuck.deviceId && doc.seq === stuck.seq,
      91,
      'The server is in quiesce mode and will shut down',
    );

    pipeline = await LocalPipeline.start({
      config,
      handlers: {
        forwarder: bundles ? bundledHandlers(bundles).forwarder : sourceForwarder,
        sink: sourceSink(collections),
      },
      kafkaBrokers: cluster.bootstrapServers,
      mongoUri: 'mongodb://127.0.0.1:9',
      mqtt: { port: 0 },
      // Redeliveries within seconds instead of the stack's 6 × timeout + window, but never while the first invocation
      // may still run: no shorter than the forwarder's timeout, as Lambda requires
      visibilityTimeoutMs: FORWARDER_TIMEOUT_SECONDS * 1000,
      forwarderConcurrency: 4,
      // The sink from source shares its module's metrics singleton: one container, so invocations never overlap
      containers: { sink: 1 },
      sinkRetryDelayMs: () => 100,
      logLevel: 'SILENT',
      log: { warn: (m) => progress(`warning: ${m}`), error: (m) => progress(`error: ${m}`) },
    });
    const running = pipeline;

    const total = options.devices * options.readingsPerDevice;
    const windows: { produceErrors?: FaultWindow; brokerDown?: FaultWindow } = {};
    const samples: Sample[] = [];
    const sample = () => {
      const at = Date.now();
      samples.push({ at, redelivered: running.counters().redelivered });
      const produce = windows.produceErrors;
      if (
        produce &&
        produce.until === undefined &&
        !cluster.pendingBrokerRequestErrors(PRODUCE_ERROR_BROKER, ApiKey.Produce)
      )
        produce.until = at;
    };
    timers.push(setInterval(sample, 20));
    const ticker = setInterval(() => {
      const c = running.counters();
      progress(
        `received ${c.received}, forwarded ${c.forwarded}, stored ${c.stored}, backlog ${c.backlog}, redelivered ${c.redelivered}, sink retries ${c.sinkRetries}`,
      );
    }, 1_000);
    timers.push(ticker);
    const steps = faults ? faultSteps(cluster, collections, timers, windows, progress) : [];
    let publishStartedAt = 0;
    const onProgress = (state: { readonly phase: string; readonly sent: number }) => {
      if (state.phase === 'publishing' && publishStartedAt === 0) publishStartedAt = Date.now();
      while (steps[0] && state.sent >= steps[0].at * total) steps.shift()?.run();
    };
    const simulation: SimulatorRequest = {
      url: running.mqttUrl,
      devices: options.devices,
      messagesPerDevice: options.readingsPerDevice,
      rate: options.rate ?? Number.POSITIVE_INFINITY,
      qos: 1,
      seed: options.seed ?? 7,
      faults:
        (options.deviceFaults ?? true)
          ? { duplicate: 0.02, outOfOrder: 0.02, malformed: 0.01 }
          : { duplicate: 0, outOfOrder: 0, malformed: 0 },
      record: true,
      maxInFlight: 2_000,
      connectConcurrency: 50,
      progressIntervalMs: 50,
    };
    const summary =
      options.simulator === 'process'
        ? await simulateInChildProcess(simulation, onProgress)
        : await runSimulation({ ...simulation, onProgress });
    for (const step of steps) step.run();
    const sent = summary.record ?? [];
    const expected = new Set(sent.flatMap((device) => device.readings.map((reading) => reading.eventId)));
    const stuckIds = sent
      .filter((device) => faults && device.deviceId === stuck.deviceId)
      .flatMap((device) => device.readings.filter((r) => r.seq === stuck.seq).map((r) => r.eventId));
    progress(`published ${summary.sent} messages (${summary.readings} readings) in ${summary.publishMs} ms`);

    // The pipeline drains: every reading stored but the stuck one, which the event source gives up on
    const dlq = () => running.deadLetterQueue.visibleCount;
    // On a time-out, say why the dead-letter queue holds what it holds (the failure.reason attribute per message)
    const parkedReasons = () => {
      const reasons: Record<string, number> = {};
      for (const message of running.deadLetterQueue.messages()) {
        const reason = message.MessageAttributes?.['failure.reason']?.StringValue ?? 'max_receives_exceeded';
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
      return JSON.stringify(reasons);
    };
    const state = () =>
      `${collections.readings.docs.size} of ${expected.size} readings stored, ${dlq()} of ${summary.malformed} malformed parked (by reason ${parkedReasons()}), ${JSON.stringify(running.counters())}`;
    await until(
      'every reading but the stuck one is stored and every malformed message is parked',
      () =>
        collections.readings.docs.size === expected.size - stuckIds.length &&
        running.counters().deadLettered.sink >= stuckIds.length &&
        dlq() === summary.malformed &&
        running.counters().backlog === 0,
      timeoutMs,
      state,
    );
    const kafka = new Kafka({ clientId: 'e2e', brokers: [...cluster.bootstrapServers], logLevel: logLevel.NOTHING });
    const topic = new DeadLetterTopic(kafka, dltTopic, `${config.stackName}-sink.redrive`);
    const sinkDeadLetters = (await topic.pending(1_000)).flatMap(fromSinkDeadLetter);

    // Redrive the dead-letter topic (as `failures redrive --store sink-dlt` does: back to the ingest queue)
    blocked = false;
    for (const envelope of sinkDeadLetters)
      if (envelope.payload?.encoding === 'utf8') running.sendToIngestQueue(envelope.payload.data);
    await until(
      'the redriven readings are stored',
      () => collections.readings.docs.size >= expected.size,
      timeoutMs,
      state,
    );
    // Quiet for a moment: nothing else arrives late
    await until('the ingest queue is empty', () => running.counters().backlog === 0, timeoutMs, state);
    await sleep(500);
    sample();

    const readings = collections.readings.all();
    return {
      summary,
      sent,
      collections,
      counters: running.counters(),
      ingestDeadLetters: running.deadLetters().ingest,
      sinkDeadLetters,
      sinkDeadLettersKept: running.deadLetters().sink,
      givenUp: stuckIds,
      publishStartedAt,
      lastStoredAt: Math.max(...readings.map((reading) => new Date(reading.storedAt).getTime())),
      faults: faultReport(samples, windows, {
        injected: faults ? PRODUCE_ERRORS.length : 0,
        unreturned: cluster.pendingBrokerRequestErrors(PRODUCE_ERROR_BROKER, ApiKey.Produce),
        sinkWriteFaultsLeft: collections.readings.pendingFaults,
      }),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await pipeline?.stop();
    cluster.stop();
    bundles?.remove();
  }
}

/** Runs the simulation in a child process (simulator-process.ts). */
function simulateInChildProcess(
  request: SimulatorRequest,
  onProgress: (state: { readonly phase: string; readonly sent: number }) => void,
): Promise<SimulationSummary> {
  const child = fork(join(__dirname, 'simulator-process.ts'), [], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.on('message', (message: SimulatorMessage) => {
      if (message.kind === 'progress') onProgress(message);
      else if (message.kind === 'summary') resolve(message.summary);
      else reject(new Error(`simulator: ${message.message}`));
    });
    child.once('exit', (code) => reject(new Error(`the simulator process exited with code ${code}`)));
    child.send(request);
  });
}

interface FaultStep {
  /** Share of the planned readings sent when the step runs. */
  readonly at: number;
  run(): void;
}

/** Non-retriable, then retriable: the forwarder reports the first kind, kafkajs retries the second. */
const PRODUCE_ERRORS = [
  KafkaErrorCode.InvalidRecord,
  KafkaErrorCode.InvalidRecord,
  KafkaErrorCode.NotEnoughReplicas,
  KafkaErrorCode.NotEnoughReplicas,
];

/** The pipeline faults, each at a point of the run; the Kafka ones record their windows. */
function faultSteps(
  cluster: KafkaMockCluster,
  collections: ScenarioCollections,
  timers: NodeJS.Timeout[],
  windows: { produceErrors?: FaultWindow; brokerDown?: FaultWindow },
  progress: (line: string) => void,
): FaultStep[] {
  return [
    {
      at: 0.15,
      run: () => {
        progress(`fault: Produce errors on broker ${PRODUCE_ERROR_BROKER} (non-retriable, then retriable)`);
        // Closed by the sampler once the broker returned them all
        windows.produceErrors = { from: Date.now(), until: undefined };
        cluster.pushBrokerRequestErrors(PRODUCE_ERROR_BROKER, ApiKey.Produce, PRODUCE_ERRORS);
      },
    },
    {
      at: 0.35,
      run: () => {
        progress(`fault: broker 2 down for ${BROKER_DOWN_MS} ms`);
        const window: FaultWindow = { from: Date.now(), until: undefined };
        windows.brokerDown = window;
        cluster.brokerDown(2);
        timers.push(
          setTimeout(() => {
            progress('fault: broker 2 back');
            cluster.brokerUp(2);
            window.until = Date.now();
          }, BROKER_DOWN_MS),
        );
      },
    },
    {
      at: 0.55,
      run: () => {
        progress('fault: sink bulk write cut after 20 operations');
        collections.readings.failNext({ kind: 'network', afterOperations: 20 });
      },
    },
    {
      at: 0.75,
      run: () => {
        progress('fault: sink bulk write interrupted after 5 operations');
        collections.readings.failNext({ kind: 'interrupted', afterOperations: 5 });
      },
    },
  ];
}

/**
 * Attributes the forwarder failures sampled through the run to the fault windows they fall in. A window ends the
 * forwarder's timeout after its fault (the invocations it caught end by then), or where the next fault starts: a
 * failure goes to the latest fault begun before it, so the counts of the two faults are apart.
 */
function faultReport(
  samples: readonly Sample[],
  windows: { readonly produceErrors?: FaultWindow; readonly brokerDown?: FaultWindow },
  fixed: { readonly injected: number; readonly unreturned: number; readonly sinkWriteFaultsLeft: number },
): FaultReport {
  const end = samples.at(-1)?.at ?? Date.now();
  const grace = FORWARDER_TIMEOUT_SECONDS * 1000 + 100;
  const { produceErrors, brokerDown } = windows;
  const spans = (
    [
      ['produceErrors', produceErrors],
      ['brokerDown', brokerDown],
    ] as const
  )
    .flatMap(([name, window]) => (window ? [{ name, from: window.from, until: (window.until ?? end) + grace }] : []))
    .sort((a, b) => a.from - b.from)
    .map((span, index, all) => ({ ...span, until: Math.min(span.until, all[index + 1]?.from ?? span.until) }));
  const failed = { produceErrors: 0, brokerDown: 0, outside: samples[0]?.redelivered ?? 0 };
  for (let i = 1; i < samples.length; i++) {
    const { at, redelivered } = samples[i] as Sample;
    const delta = redelivered - (samples[i - 1] as Sample).redelivered;
    const span = spans.find((candidate) => at >= candidate.from && at < candidate.until);
    failed[span?.name ?? 'outside'] += delta;
  }
  return {
    produceErrors: { injected: fixed.injected, unreturned: fixed.unreturned },
    failedDuringProduceErrors: failed.produceErrors,
    failedWhileBrokerDown: failed.brokerDown,
    failedOutsideFaults: failed.outside,
    sinkWriteFaultsLeft: fixed.sinkWriteFaultsLeft,
  };
}

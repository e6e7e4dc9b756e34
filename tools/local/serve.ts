/**
 * `telemetry-ops local`, behind its options: checks the dependencies, bundles the two functions as `cdk synth`
 * does, runs the pipeline (and, with --demo, the built-in fleet) until the signal aborts (Ctrl-C) or --duration
 * ends, with live counters on stderr and the functions' logs in a file, then prints what went through and what was
 * dead-lettered. The sink writes to MongoDB at MONGODB_URI, or else to the in-memory store; the sensor-data dashboard
 * serves whichever it is, on 127.0.0.1.
 */
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Document, MongoClient } from 'mongodb';
import { UserError } from '../../contracts/errors';
import type { FailureEnvelope } from '../../contracts/failure';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import { COLLECTIONS } from '../../lambdas/sink/mongo/collections';
import type { OpsContext } from '../../ops/context';
import { DASHBOARD_DEFAULTS } from '../../ops/dashboard/defaults';
import type { ReadableDb } from '../../ops/dashboard/readable-db';
import { type RunningDashboard, serveDashboard } from '../../ops/dashboard/server';
import { fromQuarantine } from '../../ops/failures/envelopes';
import type { SimulationSummary } from '../simulate';
import { accountFor } from './accounting';
import { bundledHandlers, bundleFunctions, type FunctionBundles } from './bundles';
import { DEMO_FLEET, type DemoFleet, startDemoFleet } from './demo-fleet';
import { type LocalDependencies, redactUri, resolveDependencies } from './dependencies';
import { type FailuresEndpoint, type LocalFailureStores, startFailuresEndpoint } from './failures-endpoint';
import { MemoryDb } from './memory-store';
import { LocalPipeline } from './pipeline';
import type { HandlerFactories } from './ports';
import {
  byReason,
  countersLine,
  fleetSummary,
  type ServeSummary,
  StatusLine,
  type StoredCounts,
  showSummary,
  storedSplit,
} from './screen';
import { checkVisibilityTimeout, type LocalSettings, localSettings } from './settings';

export type { ServeSummary } from './screen';

export interface ServeOptions {
  readonly mqttPort: number;
  readonly mqttHost: string;
  readonly mqttUrl?: string;
  readonly forwarderConcurrency?: number;
  /** Seconds. */
  readonly visibilityTimeout?: number;
  readonly logLevel: string;
  /** Run the built-in fleet against the pipeline. */
  readonly demo?: boolean;
  /** Seed of the demo fleet's readings and faults. @default a random one */
  readonly seed?: number;
  /**
   * Seconds: stop after this long (the demo fleet publishes for the first two thirds), let the pipeline drain, print
   * the summary and fail unless every acknowledged reading is accounted for. @default until the signal aborts
   */
  readonly duration?: number;
  /** Where the functions' logs go. @default telemetry-ops-local-<stack>.log in the temporary directory */
  readonly logFile?: string;
  /** Serve the sensor-data dashboard over the store the sink writes to. @default true */
  readonly dashboard?: boolean;
  /**
   * Port of the dashboard on 127.0.0.1; 0 picks a free one, and so does a port in use or privileged (the banner
   * says so). @default 8080, as `dashboard`
   */
  readonly dashboardPort?: number;
}

/** Replacements for tests: other handlers (built from source), other dependencies, another store to count in. */
export interface ServeSeams {
  readonly handlers?: HandlerFactories;
  readonly dependencies?: (environment: NodeJS.ProcessEnv, settings: LocalSettings) => Promise<LocalDependencies>;
  /** Where the summary counts what the sink stored. @default the in-memory store, or MongoDB at MONGODB_URI */
  readonly store?: ReadableDb;
  /** How often the counters line is redrawn. @default 1 s on a terminal, 10 s otherwise */
  readonly refreshMs?: number;
  /** How long --duration waits for the pipeline to drain. @default 30 s */
  readonly drainTimeoutMs?: number;
}

const DRAIN_TIMEOUT_MS = 30_000;

/** Where the functions' logs go by default: one file per stack, named on screen. */
export const defaultLogFile = (settings: LocalSettings): string =>
  join(tmpdir(), `telemetry-ops-local-${settings.stackName}.log`);

/** The document store the sink writes to, as `local` reads it back (counts, quarantine, accounting). */
interface Store {
  readonly kind: 'in-memory' | 'MongoDB';
  readonly db: ReadableDb;
  close(): Promise<void>;
}

function openStore(
  context: OpsContext,
  dependencies: LocalDependencies,
  seams: ServeSeams,
): Store & { memory?: MemoryDb } {
  const { database } = context.config.sink.mongo;
  const kind = dependencies.mongoUri === undefined ? 'in-memory' : 'MongoDB';
  if (seams.store) return { kind, db: seams.store, close: async () => undefined };
  if (dependencies.mongoUri === undefined) {
    const memory = new MemoryDb(database);
    return { kind, db: memory, memory, close: async () => undefined };
  }
  const client = new MongoClient(dependencies.mongoUri, { appName: 'telemetry-local' });
  return { kind, db: client.db(database), close: () => client.close() };
}

const count = async (db: ReadableDb, name: string, filter: Document = {}) => db.collection(name).countDocuments(filter);

export async function serveLocal(
  context: OpsContext,
  options: ServeOptions,
  signal: AbortSignal | undefined,
  seams: ServeSeams = {},
): Promise<void> {
  const { io } = context.out;
  const settings = localSettings(context.config);
  if (options.visibilityTimeout !== undefined)
    checkVisibilityTimeout(settings, options.visibilityTimeout * 1000, '--visibility-timeout');
  const dependencies = await (seams.dependencies ?? resolveDependencies)(context.environment, settings);
  const store = openStore(context, dependencies, seams);
  const logFile = options.logFile ?? defaultLogFile(settings);
  let bundles: FunctionBundles | undefined;
  let pipeline: LocalPipeline | undefined;
  let endpoint: FailuresEndpoint | undefined;
  let dashboard: LocalDashboard | undefined;
  let fleet: DemoFleet | undefined;
  let fleetDone: Promise<SimulationSummary | undefined> | undefined;
  const logs = seams.handlers ? undefined : createWriteStream(logFile, { flags: 'w' });
  const status = new StatusLine(io.stderr, context.out.json);
  try {
    let handlers = seams.handlers;
    if (!handlers) {
      status.note('Bundling the forwarder and the sink with esbuild, as `cdk synth` does…');
      bundles = await bundleFunctions({ memorySink: store.memory !== undefined });
      handlers = bundledHandlers(bundles, {
        ...(store.memory ? { store: store.memory } : {}),
        ...(logs ? { output: logs } : {}),
      });
    }
    const startedAt = new Date();
    const baseline = await storedCounts(store.db, { readings: 0, quarantined: 0 });
    pipeline = await LocalPipeline.start({
      config: context.config,
      handlers,
      kafkaBrokers: dependencies.kafka.brokers,
      mongoUri: dependencies.mongoUri,
      mqtt: options.mqttUrl ? { url: options.mqttUrl } : { host: options.mqttHost, port: options.mqttPort },
      ...(options.visibilityTimeout !== undefined ? { visibilityTimeoutMs: options.visibilityTimeout * 1000 } : {}),
      ...(options.forwarderConcurrency !== undefined ? { forwarderConcurrency: options.forwarderConcurrency } : {}),
      logLevel: options.logLevel,
      log: status,
    });
    const running = pipeline;
    const quarantined = async (): Promise<FailureEnvelope[]> =>
      (
        await store.db
          .collection(COLLECTIONS.quarantine)
          .find({ firstFailedAt: { $gte: startedAt } }, { sort: { firstFailedAt: 1 } })
          .toArray()
      ).map((document) => fromQuarantine(document as QuarantineDocument, context.config.sink.mongo.database));
    endpoint = await startFailuresEndpoint(settings.stackName, failureStores(running, settings, quarantined));
    if (options.dashboard ?? true)
      dashboard = await startDashboard(store.db, options.dashboardPort ?? DASHBOARD_DEFAULTS.port, (line) =>
        status.error(line),
      );
    io.stderr.write(
      banner(context, settings, running, dependencies, {
        external: Boolean(options.mqttUrl),
        store: store.kind,
        logFile: logs ? logFile : undefined,
        demo: Boolean(options.demo),
        duration: options.duration,
        failuresUrl: endpoint.url,
        dashboard,
      }),
    );
    const topicFilter = settings.rules[0]?.topicFilter;
    if (options.demo && topicFilter)
      fleet = startDemoFleet({
        url: running.mqttUrl,
        topicFilter,
        ...(options.duration !== undefined ? { publishMs: (options.duration * 1000 * 2) / 3 } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
    fleetDone = fleet?.done.catch((error: unknown) => {
      status.error(`the demo fleet stopped: ${(error as Error).message}`);
      return undefined;
    });
    let stored = baseline;
    const redraw = async () => {
      stored = await storedCounts(store.db, baseline).catch(() => stored);
      const progress = fleet?.progress();
      status.show(countersLine(running.counters(), stored, progress));
    };
    const refresh = setInterval(() => void redraw(), seams.refreshMs ?? (io.stderr.isTTY ? 1_000 : 10_000));
    let reason: 'signal' | 'duration';
    try {
      reason = await stopped(signal, options.duration);
    } finally {
      clearInterval(refresh);
    }
    let fleetRun: SimulationSummary | undefined;
    if (fleet) {
      fleet.stop();
      fleetRun = await fleetDone;
    }
    if (reason === 'duration') {
      status.note(`${options.duration} s: waiting for the pipeline to drain…`);
      await drained(running, seams.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
    }
    status.note('Stopping: no new messages; waiting for the invocations under way…');
    await running.stop();
    // After the invocations under way ended: what they acknowledged is not lost
    const dropped = running.ingestQueue.visibleCount + running.ingestQueue.inFlightCount;
    const deadLetters = running.deadLetters();
    const quarantine = await quarantined();
    const counters = running.counters();
    const failures = [...deadLetters.ingest, ...deadLetters.sink, ...quarantine];
    const summary: ServeSummary = {
      store: store.kind,
      counters,
      stored: storedSplit(counters, await storedCounts(store.db, baseline)),
      droppedFromIngestQueue: dropped,
      deadLetteredByReason: byReason(failures),
      ingestDeadLetters: deadLetters.ingest,
      sinkDeadLetters: deadLetters.sink,
      quarantine,
      ...(fleetRun ? { fleet: fleetSummary(fleetRun) } : {}),
      ...(reason === 'duration'
        ? {
            accounting: await accountFor({
              counters,
              demo: Boolean(options.demo),
              droppedFromIngestQueue: dropped,
              failures,
              ...(fleetRun ? { fleet: fleetRun } : {}),
              storedIds: (ids) => storedIds(store.db, ids),
            }),
          }
        : {}),
    };
    context.out.result(summary, (data) => showSummary(data, settings));
    if (summary.accounting && !summary.accounting.complete)
      throw new UserError('Not every acknowledged reading is stored or in a failure store (see the summary)');
  } finally {
    fleet?.stop();
    await fleetDone;
    await endpoint?.stop();
    await dashboard?.running.close();
    await pipeline?.stop();
    bundles?.remove();
    dependencies.kafka.stop();
    await store.close();
    await new Promise<void>((resolve) => (logs ? logs.end(resolve) : resolve()));
  }
}

/** What the store holds now, less `baseline` (what it held when the run started). */
async function storedCounts(db: ReadableDb, baseline: StoredCounts): Promise<StoredCounts> {
  const [readings, quarantined] = await Promise.all([
    count(db, COLLECTIONS.readings),
    count(db, COLLECTIONS.quarantine),
  ]);
  return { readings: readings - baseline.readings, quarantined: quarantined - baseline.quarantined };
}

async function storedIds(db: ReadableDb, ids: readonly string[]): Promise<ReadonlySet<string>> {
  const found = await db
    .collection(COLLECTIONS.readings)
    .find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } })
    .toArray();
  return new Set(found.map((document) => String(document._id)));
}

/** The failure stores of the running pipeline, for `failures list --local`. */
function failureStores(
  pipeline: LocalPipeline,
  settings: LocalSettings,
  quarantined: () => Promise<FailureEnvelope[]>,
): LocalFailureStores {
  return async (store) => {
    switch (store) {
      case 'ingest-errors':
        return {
          missing:
            'the local IoT rules send straight to the ingest queue: there is no error action here, so no ingest-errors queue',
        };
      case 'ingest-dlq':
        return pipeline.deadLetters().ingest;
      case 'sink-dlt':
        return settings.sink.deadLetterTopic
          ? pipeline.deadLetters().sink
          : {
              missing:
                'the sink runs an on-demand event source (sink.provisionedPollers is null): no dead-letter topic',
            };
      case 'quarantine':
        return quarantined();
    }
  };
}

/** Resolves when `signal` aborts or `duration` seconds have passed, saying which. */
function stopped(signal: AbortSignal | undefined, duration: number | undefined): Promise<'signal' | 'duration'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('signal');
    const timer = duration === undefined ? undefined : setTimeout(() => resolve('duration'), duration * 1000);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve('signal');
      },
      { once: true },
    );
  });
}

/**
 * Waits until nothing is under way: the ingest queue empty, and every record forwarded to Kafka acknowledged by the
 * sink or dead-lettered; at most `timeoutMs` (the accounting then says what is missing).
 */
async function drained(pipeline: LocalPipeline, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counters = pipeline.counters();
    if (counters.backlog === 0 && counters.stored + counters.deadLettered.sink >= counters.forwarded) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The dashboard `local` serves, and why not on the port it was asked for, when it is not. */
interface LocalDashboard {
  readonly running: RunningDashboard;
  readonly unavailable?: { readonly port: number; readonly reason: string };
}

/** Why a port cannot be listened on, by the listen error's code; other errors stop `local`. */
const UNAVAILABLE_PORT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is in use',
  EACCES: 'needs privileges this process lacks',
};

/**
 * Serves the dashboard over `db` on 127.0.0.1 (this machine only: no token), with the `dashboard` command's
 * freshness thresholds. A taken `port` is no reason to stop the pipeline: another free one serves it instead.
 */
async function startDashboard(db: ReadableDb, port: number, log: (line: string) => void): Promise<LocalDashboard> {
  const serve = (on: number) =>
    serveDashboard({
      db,
      host: '127.0.0.1',
      port: on,
      freshness: {
        lateAfterMs: DASHBOARD_DEFAULTS.lateAfterSeconds * 1000,
        silentAfterMs: DASHBOARD_DEFAULTS.silentAfterSeconds * 1000,
      },
      collections: COLLECTIONS,
      refreshMs: DASHBOARD_DEFAULTS.refreshSeconds * 1000,
      log,
    });
  try {
    return { running: await serve(port) };
  } catch (error) {
    const reason = UNAVAILABLE_PORT[(error as NodeJS.ErrnoException).code ?? ''];
    if (port === 0 || reason === undefined) throw error;
    return { running: await serve(0), unavailable: { port, reason } };
  }
}

interface BannerFacts {
  readonly external: boolean;
  readonly store: 'in-memory' | 'MongoDB';
  /** Where the functions' logs go; undefined for handlers built from source (they log to stdout). */
  readonly logFile: string | undefined;
  readonly demo: boolean;
  readonly duration: number | undefined;
  readonly failuresUrl: string;
  /** Undefined with --no-dashboard. */
  readonly dashboard: LocalDashboard | undefined;
}

function banner(
  context: OpsContext,
  settings: LocalSettings,
  pipeline: LocalPipeline,
  dependencies: LocalDependencies,
  facts: BannerFacts,
): string {
  const { sink } = settings;
  const { database } = context.config.sink.mongo;
  const publish = settings.rules.flatMap((rule) => [rule.deviceTopic, `${rule.basicIngestTopic}   (Basic Ingest)`]);
  const { devices, rate, faults } = DEMO_FLEET;
  const lines = [
    `Pipeline ${settings.stackName} (config/${context.options.env}.json) running on this machine.`,
    `  MQTT      ${pipeline.mqttUrl}${facts.external ? ' (subscribed to this broker)' : ' (embedded broker)'}`,
    `  publish   ${publish.join('\n            ')}`,
    `  Kafka     ${dependencies.kafka.description}`,
    `            topic ${settings.topic}${sink.deadLetterTopic ? `, sink dead-letter topic ${sink.deadLetterTopic}` : ' (on demand: no dead-letter topic)'}`,
    dependencies.mongoUri === undefined
      ? `  store     in-memory document store, database ${database}: NOT persistent, gone when this stops (set MONGODB_URI for MongoDB)`
      : `  store     MongoDB ${redactUri(dependencies.mongoUri)}, database ${database}`,
    ...(facts.logFile ? [`  logs      the functions' logs go to ${facts.logFile}`] : []),
    `  failures  npx telemetry-ops failures list --local   (every dead letter and quarantined record, while this runs;`,
    `            served at ${facts.failuresUrl})`,
    ...(facts.dashboard
      ? [
          `  dashboard ${facts.dashboard.running.url}   (sensor data from the ${facts.store} store; this machine only)`,
          ...(facts.dashboard.unavailable
            ? [
                `            port ${facts.dashboard.unavailable.port} ${facts.dashboard.unavailable.reason}: a free one serves it (--dashboard-port picks one)`,
              ]
            : []),
        ]
      : []),
    ...(facts.demo
      ? [
          `  fleet     ${devices} demo sensors, ${rate} publishes/s, ${faults.duplicate * 100}% sent twice, ${faults.outOfOrder * 100}% out of order, ${faults.malformed * 100}% extra malformed messages`,
        ]
      : [
          `  try       npx telemetry-ops simulate --url ${pipeline.mqttUrl} --devices 10 --messages 100 --malformed 0.05`,
        ]),
    `            KAFKA_BROKERS=${dependencies.kafka.brokers.join(',')} npx telemetry-ops tail --follow`,
    `Counters: published (queued by a rule, or on topics no rule selects) → forwarded to Kafka → stored (new readings, duplicates the store held already, quarantined).`,
    `${facts.duration !== undefined ? `Stops after ${facts.duration} s. ` : ''}Ctrl-C stops it.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

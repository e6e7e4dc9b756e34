/**
 * `telemetry-ops local`, behind its options: checks the dependencies, bundles the two functions as `cdk synth`
 * does, runs the pipeline until the signal aborts (Ctrl-C), with live counters on stderr, then prints what went
 * through and what was dead-lettered.
 */
import type { FailureEnvelope } from '../../lambdas/shared/failure';
import type { OpsContext } from '../context';
import { table } from '../output';
import { bundledHandlers, bundleFunctions, type FunctionBundles } from './bundles';
import { type LocalDependencies, redactUri, resolveDependencies } from './dependencies';
import { type LocalCounters, LocalPipeline } from './pipeline';
import type { HandlerFactories, LocalLog } from './ports';
import { checkVisibilityTimeout, type LocalSettings, localSettings } from './settings';

export interface ServeOptions {
  readonly mqttPort: number;
  readonly mqttHost: string;
  readonly mqttUrl?: string;
  readonly forwarderConcurrency?: number;
  /** Seconds. */
  readonly visibilityTimeout?: number;
  readonly logLevel: string;
}

/** Replacements for tests: other handlers (a MongoDB fake), other dependencies. */
export interface ServeSeams {
  readonly handlers?: HandlerFactories;
  readonly dependencies?: (environment: NodeJS.ProcessEnv, settings: LocalSettings) => Promise<LocalDependencies>;
  /** How often the counters line is redrawn. @default 1 s on a terminal, 10 s otherwise */
  readonly refreshMs?: number;
}

/** What `local` prints when it stops. */
export interface ServeSummary {
  readonly counters: LocalCounters;
  /** Ingest-queue messages not yet forwarded when it stopped (the queue lives in memory). */
  readonly droppedFromIngestQueue: number;
  /** The ingest dead-letter queue, as `failures` shows it. */
  readonly ingestDeadLetters: readonly FailureEnvelope[];
  /** What the sink event source wrote to its dead-letter topic. */
  readonly sinkDeadLetters: readonly FailureEnvelope[];
}

const MAX_LISTED = 20;

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
  let bundles: FunctionBundles | undefined;
  let pipeline: LocalPipeline | undefined;
  const status = new StatusLine(io.stderr, context.out.json);
  try {
    let handlers = seams.handlers;
    if (!handlers) {
      status.note('Bundling the forwarder and the sink with esbuild, as `cdk synth` does…');
      bundles = await bundleFunctions();
      handlers = bundledHandlers(bundles);
    }
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
    io.stderr.write(banner(context, settings, pipeline, dependencies, Boolean(options.mqttUrl)));
    const running = pipeline;
    const refresh = setInterval(
      () => status.show(countersLine(running.counters())),
      seams.refreshMs ?? (io.stderr.isTTY ? 1_000 : 10_000),
    );
    try {
      await aborted(signal);
    } finally {
      clearInterval(refresh);
    }
    status.note('Stopping: no new messages; waiting for the invocations under way…');
    await running.stop();
    // After the invocations under way ended: what they acknowledged is not lost
    const dropped = running.ingestQueue.visibleCount + running.ingestQueue.inFlightCount;
    const deadLetters = running.deadLetters();
    const summary: ServeSummary = {
      counters: running.counters(),
      droppedFromIngestQueue: dropped,
      ingestDeadLetters: deadLetters.ingest,
      sinkDeadLetters: deadLetters.sink,
    };
    context.out.result(summary, (data) => showSummary(data, settings));
  } finally {
    await pipeline?.stop();
    bundles?.remove();
    dependencies.kafka.stop();
  }
}

/** Resolves when `signal` aborts; never without one. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

function banner(
  context: OpsContext,
  settings: LocalSettings,
  pipeline: LocalPipeline,
  dependencies: LocalDependencies,
  external: boolean,
): string {
  const { sink } = settings;
  const publish = settings.rules.flatMap((rule) => [rule.deviceTopic, `${rule.basicIngestTopic}   (Basic Ingest)`]);
  const lines = [
    `Pipeline ${settings.stackName} (config/${context.options.env}.json) running on this machine.`,
    `  MQTT      ${pipeline.mqttUrl}${external ? ' (subscribed to this broker)' : ' (embedded broker)'}`,
    `  publish   ${publish.join('\n            ')}`,
    `  Kafka     ${dependencies.kafka.description}`,
    `            topic ${settings.topic}${sink.deadLetterTopic ? `, sink dead-letter topic ${sink.deadLetterTopic}` : ' (on demand: no dead-letter topic)'}`,
    `  MongoDB   ${redactUri(dependencies.mongoUri)}, database ${context.config.sink.mongo.database}`,
    `  try       npx telemetry-ops simulate --url ${pipeline.mqttUrl} --devices 10 --messages 100 --malformed 0.05`,
    `            KAFKA_BROKERS=${dependencies.kafka.brokers.join(',')} npx telemetry-ops tail --follow`,
    'Ctrl-C stops it.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

export function countersLine(counters: LocalCounters): string {
  return [
    `received ${counters.received}`,
    `forwarded ${counters.forwarded}`,
    `stored ${counters.stored}`,
    `dead-lettered ${counters.deadLettered.ingest + counters.deadLettered.sink}`,
    `backlog ${counters.backlog}`,
    `retried ${counters.redelivered + counters.sinkRetries}`,
  ].join(' | ');
}

function showSummary(summary: ServeSummary, settings: LocalSettings): string {
  const { counters } = summary;
  const lines = [
    `received ${counters.received} (${counters.unrouted} on topics no rule selects), forwarded ${counters.forwarded}, stored ${counters.stored} (stored, duplicates and quarantined)`,
    `retried: ${counters.redelivered} ingest redeliveries, ${counters.sinkRetries} sink re-invocations${counters.lateAcknowledgements > 0 ? `; ${counters.lateAcknowledgements} messages delivered twice, acknowledged after their visibility timeout ended` : ''}`,
    `dead-lettered: ${counters.deadLettered.ingest} in the ingest dead-letter queue, ${counters.deadLettered.sink} to ${settings.sink.deadLetterTopic ?? 'no dead-letter topic'}`,
  ];
  if (summary.droppedFromIngestQueue > 0)
    lines.push(`dropped: ${summary.droppedFromIngestQueue} messages still in the ingest queue (it lives in memory)`);
  const parked = [...summary.ingestDeadLetters, ...summary.sinkDeadLetters];
  if (parked.length > 0) {
    lines.push('', `dead letters${parked.length > MAX_LISTED ? ` (first ${MAX_LISTED} of ${parked.length})` : ''}:`);
    lines.push(
      table(parked.slice(0, MAX_LISTED), [
        ['STORE', (row) => row.store],
        ['REASON', (row) => row.reason],
        ['DEVICE', (row) => row.deviceId],
        ['ERROR', (row) => (row.error.length > 80 ? `${row.error.slice(0, 79)}…` : row.error)],
      ]),
    );
  }
  return lines.join('\n');
}

/**
 * The counters line on stderr: redrawn in place on a terminal, printed as a plain line otherwise; notes and the
 * event sources' warnings go above it. Silent with --json (scripts read stdout).
 */
class StatusLine implements LocalLog {
  private shown = false;

  public constructor(
    private readonly stderr: { write(chunk: string): unknown; isTTY?: boolean },
    private readonly quiet: boolean,
  ) {}

  public show(line: string): void {
    if (this.quiet) return;
    if (this.stderr.isTTY) {
      this.stderr.write(`\r\x1b[2K${line}`);
      this.shown = true;
    } else this.stderr.write(`${line}\n`);
  }

  public note(message: string): void {
    this.clear();
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  public warn(message: string): void {
    this.clear();
    this.stderr.write(`warning: ${message}\n`);
  }

  public error(message: string): void {
    this.clear();
    this.stderr.write(`error: ${message}\n`);
  }

  private clear(): void {
    if (this.shown) this.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}

/**
 * End-to-end benchmark (a script, not a test): `npm run bench:e2e -- [--devices 1000] [--readings 100] [--no-faults]
 * [--no-device-faults] [--rate <msg/s>] [--partitions 24] [--forwarder bundle|source] [--rtt <ms>]
 * [--profile <config>]`, or `npm run bench:e2e -- --latency` (below).
 *
 * Runs the end-to-end test's scenario (test/e2e/scenario.ts) at a larger size: the fleet simulator in a child process
 * publishing over MQTT (QoS 1, unlimited rate unless --rate) to the pipeline in this process — embedded aedes broker
 * → IoT rule enrichment → ingest queue → forwarder bundle (worker threads) → librdkafka mock cluster (3 brokers, its
 * own threads) → Kafka event source → sink (from source, on the main thread) → in-memory MongoDB fake. 24 partitions
 * by default: the mock keeps 5 MiB per partition, and 100,000 records in 6 would not stay readable. Prints:
 * - throughput: readings stored per second, from the first publish to the last reading stored;
 * - end-to-end latency per reading, device `ts` → `storedAt`: p50, p90, p99, max; and its two stages, device `ts` →
 *   `receivedAt` (MQTT and the IoT rule) and `receivedAt` → `storedAt` (queue, forwarder, Kafka, event source, sink);
 * - CPU of this process (pipeline and mock cluster; not the simulator's) over wall time: 2.0 = both cores busy.
 * With faults (the default) the figures include the Produce errors, the broker down for 1.5 s, the sink failures
 * and the redrive; `--no-faults` measures the clean path, `--no-device-faults` also turns off the simulator's
 * duplicates, out-of-order sends (held back on the device, which adds to their latency) and malformed messages.
 * `--rtt` adds that round trip to every broker response (2 ≈ Confluent Cloud in the same region); `--profile` takes
 * the event sources' batch sizes and windows from `config/<profile>.json` (default: the scenario's, as dev.json).
 *
 * `--latency`: the latency profile. Both `config/dev.json` (the defaults) and `config/low-latency.json`, each at a rate
 * below saturation (`--rate`, default 300 msg/s: on a 2-core machine shared with other work, the local pipeline's
 * small-batch profile saturates near 500–600 msg/s), 2 ms broker RTT (`--rtt`), no faults of either kind, 200
 * devices × 50 readings unless `--devices`/`--readings`, latency of the readings received after `--warmup` seconds
 * (default 3: the cold starts); one table of p50/p99 per stage.
 */
import './quiet-powertools';
import { loadConfig } from '../../lib/config/load';
import { runScenario, type ScenarioOptions } from '../e2e/scenario';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const sorted = (values: number[]) => values.sort((a, b) => a - b);

/** The event sources' batching of `config/<name>.json`. */
function batchingOf(name: string): NonNullable<ScenarioOptions['batching']> {
  const { forwarder, sink } = loadConfig(name);
  return {
    forwarder: { batchSize: forwarder.batchSize, maxBatchingWindowSeconds: forwarder.maxBatchingWindowSeconds },
    sink: {
      batchSize: sink.batchSize,
      maxBatchingWindowSeconds: sink.maxBatchingWindowSeconds,
      provisionedPollers: sink.provisionedPollers,
    },
  };
}

interface Figures {
  readonly lines: string[];
  readonly total: readonly number[];
  readonly toReceived: readonly number[];
  readonly receivedToStored: readonly number[];
  readonly readingsPerSecond: number;
  readonly complete: boolean;
}

/** `warmupMs`: readings received within this time from the first publish are left out of the latency figures. */
async function measure(options: ScenarioOptions, label: string, warmupMs = 0): Promise<Figures> {
  const started = Date.now();
  const cpu = process.cpuUsage();
  const run = await runScenario({
    ...options,
    forwarder: options.forwarder ?? 'bundle',
    simulator: 'process',
    timeoutMs: 600_000,
    progress: (line) => process.stdout.write(`  ${label} ${((Date.now() - started) / 1000).toFixed(1)} s  ${line}\n`),
  });
  const used = process.cpuUsage(cpu);
  const wall = Date.now() - started;

  const all = run.collections.readings.all();
  const at = (date: Date | string) => new Date(date).getTime();
  // Cold starts (worker threads, Kafka connections, the consumer group joining) are in the first seconds
  const readings = all.filter((doc) => at(doc.receivedAt) >= run.publishStartedAt + warmupMs);
  const total = sorted(readings.map((doc) => at(doc.storedAt) - at(doc.ts)));
  const toReceived = sorted(readings.map((doc) => at(doc.receivedAt) - at(doc.ts)));
  const receivedToStored = sorted(readings.map((doc) => at(doc.storedAt) - at(doc.receivedAt)));
  const window = run.lastStoredAt - run.publishStartedAt;
  const { summary, counters } = run;
  const stage = (name: string, values: readonly number[]) =>
    `${name} p50 ${percentile(values, 50)} ms, p90 ${percentile(values, 90)} ms, p99 ${percentile(values, 99)} ms, max ${values.at(-1)} ms`;
  const lines = [
    `published        ${summary.sent} messages (${summary.readings} readings, ${summary.duplicates} duplicates, ${summary.outOfOrder} out of order, ${summary.malformed} malformed) in ${summary.publishMs} ms: ${Math.round(summary.sent / (summary.publishMs / 1000))} msg/s offered`,
    `stored           ${all.length} readings, each once (latency of the ${readings.length} received after ${warmupMs} ms of warm-up); ${run.ingestDeadLetters.length} malformed parked; ${run.sinkDeadLetters.length} given up and redriven`,
    `throughput       ${Math.round(all.length / (window / 1000))} readings/s (first publish → last stored: ${window} ms)`,
    `latency ${stage('ts→stored', total)}`,
    `        ${stage('ts→received', toReceived)}`,
    `        ${stage('received→stored', receivedToStored)}`,
    `redeliveries     ingest ${counters.redelivered}, sink ${counters.sinkRetries}`,
    `cpu              ${((used.user + used.system) / 1000 / wall).toFixed(2)} cores over ${wall} ms wall (setup and drain included; the simulator process not counted)`,
  ];
  const expected = run.sent.reduce((sum, device) => sum + device.readings.length, 0);
  if (all.length !== expected) lines.push(`FAILED: ${all.length} readings stored, ${expected} sent`);
  return {
    lines,
    total,
    toReceived,
    receivedToStored,
    readingsPerSecond: all.length / (window / 1000),
    complete: all.length === expected,
  };
}

async function latencyProfile(): Promise<void> {
  const rate = Number(option('rate', '300'));
  const warmupMs = Number(option('warmup', '3')) * 1000;
  const rttMs = Number(option('rtt', '2'));
  const devices = Number(option('devices', '200'));
  const readingsPerDevice = Number(option('readings', '50'));
  const partitions = Number(option('partitions', '24'));
  process.stdout.write(
    `latency profile: ${devices} devices × ${readingsPerDevice} readings at ${rate} msg/s, broker RTT ${rttMs} ms, ${partitions} partitions, no faults, latency of readings after ${warmupMs / 1000} s of warm-up, node ${process.version}\n`,
  );
  const rows: string[] = [];
  let complete = true;
  for (const profile of ['dev', 'low-latency']) {
    const batching = batchingOf(profile);
    const figures = await measure(
      {
        devices,
        readingsPerDevice,
        rate,
        faults: false,
        deviceFaults: false,
        partitions,
        brokerRttMs: rttMs,
        batching,
      },
      profile,
      warmupMs,
    );
    process.stdout.write(`${profile}:\n${figures.lines.map((line) => `  ${line}`).join('\n')}\n`);
    complete &&= figures.complete;
    const p = (values: readonly number[]) => `${percentile(values, 50)} / ${percentile(values, 99)}`;
    rows.push(
      `| config/${profile}.json | ${batching.forwarder.batchSize} / ${batching.forwarder.maxBatchingWindowSeconds} s | ${batching.sink.batchSize} / ${batching.sink.maxBatchingWindowSeconds} s | ${p(figures.toReceived)} | ${p(figures.receivedToStored)} | ${p(figures.total)} | ${Math.round(figures.readingsPerSecond)} |`,
    );
  }
  process.stdout.write(
    '\n| profile | forwarder batch / window | sink batch / window | ts→received p50 / p99 ms | received→stored p50 / p99 ms | ts→stored p50 / p99 ms | readings/s |\n|---|---|---|---:|---:|---:|---:|\n',
  );
  process.stdout.write(`${rows.join('\n')}\n`);
  if (!complete) process.exitCode = 1;
}

async function single(): Promise<void> {
  const devices = Number(option('devices', '1000'));
  const readingsPerDevice = Number(option('readings', '100'));
  const faults = !process.argv.includes('--no-faults');
  const deviceFaults = !process.argv.includes('--no-device-faults');
  const forwarder = option('forwarder', 'bundle') === 'source' ? 'source' : 'bundle';
  // The mock cluster keeps 5 MiB per partition: 100,000 records need more than 6 partitions to stay readable
  const partitions = Number(option('partitions', '24'));
  const rate = option('rate', '');
  const rttMs = Number(option('rtt', '0'));
  const profile = option('profile', '');
  process.stdout.write(
    `end-to-end: ${devices} devices × ${readingsPerDevice} readings, ${partitions} partitions, rate ${rate || 'unlimited'}, faults ${faults ? 'on' : 'off'}${deviceFaults ? '' : ' (devices none)'}, forwarder ${forwarder}, broker RTT ${rttMs} ms${profile ? `, batching of config/${profile}.json` : ''}, node ${process.version}\n`,
  );
  const figures = await measure(
    {
      devices,
      readingsPerDevice,
      faults,
      deviceFaults,
      forwarder,
      partitions,
      brokerRttMs: rttMs,
      ...(rate ? { rate: Number(rate) } : {}),
      ...(profile ? { batching: batchingOf(profile) } : {}),
    },
    '',
  );
  process.stdout.write(`${figures.lines.join('\n')}\n`);
  if (!figures.complete) process.exitCode = 1;
}

(process.argv.includes('--latency') ? latencyProfile() : single()).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});

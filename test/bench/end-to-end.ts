/**
 * End-to-end benchmark (a script, not a test): `npm run bench:e2e -- [--devices 1000] [--readings 100] [--no-faults]
 * [--rate <msg/s>] [--partitions 24] [--forwarder bundle|source]`.
 *
 * Runs the end-to-end test's scenario (test/e2e/scenario.ts) at a larger size: the fleet simulator in a child process
 * publishing over MQTT (QoS 1, unlimited rate unless --rate) to the pipeline in this process — embedded aedes broker
 * → IoT rule enrichment → ingest queue → forwarder bundle (worker threads) → librdkafka mock cluster (3 brokers, its
 * own threads) → Kafka event source → sink (from source, on the main thread) → in-memory MongoDB fake. 24 partitions
 * by default: the mock keeps 5 MiB per partition, and 100,000 records in 6 would not stay readable. Prints:
 * - throughput: readings stored per second, from the first publish to the last reading stored;
 * - end-to-end latency per reading, device `ts` → `storedAt`: p50, p90, p99, max;
 * - CPU of this process (pipeline and mock cluster; not the simulator's) over wall time: 2.0 = both cores busy.
 * With faults (the default) the figures include the Produce errors, the broker down for 1.5 s, the sink failures
 * and the redrive; `--no-faults` measures the clean path.
 */
import './quiet-powertools';
import { runScenario } from '../e2e/scenario';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const devices = Number(option('devices', '1000'));
  const readingsPerDevice = Number(option('readings', '100'));
  const faults = !process.argv.includes('--no-faults');
  const forwarder = option('forwarder', 'bundle') === 'source' ? 'source' : 'bundle';
  // The mock cluster keeps 5 MiB per partition: 100,000 records need more than 6 partitions to stay readable
  const partitions = Number(option('partitions', '24'));
  const rate = option('rate', '');
  process.stdout.write(
    `end-to-end: ${devices} devices × ${readingsPerDevice} readings, ${partitions} partitions, rate ${rate || 'unlimited'}, faults ${faults ? 'on' : 'off'}, forwarder ${forwarder}, node ${process.version}\n`,
  );
  const started = Date.now();
  const cpu = process.cpuUsage();
  const run = await runScenario({
    devices,
    readingsPerDevice,
    faults,
    forwarder,
    simulator: 'process',
    partitions,
    ...(rate ? { rate: Number(rate) } : {}),
    timeoutMs: 600_000,
    progress: (line) => process.stdout.write(`  ${((Date.now() - started) / 1000).toFixed(1)} s  ${line}\n`),
  });
  const used = process.cpuUsage(cpu);
  const wall = Date.now() - started;

  const readings = run.collections.readings.all();
  const latencies = readings.map((doc) => new Date(doc.storedAt).getTime() - new Date(doc.ts).getTime());
  latencies.sort((a, b) => a - b);
  const window = run.lastStoredAt - run.publishStartedAt;
  const { summary, counters } = run;
  const lines = [
    `published        ${summary.sent} messages (${summary.readings} readings, ${summary.duplicates} duplicates, ${summary.outOfOrder} out of order, ${summary.malformed} malformed) in ${summary.publishMs} ms: ${Math.round(summary.sent / (summary.publishMs / 1000))} msg/s offered`,
    `stored           ${readings.length} readings, each once; ${run.ingestDeadLetters.length} malformed parked; ${run.sinkDeadLetters.length} given up and redriven`,
    `throughput       ${Math.round(readings.length / (window / 1000))} readings/s (first publish → last stored: ${window} ms)`,
    `latency ts→stored p50 ${percentile(latencies, 50)} ms, p90 ${percentile(latencies, 90)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`,
    `redeliveries     ingest ${counters.redelivered}, sink ${counters.sinkRetries}`,
    `cpu              ${((used.user + used.system) / 1000 / wall).toFixed(2)} cores over ${wall} ms wall (setup and drain included; the simulator process not counted)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const expected = run.sent.reduce((total, device) => total + device.readings.length, 0);
  if (readings.length !== expected) {
    process.stderr.write(`FAILED: ${readings.length} readings stored, ${expected} sent\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});

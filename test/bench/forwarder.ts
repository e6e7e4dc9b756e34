/**
 * Forwarder benchmark (a script, not a test): `npm run bench:forwarder -- [--rtt 0,2,20] [--batch 10,100,1000]
 * [--no-extras] [--forwarder-only]`.
 *
 * For each broker round trip (RTT, added to every response of the librdkafka mock with
 * `rd_kafka_mock_broker_set_rtt`: 0 = loopback, 2 ms ≈ Confluent Cloud in the function's region, 20 ms ≈ another
 * region) and batch sizes 10, 100 and 1,000, it measures, against a mock cluster running in a child process (so CPU
 * figures count only this process: kafkajs plus our code):
 * - the forwarder handler (validation, grouping by leader, one send per leader broker, acks=all);
 * - raw kafkajs: one `send` of the same pre-serialized messages per batch (the floor);
 * - naive: one awaited `send` per message (the original proof of concept's pattern). Its rate does not depend on
 *   the batch size (every message waits for its own round trip), so it is measured once per RTT.
 * Then, at RTT 0 and unless `--no-extras`: compression (none vs gzip) at batch 1,000, and the bundle size against
 * kafkajs alone. Each figure is the median of 3 runs after a warm-up. Above RTT 0 a run moves fewer records (at most
 * {@link BATCHES_AT_RTT}/RTT batches, {@link NAIVE_AT_RTT}/RTT naive sends) to keep the whole benchmark to minutes.
 * `--forwarder-only` skips raw kafkajs and naive (for `node --cpu-prof`: a profile of the forwarder alone);
 * `--profile-windows` prints when the forwarder was measured, for `npm run bench:profile -- --windows`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { CompressionTypes, Kafka, logLevel, type Message, Partitioners, type Producer } from 'kafkajs';
import { ForwarderEnvironmentSchema } from '../../contracts/environment';
import { toKafkaMessage } from '../../lambdas/forward/forwarder';
import { parseEnvelope } from '../../lambdas/shared/envelope';
import { BUNDLING_DEFAULTS } from '../../lib/core/defaults';
import { lambdaContext, sqsEvent, telemetryBatch } from '../helpers/factories';

const TOPIC = 'bench';
const RECORDS = 20_000;
const NAIVE_RECORDS = 4_000;
/** Above RTT 0, a run is at most this many ms of round trips: batches ≤ BATCHES_AT_RTT / rtt (and ≥ 20). */
const BATCHES_AT_RTT = 2_000;
/** Above RTT 0, naive sends per run ≤ NAIVE_AT_RTT / rtt. */
const NAIVE_AT_RTT = 2_000;
const RUNS = 3;
const NOT_MEASURED: Figure = { recordsPerSecond: Number.NaN, cpuMicrosPerRecord: Number.NaN, msPerBatch: Number.NaN };
const FORWARDER_ONLY = process.argv.includes('--forwarder-only');
/** Spans of `process.hrtime` (µs) in which the forwarder handler was measured. */
const handlerWindows: string[] = [];
const micros = () => process.hrtime.bigint() / 1000n;

interface Figure {
  readonly recordsPerSecond: number;
  readonly cpuMicrosPerRecord: number;
  /** Wall time of one batch (one invocation, one raw `send`, or one batch's naive sends), ms. */
  readonly msPerBatch: number;
}

function listOption(name: string, fallback: readonly number[]): number[] {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  return value ? value.split(',').map(Number) : [...fallback];
}

async function startBroker(rttMs: number): Promise<{ brokers: string[]; stop: () => void }> {
  const args = ['--import', 'tsx', `${__dirname}/mock-broker.ts`, TOPIC, '6', '3', String(rttMs)];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mock broker exited with ${code}`)));
  });
  return { brokers: JSON.parse(line).bootstrapServers, stop: () => child.stdin.end() };
}

/** Runs `work` (`records` records in `batchCount` batches), returning throughput, CPU per record and time per batch. */
async function measure(records: number, batchCount: number, work: () => Promise<void>): Promise<Figure> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return {
    recordsPerSecond: records / seconds,
    cpuMicrosPerRecord: (used.user + used.system) / records,
    msPerBatch: (seconds * 1000) / batchCount,
  };
}

async function median(run: () => Promise<Figure>): Promise<Figure> {
  await run(); // warm-up
  const figures: Figure[] = [];
  for (let i = 0; i < RUNS; i++) figures.push(await run());
  const by = (key: keyof Figure) => figures.map((f) => f[key]).sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
  return {
    recordsPerSecond: by('recordsPerSecond'),
    cpuMicrosPerRecord: by('cpuMicrosPerRecord'),
    msPerBatch: by('msPerBatch'),
  };
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The Kafka messages the forwarder would produce for these records, serialized up front. */
function preSerialized(records: readonly SQSRecord[]): Message[] {
  return records.map((record) => {
    const parsed = parseEnvelope(record.body);
    if (!parsed.ok) throw new Error('bench data must be valid');
    const { key, value, headers } = toKafkaMessage(record.messageId, record.body, parsed.envelope);
    return { key, value, headers };
  });
}

async function bundleSizes(): Promise<{ forwarder: number; kafkajs: number }> {
  const common = {
    bundle: true,
    write: false,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    minify: BUNDLING_DEFAULTS.minify,
    keepNames: BUNDLING_DEFAULTS.keepNames,
    mainFields: [...(BUNDLING_DEFAULTS.mainFields ?? [])],
  };
  const forwarder = await build({ ...common, entryPoints: [`${__dirname}/../../lambdas/forward/handler.ts`] });
  const kafkajs = await build({
    ...common,
    stdin: { contents: "module.exports = require('kafkajs');", resolveDir: __dirname },
  });
  return {
    forwarder: forwarder.outputFiles?.[0]?.contents.length ?? 0,
    kafkajs: kafkajs.outputFiles?.[0]?.contents.length ?? 0,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface RttResult {
  readonly rttMs: number;
  readonly sizes: ReadonlyMap<number, { handler: Figure; raw: Figure }>;
  readonly naive: Figure;
}

/** Every measurement at one broker RTT, against a mock cluster of its own. */
async function atRtt(
  rttMs: number,
  sizes: readonly number[],
  records: readonly SQSRecord[],
  messages: readonly Message[],
  extras: boolean,
): Promise<RttResult> {
  const broker = await startBroker(rttMs);
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const env = (compression: 'none' | 'gzip') =>
    ForwarderEnvironmentSchema.parse({
      KAFKA_BROKERS: broker.brokers.join(','),
      KAFKA_TOPIC: TOPIC,
      KAFKA_COMPRESSION: compression,
      DLQ_URL: 'http://127.0.0.1:1/000000000000/unused',
    });
  const { createHandler } = await import('../../lambdas/forward/create-handler');
  const handler = createHandler(env('none'), new SQSClient({}));
  const runBatches = async (run: typeof handler, recordBatches: readonly SQSRecord[][]) => {
    for (const batch of recordBatches) {
      const response = await run(sqsEvent(batch), lambdaContext(30_000));
      if (response.batchItemFailures.length > 0) throw new Error(`${response.batchItemFailures.length} records failed`);
    }
  };
  const sendBatches = async (messageBatches: readonly Message[][], compression = CompressionTypes.None) => {
    for (const batch of messageBatches) await producer.send({ topic: TOPIC, acks: -1, messages: batch, compression });
  };

  const byBatch = new Map<number, { handler: Figure; raw: Figure }>();
  for (const size of sizes) {
    const count =
      rttMs > 0 ? Math.min(records.length, size * Math.max(20, Math.floor(BATCHES_AT_RTT / rttMs))) : RECORDS;
    const recordBatches = batches(records.slice(0, count), size);
    const messageBatches = batches(messages.slice(0, count), size);
    const from = micros();
    const handlerFigure = await median(() =>
      measure(count, recordBatches.length, () => runBatches(handler, recordBatches)),
    );
    handlerWindows.push(`${from}-${micros()}`);
    const rawFigure = FORWARDER_ONLY
      ? NOT_MEASURED
      : await median(() => measure(count, messageBatches.length, () => sendBatches(messageBatches)));
    byBatch.set(size, { handler: handlerFigure, raw: rawFigure });
  }
  const naiveCount = rttMs > 0 ? Math.min(NAIVE_RECORDS, Math.floor(NAIVE_AT_RTT / rttMs)) : NAIVE_RECORDS;
  const naiveMessages = messages.slice(0, naiveCount);
  // One "batch" per message: the naive forwarder's time per batch of n is n times this
  const naive = FORWARDER_ONLY
    ? NOT_MEASURED
    : await median(() =>
        measure(naiveCount, naiveCount, async () => {
          for (const message of naiveMessages) await producer.send({ topic: TOPIC, acks: -1, messages: [message] });
        }),
      );

  const rows = [...byBatch].map(([size, { handler: h, raw: r }]) =>
    [
      fmt(size),
      fmt(h.recordsPerSecond),
      fmt(h.msPerBatch, 2),
      fmt(h.cpuMicrosPerRecord, 1),
      fmt(r.recordsPerSecond),
      fmt(r.msPerBatch, 2),
      fmt(r.cpuMicrosPerRecord, 1),
      fmt(naive.recordsPerSecond),
      fmt(naive.msPerBatch * size, 1),
      `${fmt(h.recordsPerSecond / r.recordsPerSecond, 2)}×`,
      `${fmt(h.recordsPerSecond / naive.recordsPerSecond, 1)}×`,
    ].join(' | '),
  );
  console.log(`RTT ${rttMs} ms (naive: ${fmt(naiveCount)} sends per run; others: up to ${fmt(RECORDS)} records)`);
  console.log(
    '| batch | forwarder rec/s | ms/batch | CPU µs/rec | raw kafkajs rec/s | ms/batch | CPU µs/rec | naive rec/s | ms/batch | forwarder vs raw | forwarder vs naive |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(`| ${row} |`);
  console.log('');

  if (extras) {
    const gzipHandler = createHandler(env('gzip'), new SQSClient({}));
    const thousand = batches(records, 1_000);
    const gzip = await median(() => measure(RECORDS, thousand.length, () => runBatches(gzipHandler, thousand)));
    const rawGzip = await median(() =>
      measure(RECORDS, thousand.length, () => sendBatches(batches(messages, 1_000), CompressionTypes.GZIP)),
    );
    const none = byBatch.get(1_000)?.handler;
    console.log(`Compression at batch 1,000 (forwarder), RTT ${rttMs} ms:`);
    console.log(
      `  none: ${fmt(none?.recordsPerSecond ?? 0)} rec/s, ${fmt(none?.cpuMicrosPerRecord ?? 0, 1)} CPU µs/rec`,
    );
    console.log(
      `  gzip: ${fmt(gzip.recordsPerSecond)} rec/s, ${fmt(gzip.cpuMicrosPerRecord, 1)} CPU µs/rec (raw kafkajs gzip: ${fmt(rawGzip.recordsPerSecond)} rec/s)\n`,
    );
    await gzipHandler.close();
  }

  await Promise.all([handler.close(), producer.disconnect()]);
  broker.stop();
  return { rttMs, sizes: byBatch, naive };
}

async function main(): Promise<void> {
  // Powertools reads these when the handler module loads: one metrics flush per invocation would print EMF lines
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_REGION ??= 'eu-west-1';
  // The bundled SDK warns once about this machine's Node.js; Lambda runs the stack's
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const rtts = listOption('rtt', [0, 2, 20]);
  const sizes = listOption('batch', [10, 100, 1_000]);
  const extras = !process.argv.includes('--no-extras');

  const records = telemetryBatch(RECORDS, 500, Date.now());
  const messages = preSerialized(records);
  const bodyBytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0) / records.length;
  console.log(
    `Forwarder benchmark: ${fmt(RECORDS)} records of ${fmt(bodyBytes)} bytes from 500 devices, mock cluster of 3 brokers, 6 partitions, acks=all`,
  );
  console.log(
    `Node ${process.version}, median of ${RUNS} runs after a warm-up; CPU is this process only (the broker runs in a child process); one invocation at a time\n`,
  );

  const results: RttResult[] = [];
  for (const rtt of rtts) results.push(await atRtt(rtt, sizes, records, messages, extras && rtt === 0));

  if (extras) {
    const bundle = await bundleSizes();
    console.log(
      `Bundle (esbuild, the stack's options): forwarder ${fmt(bundle.forwarder / 1024)} KiB, kafkajs alone ${fmt(bundle.kafkajs / 1024)} KiB, ratio ${fmt(bundle.forwarder / bundle.kafkajs, 2)}×\n`,
    );
  }

  if (process.argv.includes('--profile-windows')) console.log(`profile windows: ${handlerWindows.join(',')}\n`);
  console.log('Targets at batch 1,000: forwarder/raw (aim ≥ 0.9×), forwarder/naive (aim ≥ 20× at 2 ms)');
  for (const { rttMs, sizes: bySize, naive } of results) {
    const at1000 = bySize.get(1_000);
    if (!at1000) continue;
    console.log(
      `  RTT ${String(rttMs).padStart(2)} ms: forwarder/raw = ${fmt(at1000.handler.recordsPerSecond / at1000.raw.recordsPerSecond, 2)}×, forwarder/naive = ${fmt(at1000.handler.recordsPerSecond / naive.recordsPerSecond, 1)}×`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

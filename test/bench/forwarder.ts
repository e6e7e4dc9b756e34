/**
 * Forwarder benchmark (a script, not a test): `npm run bench:forwarder`.
 *
 * For batch sizes 10, 100 and 1,000 it measures, against a librdkafka mock cluster running in a child process (so
 * CPU figures count only this process: kafkajs plus our code):
 * - the forwarder handler (validation, grouping by leader, one send per leader broker, acks=all);
 * - raw kafkajs: one `send` of the same pre-serialized messages per batch (the floor);
 * - naive: one awaited `send` per message (the original proof of concept's pattern).
 * Then compression (none vs gzip) at batch 1,000, and the bundle size against kafkajs alone.
 * Each figure is the median of 3 runs after a warm-up.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { CompressionTypes, Kafka, logLevel, type Message, Partitioners, type Producer } from 'kafkajs';
import { ForwarderEnvironmentSchema } from '../../lambdas/forward/config';
import { toKafkaMessage } from '../../lambdas/forward/forwarder';
import { parseEnvelope } from '../../lambdas/shared/envelope';
import { BUNDLING_DEFAULTS } from '../../lib/core/defaults';
import { lambdaContext, sqsEvent, telemetryBatch } from '../helpers/factories';

const TOPIC = 'bench';
const BATCH_SIZES = [10, 100, 1_000];
const RECORDS = 20_000;
const NAIVE_RECORDS = 4_000;
const RUNS = 3;

interface Figure {
  readonly recordsPerSecond: number;
  readonly cpuMicrosPerRecord: number;
}

async function startBroker(): Promise<{ brokers: string[]; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${__dirname}/mock-broker.ts`, TOPIC, '6', '3'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mock broker exited with ${code}`)));
  });
  return { brokers: JSON.parse(line).bootstrapServers, stop: () => child.stdin.end() };
}

/** Runs `work` over `records` in chunks of `batch`, returning throughput and client CPU per record. */
async function measure(records: number, work: () => Promise<void>): Promise<Figure> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { recordsPerSecond: records / seconds, cpuMicrosPerRecord: (used.user + used.system) / records };
}

async function median(run: () => Promise<Figure>): Promise<Figure> {
  await run(); // warm-up
  const figures: Figure[] = [];
  for (let i = 0; i < RUNS; i++) figures.push(await run());
  const by = (key: keyof Figure) => figures.map((f) => f[key]).sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
  return { recordsPerSecond: by('recordsPerSecond'), cpuMicrosPerRecord: by('cpuMicrosPerRecord') };
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

async function main(): Promise<void> {
  // Powertools reads these when the handler module loads: one metrics flush per invocation would print EMF lines
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_REGION ??= 'eu-west-1';
  const { createHandler } = await import('../../lambdas/forward/create-handler');
  const broker = await startBroker();
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();

  const records = telemetryBatch(RECORDS, 500, Date.now());
  const messages = preSerialized(records);
  const bodyBytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0) / records.length;
  console.log(
    `Forwarder benchmark: ${fmt(RECORDS)} records of ${fmt(bodyBytes)} bytes from 500 devices, mock cluster of 3 brokers, 6 partitions, acks=all`,
  );
  console.log(
    `Node ${process.version}, median of ${RUNS} runs after a warm-up; CPU is this process only (the broker runs in a child process)\n`,
  );

  const env = (compression: 'none' | 'gzip') =>
    ForwarderEnvironmentSchema.parse({
      KAFKA_BROKERS: broker.brokers.join(','),
      KAFKA_TOPIC: TOPIC,
      KAFKA_COMPRESSION: compression,
      DLQ_URL: 'http://127.0.0.1:1/000000000000/unused',
    });
  const handler = createHandler(env('none'), new SQSClient({}));
  const runHandler = async (batch: SQSRecord[]) => {
    const response = await handler(sqsEvent(batch), lambdaContext(30_000));
    if (response.batchItemFailures.length > 0) throw new Error(`${response.batchItemFailures.length} records failed`);
  };

  const rows: string[] = [];
  const results = new Map<number, { handler: Figure; raw: Figure; naive: Figure }>();
  for (const size of BATCH_SIZES) {
    const recordBatches = batches(records, size);
    const messageBatches = batches(messages, size);
    const handlerFigure = await median(() =>
      measure(RECORDS, async () => {
        for (const batch of recordBatches) await runHandler(batch);
      }),
    );
    const rawFigure = await median(() =>
      measure(RECORDS, async () => {
        for (const batch of messageBatches) await producer.send({ topic: TOPIC, acks: -1, messages: batch });
      }),
    );
    const naiveMessages = messages.slice(0, NAIVE_RECORDS);
    const naiveFigure = await median(() =>
      measure(NAIVE_RECORDS, async () => {
        for (const batch of batches(naiveMessages, size)) {
          for (const message of batch) await producer.send({ topic: TOPIC, acks: -1, messages: [message] });
        }
      }),
    );
    results.set(size, { handler: handlerFigure, raw: rawFigure, naive: naiveFigure });
    rows.push(
      `| ${fmt(size).padStart(5)} | ${fmt(handlerFigure.recordsPerSecond).padStart(9)} | ${fmt(handlerFigure.cpuMicrosPerRecord, 1).padStart(6)} | ${fmt(rawFigure.recordsPerSecond).padStart(9)} | ${fmt(rawFigure.cpuMicrosPerRecord, 1).padStart(6)} | ${fmt(naiveFigure.recordsPerSecond).padStart(7)} | ${fmt(handlerFigure.recordsPerSecond / rawFigure.recordsPerSecond, 2).padStart(6)}× | ${fmt(handlerFigure.recordsPerSecond / naiveFigure.recordsPerSecond, 1).padStart(6)}× |`,
    );
  }
  console.log(
    '| batch | forwarder rec/s | CPU µs/rec | raw kafkajs rec/s | CPU µs/rec | naive rec/s | vs raw | vs naive |',
  );
  console.log('|------:|----------:|-------:|----------:|-------:|--------:|-------:|-------:|');
  for (const row of rows) console.log(row);

  const gzipHandler = createHandler(env('gzip'), new SQSClient({}));
  const thousand = batches(records, 1_000);
  const gzip = await median(() =>
    measure(RECORDS, async () => {
      for (const batch of thousand) {
        const response = await gzipHandler(sqsEvent(batch), lambdaContext(30_000));
        if (response.batchItemFailures.length > 0) throw new Error('gzip batch failed');
      }
    }),
  );
  const none = results.get(1_000)?.handler;
  const rawGzip = await median(() =>
    measure(RECORDS, async () => {
      for (const batch of batches(messages, 1_000)) {
        await producer.send({ topic: TOPIC, acks: -1, messages: batch, compression: CompressionTypes.GZIP });
      }
    }),
  );
  console.log('\nCompression at batch 1,000 (forwarder):');
  console.log(`  none: ${fmt(none?.recordsPerSecond ?? 0)} rec/s, ${fmt(none?.cpuMicrosPerRecord ?? 0, 1)} CPU µs/rec`);
  console.log(
    `  gzip: ${fmt(gzip.recordsPerSecond)} rec/s, ${fmt(gzip.cpuMicrosPerRecord, 1)} CPU µs/rec (raw kafkajs gzip: ${fmt(rawGzip.recordsPerSecond)} rec/s)`,
  );

  const sizes = await bundleSizes();
  console.log(
    `\nBundle (esbuild, the stack's options): forwarder ${fmt(sizes.forwarder / 1024)} KiB, kafkajs alone ${fmt(sizes.kafkajs / 1024)} KiB, ratio ${fmt(sizes.forwarder / sizes.kafkajs, 2)}×`,
  );

  const at1000 = results.get(1_000);
  if (at1000) {
    console.log(
      `\nTargets at batch 1,000: forwarder/raw = ${fmt(at1000.handler.recordsPerSecond / at1000.raw.recordsPerSecond, 2)}× (aim ≥ 0.9×), forwarder/naive = ${fmt(at1000.handler.recordsPerSecond / at1000.naive.recordsPerSecond, 1)}× (aim ≥ 20×)`,
    );
  }

  await Promise.all([handler.close(), gzipHandler.close(), producer.disconnect()]);
  broker.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

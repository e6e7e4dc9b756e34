/**
 * Cold-start benchmark (a script, not a test): `npm run bench:cold-start -- [--runs 15]`.
 *
 * What a Lambda container's init pays for our code, for both functions: each bundle built as `cdk synth` builds it
 * (tools/local/bundles.ts: the stack's esbuild options and externals), loaded with `require` in a fresh Node.js process
 * per run, and timed inside that process (Node's own start-up is left out: Lambda's runtime pays it whatever the
 * code). Per function:
 * - the handler bundle as deployed (`handler.ts`: load, parse the environment, build the clients);
 * - the same split in two, from a bundle of the wiring alone (`create-handler.ts` plus the environment parser):
 *   module load, then handler construction (`createHandler(parseEnvironment(schema))`);
 * - floors: kafkajs alone (forwarder), mongodb alone (sink), bundled with the same options;
 * - the forwarder with the dead-letter queue's SQS client loaded eagerly, as it was before it moved off the cold
 *   path (`handler.ts` plus a static import of `@aws-sdk/client-sqs`): the gain of loading it on first use.
 * Variants take turns run by run, so that the other load on the machine spreads over all of them; median of the runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFunctions, esbuildOptions, FUNCTIONS, loadEsbuild } from '../../tools/local/bundles';

const LAMBDAS = join(__dirname, '..', '..', 'lambdas');

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

/** Variables every function gets from the stack (quiet Powertools, no SDK warning about this machine's Node.js). */
const COMMON_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'cold-start',
  POWERTOOLS_SERVICE_NAME: 'cold-start',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  POWERTOOLS_METRICS_DISABLED: 'true',
  PIPELINE_NAME: 'TelemetryPipeline-bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** The environments `KafkaForwarder` and `MongoSink` set (secret ids as deployed; nothing is contacted at init). */
const ENV = {
  forwarder: {
    ...COMMON_ENV,
    KAFKA_BROKERS: 'pkc-12abc.eu-west-1.aws.confluent.cloud:9092',
    KAFKA_TOPIC: 'telemetry.readings.v1',
    KAFKA_SSL: 'true',
    KAFKA_CREDENTIALS_SECRET_ID: 'confluent/telemetry',
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/telemetry-ingest-dlq',
  },
  sink: { ...COMMON_ENV, MONGODB_URI_SECRET_ID: 'atlas/telemetry', MONGODB_DATABASE: 'telemetry' },
} as const;

interface Variant {
  readonly label: string;
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
  /** The module exports `createHandler`, `parseEnvironment` and `schema`: time the construction apart. */
  readonly construct: boolean;
}

interface Timing {
  readonly loadMs: number;
  readonly constructMs: number;
  /** CPU time of the same (less sensitive to other load on the machine than wall time). */
  readonly loadCpuMs: number;
  readonly constructCpuMs: number;
}

/** Runs in the fresh process: times `require`, then (wiring bundles) the handler's construction. */
const CHILD = `
const file = process.argv[1];
const construct = process.argv[2] === 'construct';
const cpuMs = (since) => { const used = process.cpuUsage(since); return (used.user + used.system) / 1e3; };
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const m = require(file);
const t1 = process.hrtime.bigint();
const loadCpuMs = cpuMs(c0);
const c1 = process.cpuUsage();
if (construct) m.createHandler(m.parseEnvironment(m.schema));
const t2 = process.hrtime.bigint();
process.stdout.write(JSON.stringify({ loadMs: Number(t1 - t0) / 1e6, constructMs: Number(t2 - t1) / 1e6, loadCpuMs, constructCpuMs: cpuMs(c1) }));
process.exit(0);
`;

function runOnce(variant: Variant): Timing {
  const result = spawnSync(process.execPath, ['-e', CHILD, variant.file, variant.construct ? 'construct' : 'load'], {
    env: { PATH: process.env.PATH ?? '', ...variant.env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${variant.label} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Timing;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const runs = Number(option('runs', '15'));
  const { build } = loadEsbuild();
  const dir = mkdtempSync(join(tmpdir(), 'cold-start-'));
  const deployed = await bundleFunctions();
  try {
    /** A bundle of `contents` (CommonJS, resolved from lambdas/), with the stack's options and these externals. */
    const bundle = async (name: string, contents: string, externals: readonly string[]) => {
      const outfile = join(dir, `${name}.js`);
      await build({ ...esbuildOptions(externals), stdin: { contents, resolveDir: LAMBDAS, loader: 'ts' }, outfile });
      return outfile;
    };
    // ES exports, so that esbuild shakes the tree as it does for handler.ts
    const wiring = (fn: 'forward' | 'sink', schema: string) =>
      `export { createHandler } from './${fn}/create-handler'; export { parseEnvironment } from './shared/config'; export { ${schema} as schema } from '../contracts/environment';`;
    const variants: Variant[] = [
      { label: 'forwarder handler bundle', file: deployed.forwarder, env: ENV.forwarder, construct: false },
      {
        label: 'forwarder wiring',
        file: await bundle('forwarder-wiring', wiring('forward', 'ForwarderEnvironmentSchema'), []),
        env: ENV.forwarder,
        construct: true,
      },
      {
        label: 'forwarder handler bundle, SQS client eager',
        file: await bundle(
          'forwarder-eager-sqs',
          // Exported, so that the import is kept ("sideEffects": false would drop a bare one)
          "export { SQSClient } from '@aws-sdk/client-sqs'; export { handler } from './forward/handler';",
          FUNCTIONS.forwarder.externalModules,
        ),
        env: ENV.forwarder,
        construct: false,
      },
      {
        label: 'kafkajs alone (floor)',
        file: await bundle('kafkajs', "module.exports = require('kafkajs');", []),
        env: ENV.forwarder,
        construct: false,
      },
      { label: 'sink handler bundle', file: deployed.sink, env: ENV.sink, construct: false },
      {
        label: 'sink wiring',
        file: await bundle('sink-wiring', wiring('sink', 'SinkEnvironmentSchema'), FUNCTIONS.sink.externalModules),
        env: ENV.sink,
        construct: true,
      },
      {
        label: 'mongodb alone (floor)',
        file: await bundle('mongodb', "module.exports = require('mongodb');", FUNCTIONS.sink.externalModules),
        env: ENV.sink,
        construct: false,
      },
    ];

    const timings = new Map<Variant, Timing[]>(variants.map((v) => [v, []]));
    for (const variant of variants) runOnce(variant); // warm the file cache
    for (let run = 0; run < runs; run++) for (const variant of variants) timings.get(variant)?.push(runOnce(variant));

    console.log(
      `Cold start: require of each esbuild bundle (the stack's options) in a fresh process, Node ${process.version}, median of ${runs} runs`,
    );
    console.log(
      '| bundle | size KiB | load ms | construction ms | total ms | load CPU ms | construction CPU ms | total CPU ms |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const variant of variants) {
      const all = timings.get(variant) ?? [];
      const of = (pick: (t: Timing) => number, digits: number) => median(all.map(pick)).toFixed(digits);
      const size = statSync(variant.file).size / 1024;
      const construct = (text: string) => (variant.construct ? text : '–');
      console.log(
        `| ${variant.label} | ${size.toFixed(0)} | ${of((t) => t.loadMs, 1)} | ${construct(of((t) => t.constructMs, 2))} | ${of((t) => t.loadMs + t.constructMs, 1)} | ${of((t) => t.loadCpuMs, 1)} | ${construct(of((t) => t.constructCpuMs, 2))} | ${of((t) => t.loadCpuMs + t.constructCpuMs, 1)} |`,
      );
    }
  } finally {
    deployed.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

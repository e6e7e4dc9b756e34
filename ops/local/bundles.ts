/**
 * The two functions as deployed: each `handler.ts` bundled by esbuild with the stack's options (BUNDLING_DEFAULTS,
 * the runtime's Node.js target, the same externals), then run the way Lambda runs it — loaded in an environment of
 * its own, holding only the function's variables, since the handler module reads them once, when it loads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type { BuildOptions } from 'esbuild';
import type { KafkaBatchResponse, KafkaEvent } from '../../lambdas/sink/kafka-event';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from '../../lib/core/defaults';
import { MONGODB_OPTIONAL_MODULES } from '../../lib/sink/mongo-sink';
import { requireDevDependency } from './dev-dependency';
import type { MemoryDb } from './memory-store';
import { serveMemoryStore } from './memory-store-channel';
import type { HandlerFactories } from './ports';
import { startWorkerHandler } from './worker-handler';

const LAMBDAS = join(__dirname, '..', '..', 'lambdas');

/** What `lib/forward` and `lib/sink` give `PipelineFunction`: the entry, and modules left out of the bundle. */
const FUNCTIONS = {
  forwarder: { entry: join(LAMBDAS, 'forward', 'handler.ts'), externalModules: [] as readonly string[] },
  sink: { entry: join(LAMBDAS, 'sink', 'handler.ts'), externalModules: MONGODB_OPTIONAL_MODULES },
  /** The sink on the in-memory store (memory-sink-handler.ts), for runs without MONGODB_URI. */
  memorySink: { entry: join(__dirname, 'memory-sink-handler.ts'), externalModules: MONGODB_OPTIONAL_MODULES },
} as const;

/**
 * esbuild options equal to what `NodejsFunction` runs for `BUNDLING_DEFAULTS`. A field this does not map fails
 * loudly, so the local bundles cannot drift from the deployed ones unnoticed.
 */
export function esbuildOptions(externalModules: readonly string[]): BuildOptions {
  const {
    minify,
    mainFields,
    keepNames,
    sourceMap,
    format,
    bundleAwsSDK,
    externalModules: base,
    ...rest
  } = BUNDLING_DEFAULTS;
  const unmapped = Object.keys(rest);
  if (unmapped.length > 0)
    throw new Error(`BUNDLING_DEFAULTS sets ${unmapped.join(', ')}, which ops/local/bundles.ts does not map yet`);
  return {
    bundle: true,
    platform: 'node',
    // NodejsFunction's target is the runtime's Node.js major: nodejs24.x → node24
    target: FUNCTION_DEFAULTS.runtime.name.replace(/^nodejs(\d+)\.x$/, 'node$1'),
    format: format === 'esm' ? 'esm' : 'cjs',
    minify: Boolean(minify),
    keepNames: Boolean(keepNames),
    sourcemap: Boolean(sourceMap),
    ...(mainFields ? { mainFields: [...mainFields] } : {}),
    external: [...(bundleAwsSDK ? [] : ['@aws-sdk/*']), ...(base ?? []), ...externalModules],
    logLevel: 'warning',
  };
}

export interface FunctionBundles {
  readonly forwarder: string;
  readonly sink: string;
  /** The sink on the in-memory store, when asked for. */
  readonly memorySink?: string;
  /** Deletes the bundles' directory. */
  remove(): void;
}

/**
 * esbuild, loaded on use: a development dependency, needed by `local` only. Throws DevDependencyMissingError when
 * it is not installed (`resolveDependencies` checks this before anything starts).
 */
export const loadEsbuild = (): typeof import('esbuild') =>
  requireDevDependency<typeof import('esbuild')>('esbuild', 'bundling the functions as `cdk synth` does');

/** Bundles both functions (and the sink on the in-memory store, with `memorySink`) into a temporary directory. */
export async function bundleFunctions(options: { readonly memorySink?: boolean } = {}): Promise<FunctionBundles> {
  const { build } = loadEsbuild();
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-local-'));
  const names = options.memorySink ? (['forwarder', 'sink', 'memorySink'] as const) : (['forwarder', 'sink'] as const);
  try {
    const outfiles = await Promise.all(
      names.map(async (name) => {
        const outfile = join(dir, name, 'index.js');
        await build({
          ...esbuildOptions(FUNCTIONS[name].externalModules),
          entryPoints: [FUNCTIONS[name].entry],
          outfile,
        });
        return [name, outfile] as const;
      }),
    );
    const built = Object.fromEntries(outfiles) as Record<(typeof names)[number], string>;
    return { ...built, remove: () => rmSync(dir, { recursive: true }) } as FunctionBundles;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface BundledHandlerOptions {
  /** The sink writes here instead of MongoDB (the bundles must include `memorySink`). */
  readonly store?: MemoryDb;
  /** Where the functions' logs go. @default this process's stdout and stderr */
  readonly output?: NodeJS.WritableStream;
}

/** Handler factories that run the bundles, each container in its own worker thread (see worker-handler.ts). */
export function bundledHandlers(bundles: FunctionBundles, options: BundledHandlerOptions = {}): HandlerFactories {
  const { store, output } = options;
  const logs = output ? { output } : {};
  return {
    forwarder: (environment) => startWorkerHandler(bundles.forwarder, environment, logs),
    sink: async (environment) => {
      if (!store) return startWorkerHandler(bundles.sink, environment, logs);
      if (!bundles.memorySink) throw new Error('bundleFunctions was not asked for the in-memory sink');
      // One channel per container, as each execution environment has its own connection
      const { port1, port2 } = new MessageChannel();
      serveMemoryStore(port1, store);
      const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.memorySink, environment, {
        ...logs,
        workerData: { store: port2 },
        transferList: [port2],
      });
      return Object.assign((event: KafkaEvent, context: Context) => handler(event, context), handler, {
        close: async () => {
          await handler.close();
          port1.close();
        },
      });
    },
  };
}

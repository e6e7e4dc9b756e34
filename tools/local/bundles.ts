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
import { requireDevDependency } from '../../ops/dev-dependency';
import type { MemoryDb } from './memory-store';
import { serveMemoryStore } from './memory-store-channel';
import type { HandlerFactories } from './ports';
import { startWorkerHandler } from './worker-handler';

const LAMBDAS = join(__dirname, '..', '..', 'lambdas');

/** What `lib/forward` and `lib/sink` give `PipelineFunction`: the entry, and modules left out of the bundle. */
export const FUNCTIONS = {
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
    throw new Error(`BUNDLING_DEFAULTS sets ${unmapped.join(', ')}, which tools/local/bundles.ts does not map yet`);
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
  /** The sink's bundle: of `lambdas/sink/handler.ts`, or of memory-sink-handler.ts (`onMemoryStore`). */
  readonly sink: string;
  /** Whether the sink bundle writes to the in-memory store (given a MessagePort to it) instead of MongoDB. */
  readonly sinkOnMemoryStore: boolean;
  /** Deletes the bundles' directory. */
  remove(): void;
}

/**
 * esbuild, loaded on use: a development dependency, needed by `local` only. Throws DevDependencyMissingError when
 * it is not installed (`resolveDependencies` checks this before anything starts).
 */
export const loadEsbuild = (): typeof import('esbuild') =>
  requireDevDependency<typeof import('esbuild')>('esbuild', 'bundling the functions as `cdk synth` does');

/**
 * Bundles both functions into a temporary directory; with `memorySink`, the sink's entry is the one on the in-memory
 * store (memory-sink-handler.ts).
 */
export async function bundleFunctions(options: { readonly memorySink?: boolean } = {}): Promise<FunctionBundles> {
  const { build } = loadEsbuild();
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-local-'));
  const sinkOnMemoryStore = Boolean(options.memorySink);
  try {
    const [forwarder, sink] = await Promise.all(
      (['forwarder', sinkOnMemoryStore ? 'memorySink' : 'sink'] as const).map(async (name) => {
        const outfile = join(dir, name, 'index.js');
        await build({
          ...esbuildOptions(FUNCTIONS[name].externalModules),
          entryPoints: [FUNCTIONS[name].entry],
          outfile,
        });
        return outfile;
      }),
    );
    return {
      forwarder: forwarder as string,
      sink: sink as string,
      sinkOnMemoryStore,
      remove: () => rmSync(dir, { recursive: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface BundledHandlerOptions {
  /** The sink writes here instead of MongoDB (bundled with `memorySink`). */
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
      if ((store !== undefined) !== bundles.sinkOnMemoryStore)
        throw new Error('bundledHandlers: give the in-memory store exactly when the sink was bundled for it');
      if (!store) return startWorkerHandler(bundles.sink, environment, logs);
      // One channel per container, as each execution environment has its own connection
      const { port1, port2 } = new MessageChannel();
      serveMemoryStore(port1, store);
      const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.sink, environment, {
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

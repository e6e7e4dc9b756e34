/**
 * A function's bundle running in its own worker thread: one Lambda execution environment. The worker has only the
 * function's environment in its `process.env` (as Lambda gives a function only its own variables), its own copy of
 * every module (Kafka producer, MongoDB client, Powertools logger and metrics), and its own core, so the local
 * pipeline uses more than one. Invocations and results cross by structured clone; the context is rebuilt inside.
 * An uncaught exception or unhandled rejection in the bundle ends the worker, as it ends a Lambda runtime: the
 * invocation under way rejects and the handler reports itself gone (`alive`), so that it is not invoked again.
 */
import { type TransferListItem, Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { PipelineError } from '../../contracts/errors';
import type { ClosableHandler } from './containers';

/** The worker: loads the bundle, then answers invocations and a final close, one message each. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { handler } = require(workerData.bundle);
if (typeof handler !== 'function') throw new Error(workerData.bundle + ' exports no handler');
parentPort.on('message', async (message) => {
  if (message.kind === 'close') {
    if (typeof handler.close === 'function') await handler.close();
    parentPort.postMessage({ id: message.id, ok: true });
    return;
  }
  const { deadline, ...fields } = message.context;
  const context = {
    ...fields,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    parentPort.postMessage({ id: message.id, ok: true, result: await handler(message.event, context) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, ok: false, error: { name: error && error.name, message: String(error && error.message) } });
  }
});
parentPort.postMessage({ ready: true });
`;

type Reply =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

/** An error the function threw, rebuilt on this side of the worker (name and message; no stack). */
export class FunctionError extends PipelineError {
  /** The thrown error's own name (`ConfigurationError`, `BatchNotStoredError`, …): classify by it. */
  public override readonly name: string;
  public constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface WorkerHandlerOptions {
  /** More for the bundle to read from `workerData` (a MessagePort to the in-memory store). */
  readonly workerData?: Readonly<Record<string, unknown>>;
  readonly transferList?: readonly TransferListItem[];
  /** Where the function's stdout and stderr go (its logs, as CloudWatch Logs gets them). @default this process's */
  readonly output?: NodeJS.WritableStream;
}

/**
 * Starts a worker that loads `bundle` with `environment` as its whole environment; resolves once the bundle loaded
 * (rejects with the bundle's own error when it cannot load, e.g. a bad environment).
 */
export function startWorkerHandler<E, R>(
  bundle: string,
  environment: Readonly<Record<string, string>>,
  options: WorkerHandlerOptions = {},
): Promise<ClosableHandler<E, R>> {
  const { output } = options;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    env: { ...environment },
    workerData: { ...options.workerData, bundle },
    transferList: [...(options.transferList ?? [])],
    stdout: output !== undefined,
    stderr: output !== undefined,
  });
  if (output) {
    worker.stdout.pipe(output, { end: false });
    worker.stderr.pipe(output, { end: false });
  }
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  let exited: Error | undefined;
  const call = (message: Record<string, unknown>): Promise<unknown> => {
    if (exited) return Promise.reject(exited);
    const id = next++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  };
  return new Promise((resolve, reject) => {
    worker.on('message', (message: Reply | { ready: true }) => {
      if ('ready' in message) {
        resolve(handler);
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new FunctionError(message.error.name, message.error.message));
    });
    worker.on('error', (error) => {
      exited = error;
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
    worker.on('exit', (code) => {
      exited ??= new Error(`the ${bundle} worker exited with code ${code}`);
      for (const waiter of pending.values()) waiter.reject(exited);
      pending.clear();
    });
    const invoke = (event: E, context: Context): Promise<R> => {
      const { done: _done, fail: _fail, succeed: _succeed, getRemainingTimeInMillis, ...fields } = context;
      return call({
        kind: 'invoke',
        event,
        context: { ...fields, deadline: Date.now() + getRemainingTimeInMillis() },
      }) as Promise<R>;
    };
    const handler = Object.assign(invoke, {
      close: async () => {
        if (!exited) await call({ kind: 'close' }).catch(() => undefined);
        await worker.terminate();
      },
      // Ends the worker wherever it is, a busy loop included; what it was running rejects
      terminate: async () => {
        exited ??= new Error(`the ${bundle} worker was terminated`);
        await worker.terminate();
      },
      alive: () => exited === undefined,
    });
  });
}

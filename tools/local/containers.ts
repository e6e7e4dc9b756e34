/**
 * Lambda runs each concurrent invocation of a function in its own execution environment (container), created on
 * demand (a cold start) and reused afterwards. Here a container is one handler instance — for a bundle, a worker
 * thread with its own copy of the module, its own Kafka producer or MongoDB client and its own Powertools logger
 * and metrics, which must never see two invocations at once.
 *
 * As in Lambda, an environment whose runtime died (an uncaught exception or unhandled rejection ended its worker)
 * is not reused, and an invocation that runs past the function's timeout is ended with its environment: the next
 * invocation gets a fresh one.
 */
import type { Context } from 'aws-lambda';
import { withDeadline } from '../../lambdas/shared/deadline';
import { describeError } from '../../lambdas/shared/errors';
import { invocationContext } from './lambda-context';

/** A Lambda handler that can release its connections (what `createHandler` returns). */
export type ClosableHandler<E, R> = ((event: E, context: Context) => Promise<R>) & {
  close(): Promise<void>;
  /** Ends the environment now, whatever it is running (a worker thread). Without it, a handler cannot be ended. */
  terminate?(): Promise<void>;
  /** False once the environment is gone (its worker exited); it is then never invoked again. */
  alive?(): boolean;
};

export interface ContainersOptions<E, R> {
  readonly functionName: string;
  readonly timeoutMs: number;
  /** Containers at most; further invocations wait for a free one. */
  readonly max: number;
  /** A cold start: builds one handler instance. */
  readonly create: () => Promise<ClosableHandler<E, R>>;
  /** How long `close` waits for a container to release its connections before ending it. @default 5 s */
  readonly closeTimeoutMs?: number;
}

interface Waiter<H> {
  readonly resolve: (handler: H) => void;
  readonly reject: (error: Error) => void;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export class Containers<E, R> {
  private readonly all = new Set<ClosableHandler<E, R>>();
  private idle: ClosableHandler<E, R>[] = [];
  private readonly waiting: Waiter<ClosableHandler<E, R>>[] = [];
  private creating = 0;
  private closed = false;

  public constructor(private readonly options: ContainersOptions<E, R>) {}

  /** Creates the first container, so that a bad environment fails now rather than at the first message. */
  public async warm(): Promise<void> {
    this.release(await this.cold());
  }

  /**
   * Invokes the function in a free container with a fresh context; rejects at the function's timeout, as Lambda
   * ends an invocation. The timeout runs from the start of the invocation, not from the wait for a free container
   * (Lambda's timeout does not count throttling either); that wait ends, since every invocation ends by its timeout.
   */
  public async invoke(event: E): Promise<R> {
    const { functionName, timeoutMs } = this.options;
    const handler = await this.acquire();
    const invocation = handler(event, invocationContext(functionName, timeoutMs));
    let settled = false;
    const done = () => {
      settled = true;
    };
    invocation.then(done, done);
    try {
      return await withDeadline(invocation, Date.now() + timeoutMs, `Task timed out: ${functionName}`);
    } finally {
      if (settled) this.finished(handler);
      else this.timedOut(handler, invocation);
    }
  }

  /**
   * Closes every container (their Kafka and MongoDB connections); a container that does not close within
   * `closeTimeoutMs` is ended. Invocations still waiting for a container are rejected. Rejects with every error
   * once all are closed.
   */
  public async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.stoppedError());
    const handlers = [...this.all];
    this.all.clear();
    this.idle = [];
    const results = await Promise.allSettled(handlers.map((handler) => this.closeOne(handler)));
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (errors.length > 0)
      throw new AggregateError(
        errors,
        `${this.options.functionName}: closing ${errors.length} of ${handlers.length} containers failed: ${errors.map((error) => describeError(error)).join('; ')}`,
      );
  }

  private async acquire(): Promise<ClosableHandler<E, R>> {
    if (this.closed) throw this.stoppedError();
    for (let free = this.idle.pop(); free; free = this.idle.pop()) {
      if (free.alive?.() !== false) return free;
      this.all.delete(free);
    }
    if (this.all.size + this.creating < this.options.max) return this.cold();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private async cold(): Promise<ClosableHandler<E, R>> {
    this.creating++;
    let handler: ClosableHandler<E, R>;
    try {
      handler = await this.options.create();
    } finally {
      this.creating--;
    }
    if (this.closed) {
      await this.closeOne(handler).catch(() => undefined);
      throw this.stoppedError();
    }
    this.all.add(handler);
    return handler;
  }

  /** After an invocation returned or threw: the container is reused, unless its environment died meanwhile. */
  private finished(handler: ClosableHandler<E, R>): void {
    if (handler.alive?.() === false) this.discard(handler);
    else this.release(handler);
  }

  /**
   * Lambda ends a timed-out invocation with its environment. A handler that cannot be ended (built from source, in
   * this process) is not reused until it returns, since its module's singletons must not see two invocations.
   */
  private timedOut(handler: ClosableHandler<E, R>, invocation: Promise<R>): void {
    if (!handler.terminate) {
      const done = () => this.finished(handler);
      invocation.then(done, done);
      return;
    }
    this.discard(handler);
    handler.terminate().catch(() => undefined);
  }

  private release(handler: ClosableHandler<E, R>): void {
    if (!this.all.has(handler)) return;
    const next = this.waiting.shift();
    if (next) next.resolve(handler);
    else this.idle.push(handler);
  }

  /** Forgets a container that is gone; an invocation waiting for one gets a cold start in its place. */
  private discard(handler: ClosableHandler<E, R>): void {
    this.all.delete(handler);
    this.idle = this.idle.filter((other) => other !== handler);
    const next = this.waiting.shift();
    if (next) this.cold().then(next.resolve, next.reject);
  }

  private async closeOne(handler: ClosableHandler<E, R>): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const closing = handler.close();
    try {
      if ((await Promise.race([closing.then(() => 'closed' as const), timeout])) === 'closed') return;
      closing.catch(() => undefined);
      if (!handler.terminate)
        throw new Error(`${this.options.functionName}: a container did not close within ${timeoutMs} ms`);
      await handler.terminate();
    } catch (error) {
      await handler.terminate?.();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private stoppedError(): Error {
    return new Error(`${this.options.functionName}: stopped, no more invocations`);
  }
}

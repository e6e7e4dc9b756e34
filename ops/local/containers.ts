/**
 * Lambda runs each concurrent invocation of a function in its own execution environment (container), created on
 * demand (a cold start) and reused afterwards. Here a container is one handler instance — for a bundle, a worker
 * thread with its own copy of the module, its own Kafka producer or MongoDB client and its own Powertools logger
 * and metrics, which must never see two invocations at once.
 */
import type { Context } from 'aws-lambda';
import { withDeadline } from '../../lambdas/shared/deadline';
import { invocationContext } from './lambda-context';

/** A Lambda handler that can release its connections (what `createHandler` returns). */
export type ClosableHandler<E, R> = ((event: E, context: Context) => Promise<R>) & { close(): Promise<void> };

export interface ContainersOptions<E, R> {
  readonly functionName: string;
  readonly timeoutMs: number;
  /** Containers at most; further invocations wait for a free one. */
  readonly max: number;
  /** A cold start: builds one handler instance. */
  readonly create: () => Promise<ClosableHandler<E, R>>;
}

export class Containers<E, R> {
  private readonly all: ClosableHandler<E, R>[] = [];
  private readonly idle: ClosableHandler<E, R>[] = [];
  private readonly waiting: ((handler: ClosableHandler<E, R>) => void)[] = [];
  private creating = 0;

  public constructor(private readonly options: ContainersOptions<E, R>) {}

  /** Creates the first container, so that a bad environment fails now rather than at the first message. */
  public async warm(): Promise<void> {
    this.release(await this.cold());
  }

  /**
   * Invokes the function in a free container with a fresh context; rejects at the function's timeout, as Lambda
   * ends an invocation (the handler cannot be stopped: its container is not reused until it returns).
   */
  public async invoke(event: E): Promise<R> {
    const { functionName, timeoutMs } = this.options;
    const handler = await this.acquire();
    const invocation = handler(event, invocationContext(functionName, timeoutMs));
    void invocation.then(
      () => this.release(handler),
      () => this.release(handler),
    );
    return withDeadline(invocation, Date.now() + timeoutMs, `Task timed out: ${functionName}`);
  }

  /** Closes every container (their Kafka and MongoDB connections). */
  public async close(): Promise<void> {
    await Promise.all(this.all.map((handler) => handler.close()));
  }

  private async acquire(): Promise<ClosableHandler<E, R>> {
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length + this.creating < this.options.max) return this.cold();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async cold(): Promise<ClosableHandler<E, R>> {
    this.creating++;
    try {
      const handler = await this.options.create();
      this.all.push(handler);
      return handler;
    } finally {
      this.creating--;
    }
  }

  private release(handler: ClosableHandler<E, R>): void {
    const next = this.waiting.shift();
    if (next) next(handler);
    else this.idle.push(handler);
  }
}

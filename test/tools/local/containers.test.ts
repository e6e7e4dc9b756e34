/**
 * Execution environments as Lambda keeps them: reused while healthy, replaced when their runtime died or an
 * invocation timed out (the invocation is ended with its environment), closed within a bound. First against fake
 * handlers, then with bundles in worker threads that crash or spin.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClosableHandler, Containers } from '../../../tools/local/containers';
import { startWorkerHandler } from '../../../tools/local/worker-handler';

type Behaviour = (event: string) => Promise<string>;

/** A fake environment: answers with `behaviour`, counts what was done to it. */
class FakeEnvironment {
  public closed = 0;
  public terminated = 0;
  public dead = false;
  public readonly handler: ClosableHandler<string, string>;

  public constructor(
    public readonly id: number,
    behaviour: Behaviour,
    close: () => Promise<void> = async () => undefined,
  ) {
    this.handler = Object.assign((event: string) => behaviour(event), {
      close: async () => {
        this.closed++;
        await close();
      },
      terminate: async () => {
        this.terminated++;
        this.dead = true;
      },
      alive: () => !this.dead,
    });
  }
}

function containers(
  behaviour: (environment: FakeEnvironment) => Behaviour,
  options: { timeoutMs?: number; max?: number; close?: () => Promise<void> } = {},
) {
  const environments: FakeEnvironment[] = [];
  const pool = new Containers<string, string>({
    functionName: 'fn',
    timeoutMs: options.timeoutMs ?? 1_000,
    max: options.max ?? 1,
    closeTimeoutMs: 100,
    create: async () => {
      const environment: FakeEnvironment = new FakeEnvironment(
        environments.length + 1,
        (event) => behaviour(environment)(event),
        options.close,
      );
      environments.push(environment);
      return environment.handler;
    },
  });
  return { pool, environments };
}

const never = () => new Promise<string>(() => undefined);

describe('Containers', () => {
  it('reuses a container that answered', async () => {
    // Given a pool whose containers answer with their id
    const { pool, environments } = containers((environment) => async (event) => `${event} by ${environment.id}`);

    // When it is invoked twice
    const answers = [await pool.invoke('a'), await pool.invoke('b')];

    // Then the first container answered both
    expect(answers).toEqual(['a by 1', 'b by 1']);
    expect(environments).toHaveLength(1);
  });

  it('starts a fresh container after one whose runtime died, instead of failing every later invocation', async () => {
    // Given a pool whose container's runtime dies on "crash"
    const { pool, environments } = containers((environment) => async (event) => {
      if (event === 'crash') {
        environment.dead = true;
        throw new Error('Runtime.ExitError');
      }
      if (environment.dead) throw new Error('the worker exited');
      return `${event} by ${environment.id}`;
    });

    // When one invocation crashes it and another follows
    await expect(pool.invoke('crash')).rejects.toThrow('Runtime.ExitError');
    const next = await pool.invoke('after');

    // Then the next runs in a fresh container
    expect(next).toBe('after by 2');
    expect(environments).toHaveLength(2);
  });

  it('skips a container that died while idle', async () => {
    // Given a pool with one container that answered, then died while idle
    const { pool, environments } = containers((environment) => async (event) => `${event} by ${environment.id}`);
    await pool.invoke('a');
    (environments[0] as FakeEnvironment).dead = true;

    // When it is invoked again / Then a fresh container answers
    expect(await pool.invoke('b')).toBe('b by 2');
  });

  it('ends a timed-out invocation with its container, and serves the next one from a fresh container', async () => {
    // Given a pool of one container, with a 50 ms timeout, whose first container never answers
    const { pool, environments } = containers(
      (environment) => (event) => (environment.id === 1 ? never() : Promise.resolve(`${event} by ${environment.id}`)),
      { timeoutMs: 50, max: 1 },
    );

    // When an invocation times out and another follows
    await expect(pool.invoke('hangs')).rejects.toMatchObject({
      name: 'DeadlineExceededError',
      message: expect.stringContaining('Task timed out: fn'),
    });
    const next = await pool.invoke('next');

    // Then the hung container is ended and the next answers from a fresh one
    expect(environments[0]?.terminated).toBe(1);
    expect(next).toBe('next by 2');
  });

  it('gives an invocation waiting for a container the place of one that timed out', async () => {
    // Given a pool of one container whose first never answers
    const { pool } = containers(
      (environment) => (event) => (environment.id === 1 ? never() : Promise.resolve(`${event} by ${environment.id}`)),
      { timeoutMs: 50, max: 1 },
    );

    // When a second invocation waits for the container of the first
    const [hung, waiting] = await Promise.allSettled([pool.invoke('hangs'), pool.invoke('waits')]);

    // Then the first times out and the waiting one runs in a fresh container
    expect(hung.status).toBe('rejected');
    expect(waiting).toEqual({ status: 'fulfilled', value: 'waits by 2' });
  });

  it('ends a container that does not close in time, closes the others, and rejects what still waits', async () => {
    // Given two containers, the first never closing
    let calls = 0;
    const { pool, environments } = containers(() => async (event) => event, {
      max: 2,
      close: () => (++calls === 1 ? never().then(() => undefined) : Promise.resolve()),
    });
    await Promise.all([pool.invoke('a'), pool.invoke('b')]);

    // When the pool closes
    await pool.close();

    // Then the first is ended, the second closed, and a later invocation is refused
    expect(environments.map((environment) => [environment.closed, environment.terminated])).toEqual([
      [1, 1],
      [1, 0],
    ]);
    await expect(pool.invoke('late')).rejects.toThrow('fn: stopped');
  });

  it('closes every container even when one fails to, then reports the failure', async () => {
    // Given two containers, the first failing to close
    let calls = 0;
    const { pool, environments } = containers(() => async (event) => event, {
      max: 2,
      close: async () => {
        if (++calls === 1) throw new Error('MongoClient close failed');
      },
    });
    await Promise.all([pool.invoke('a'), pool.invoke('b')]);

    // When the pool closes
    const closing = pool.close();

    // Then both were closed and the failure is reported
    await expect(closing).rejects.toBeInstanceOf(AggregateError);
    await expect(closing).rejects.toMatchObject({
      errors: [expect.objectContaining({ message: 'MongoClient close failed' })],
    });
    expect(environments.map((environment) => environment.closed)).toEqual([1, 1]);
  });
});

describe('Containers of worker threads', () => {
  let dir: string;
  let bundle: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'containers-'));
    bundle = join(dir, 'index.js');
    // `invocations` counts per module instance: 1 means a fresh environment
    writeFileSync(
      bundle,
      `let invocations = 0;
exports.handler = async (event) => {
  invocations++;
  if (event === 'throw later') return new Promise(() => setTimeout(() => { throw new Error('boom'); }, 10));
  if (event === 'reject unhandled') { Promise.reject(new Error('nobody waits for this')); return new Promise(() => undefined); }
  if (event === 'spin') for (;;) {}
  return event + ' #' + invocations;
};
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pool = (timeoutMs = 2_000) =>
    new Containers<string, string>({
      functionName: 'fn',
      timeoutMs,
      max: 1,
      create: () => startWorkerHandler<string, string>(bundle, {}),
    });

  it.each(['throw later', 'reject unhandled'])(
    'fails the invocation whose bundle did "%s" and runs the next one in a fresh worker',
    async (fault) => {
      // Given a worker pool whose bundle answered once
      const workers = pool();
      try {
        expect(await workers.invoke('warm')).toBe('warm #1');

        // When the bundle fails an invocation outside its promise
        await expect(workers.invoke(fault)).rejects.toThrow();
        const next = await workers.invoke('next');

        // Then the next invocation runs in a fresh worker (its first invocation)
        expect(next).toBe('next #1');
      } finally {
        await workers.close();
      }
    },
  );

  it('terminates a worker spinning past the timeout and runs the next invocation in a fresh one', async () => {
    // Given a worker pool with a 300 ms timeout
    const workers = pool(300);
    try {
      // When the bundle spins past it, and another invocation follows
      await expect(workers.invoke('spin')).rejects.toThrow('Task timed out: fn');
      const next = await workers.invoke('next');

      // Then the spinning worker was terminated and the next runs in a fresh one
      expect(next).toBe('next #1');
    } finally {
      await workers.close();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invocationDeadline, timeLeft, withDeadline } from '../../../lambdas/shared/deadline';
import { DeadlineExceededError } from '../../../lambdas/shared/errors';

const NOW = 1_000_000;

describe('invocationDeadline', () => {
  it.each([
    // remaining ms, deadline from now: the margin is 10% of the remaining time, at least 500 ms
    [0, 0],
    [300, 0],
    [500, 0],
    [1_000, 500],
    [5_000, 4_500],
    [10_000, 9_000],
    [60_000, 54_000],
    [900_000, 810_000],
  ])('given %i ms left in the invocation, then the work must end %i ms from now', (remainingMs, expected) => {
    expect(invocationDeadline(remainingMs, NOW) - NOW).toBe(expected);
  });
});

describe('timeLeft', () => {
  it.each([
    ['before the deadline', NOW + 250, 250],
    ['at the deadline', NOW, 0],
    ['past the deadline', NOW - 250, 0],
  ])('given a time %s, then it is the time until it, never negative', (_, deadline, expected) => {
    expect(timeLeft(deadline, NOW)).toBe(expected);
  });
});

describe('withDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A promise and the functions that settle it (Promise.withResolvers needs Node.js 22). */
  function pending<T>() {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  it.each([
    ['resolves in time', { value: 'sent' }, 'resolve'],
    ['rejects in time', { error: 'KafkaJSConnectionError' }, 'reject'],
    ['fails only after the deadline', { error: 'DeadlineExceededError' }, 'late'],
    ['never settles', { error: 'DeadlineExceededError' }, 'never'],
  ] as const)('given work that %s, then the outcome is %o', async (_, expected, settle) => {
    // Given work with 1 s before the deadline
    const work = pending<string>();
    const raced = withDeadline(work.promise, NOW + 1_000, 'Kafka send');
    const outcome = raced.then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.name }),
    );

    // When it settles (or not) before or after the deadline
    if (settle === 'resolve') work.resolve('sent');
    if (settle === 'reject') work.reject(Object.assign(new Error('refused'), { name: 'KafkaJSConnectionError' }));
    await vi.advanceTimersByTimeAsync(settle === 'late' || settle === 'never' ? 1_000 : 10);
    if (settle === 'late') work.reject(new Error('late failure'));

    // Then the caller gets its outcome, or the typed deadline error, never a late rejection
    expect(await outcome).toEqual(expected);
  });

  it('given no time left, when raced, then it rejects at once with the typed error naming the work', async () => {
    // Given a deadline already past, and work that will fail later
    const work = pending<string>();

    // When raced
    const raced = withDeadline(work.promise, NOW - 1, 'MongoDB connect');
    work.reject(new Error('late failure'));

    // Then a DeadlineExceededError (a class, with its name), and the late failure is swallowed
    const error = await raced.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({
      name: 'DeadlineExceededError',
      message: 'MongoDB connect: no time left before the invocation deadline',
    });
  });

  it('given work that outlives the deadline, when it times out, then the message says how long it had', async () => {
    const raced = withDeadline(pending<string>().promise, NOW + 1_000, 'Kafka metadata');
    const error = raced.catch((caught: unknown) => caught);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await error).toMatchObject({
      name: 'DeadlineExceededError',
      message: 'Kafka metadata: not finished 1000 ms before the invocation deadline',
    });
  });
});

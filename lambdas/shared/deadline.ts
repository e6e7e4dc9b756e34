import { DeadlineExceededError } from './errors';

/**
 * The point in time by which an invocation must have finished its work: the Lambda deadline less a margin for
 * assembling and returning the response (10% of the remaining time, at least 500 ms).
 */
export function invocationDeadline(remainingMs: number, now: number = Date.now()): number {
  const margin = Math.max(500, remainingMs * 0.1);
  return now + Math.max(0, remainingMs - margin);
}

/** Milliseconds left until `deadline`, never negative. */
export const timeLeft = (deadline: number, now: number = Date.now()): number => Math.max(0, deadline - now);

/**
 * Settles with `promise`, or rejects with {@link DeadlineExceededError} at `deadline`, whichever comes first. The
 * losing promise keeps running (kafkajs and the AWS SDK cannot be cancelled) and its rejection is swallowed here so
 * it cannot surface as an unhandled rejection in a later invocation.
 */
export function withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  const wait = deadline - Date.now();
  if (wait <= 0) {
    promise.catch(() => undefined);
    return Promise.reject(new DeadlineExceededError(`${what}: no time left before the invocation deadline`));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new DeadlineExceededError(`${what}: not finished ${wait} ms before the invocation deadline`));
    }, wait);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

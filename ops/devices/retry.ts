/**
 * Retrying what AWS IoT makes eventually consistent: DetachThingPrincipal "might take several seconds to
 * propagate", and until it has, DeleteCertificate and DeleteThing fail as if the attachment were still there.
 */
export interface RetryOptions {
  /** Attempts in all. @default 8 */
  readonly attempts?: number;
  /** First delay; doubles up to 4 s. @default 500 */
  readonly delayMs?: number;
}

const MAX_DELAY_MS = 4_000;

/** Calls `call` until it succeeds, it fails with an error `transient` rejects, or the attempts are used up. */
export async function retryWhile<T>(
  transient: (error: unknown) => boolean,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 8;
  let delay = options.delayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !transient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

/** The certificate or thing is still attached, as far as IoT can tell yet. */
export function stillAttached(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return name === 'DeleteConflictException' || (name === 'InvalidRequestException' && /attached/i.test(message ?? ''));
}

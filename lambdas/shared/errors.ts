/**
 * The functions' errors, under the project's one root (`PipelineError`, contracts/errors.ts). Classify errors by
 * `name` (or a code), never by `constructor.name`: bundles are minified, and although they keep names, errors also
 * cross library boundaries (kafkajs wraps its own).
 */
import { PipelineError } from '../../contracts/errors';

/** Missing or malformed configuration (environment variables, secrets). Not retriable: fix the configuration. */
export class ConfigurationError extends PipelineError {
  public override readonly name = 'ConfigurationError';
}

/** Kafka rejected the credentials: SASL authentication failed. Not retriable until the secret is fixed. */
export class KafkaAuthenticationError extends PipelineError {
  public override readonly name = 'KafkaAuthenticationError';
}

/** Work that did not finish before the invocation's deadline. */
export class DeadlineExceededError extends PipelineError {
  public override readonly name = 'DeadlineExceededError';
}

/** Walks `error.cause` links, outermost first (bounded, in case of cycles). */
export function* causeChain(error: unknown): Generator<unknown> {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * Whether `error` or one of its causes has this `name`: how to recognise a library's error class without importing
 * it, and through the wrappers libraries add (kafkajs' retrier, the driver's bulk write errors, our own `cause`).
 */
export const hasErrorNamed = (error: unknown, name: string): boolean =>
  [...causeChain(error)].some((link) => (link as { name?: unknown }).name === name);

/** The error's message without its stack, for logs and failure attributes; never the whole object. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

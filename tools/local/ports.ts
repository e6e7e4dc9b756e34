/**
 * What the local pipeline plugs together: the two Lambda handlers, built by factories from the environment the stack
 * would give each function (the CLI loads the esbuild bundles; tests may build them from source with fakes), and
 * where it reports what goes wrong.
 */
import type { ForwarderHandler } from '../../lambdas/forward/create-handler';
import type { SinkHandler } from '../../lambdas/sink/create-handler';

/** Builds the forwarder handler from its environment (variable name → value, as Lambda passes it). */
export type ForwarderFactory = (environment: Readonly<Record<string, string>>) => Promise<ForwarderHandler>;

/** Builds the sink handler from its environment. */
export type SinkFactory = (environment: Readonly<Record<string, string>>) => Promise<SinkHandler>;

export interface HandlerFactories {
  readonly forwarder: ForwarderFactory;
  readonly sink: SinkFactory;
}

/** Problems the event sources see (a failed invocation, a dead-letter write retried); the functions log their own. */
export interface LocalLog {
  warn(message: string): void;
  error(message: string): void;
}

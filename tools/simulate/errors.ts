/**
 * The simulator's errors. Both are user mistakes (a bad option, an unreachable or refusing broker): the CLI prints
 * the message as one line. Classify by `name`.
 */
import { UserError } from '../../contracts/errors';

/** Options that cannot work, every problem listed at once. */
export class SimulatorConfigError extends UserError {
  public override readonly name = 'SimulatorConfigError';
  public constructor(public readonly problems: readonly string[]) {
    super(`Invalid simulator options:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A device could not connect; the message names the URL and the client id, says why and how to fix it. */
export class SimulatorConnectionError extends UserError {
  public override readonly name = 'SimulatorConnectionError';
  public constructor(
    message: string,
    /** The broker URL, password redacted. */
    public readonly url: string,
    public readonly clientId: string,
    /** The socket, TLS or CONNACK code, when there is one (`ECONNREFUSED`, `5`, …). */
    public readonly code: string | number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

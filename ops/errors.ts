/**
 * Errors the CLI reports as one plain line (no stack trace): mistakes a user can fix, such as a missing stack, a
 * wrong id or an unreachable broker. Anything else is a bug and is shown with its stack. Subclasses set their own
 * `name` (e.g. `SimulatorConnectionError`, `DeviceNotFoundError`).
 */
export class UserError extends Error {
  public override readonly name: string = 'UserError';
}

/** Whether an error is a user mistake: a `UserError` (or subclass) or the config loader's validation error. */
export const isUserError = (error: unknown): error is Error =>
  error instanceof UserError || (error instanceof Error && error.name === 'ConfigValidationError');

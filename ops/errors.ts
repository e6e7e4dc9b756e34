/**
 * Errors the CLI reports as one plain line (no stack trace): mistakes a user can fix, such as a missing stack, a
 * wrong id or an unreachable broker. Anything else is a bug and is shown with its stack.
 */
export class UserError extends Error {
  public override readonly name: string = 'UserError';
}

/** Whether an error is a user mistake: our own `UserError`s and the config loader's validation errors. */
export const isUserError = (error: unknown): error is Error =>
  error instanceof Error && (error.name === 'UserError' || error.name === 'ConfigValidationError');

/**
 * The root of every error this project throws on purpose, for all three audiences: the deployed functions
 * (`lambdas/`), the CDK app (`lib/`, `bin/app.ts`) and the operator CLI and local tools (`ops/`). It lives here
 * because this is the one module all of them may import: Lambda code imports nothing from the CDK side or the CLI,
 * and the CDK side imports nothing from the CLI, so a root in `ops/` could not be extended by `lib/config`, and one
 * in `lambdas/shared` would pull runtime code into the CDK side.
 *
 * Every subclass sets `name` (bundles are minified with names kept, and errors that cross a worker thread or a
 * library keep only their name) and passes `{ cause }` on. Classify by `name`, a code or the class, never by
 * `constructor.name` or by reading the message.
 */

/** Base of every error this project throws on purpose. */
export class PipelineError extends Error {
  public override readonly name: string = 'PipelineError';
}

/**
 * A mistake the user can fix (a bad configuration or option, a stack that is not deployed, an unreachable broker, a
 * missing development dependency): the CLI prints its message as one line and exits 1, `cdk synth` prints it
 * without a stack trace. Anything else is a bug and is shown with its stack. Subclasses set their own `name`
 * (`ConfigValidationError`, `DeviceNotFoundError`, `SimulatorConnectionError`, …).
 */
export class UserError extends PipelineError {
  public override readonly name: string = 'UserError';
}

/** Whether `error` is a mistake the user can fix: the one check every entry point and command uses. */
export const isUserError = (error: unknown): error is UserError => error instanceof UserError;

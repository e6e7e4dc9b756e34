/**
 * Errors of device provisioning and revocation. All are user-facing (the CLI prints the message as one line);
 * classify by `name`. AWS errors from before anything was created (credentials, region) are passed on unchanged.
 */
import { UserError } from '../../contracts/errors';

/** Options that cannot work, every problem listed at once. */
export class DeviceOptionsError extends UserError {
  public override readonly name = 'DeviceOptionsError';
  public constructor(public readonly problems: readonly string[]) {
    super(`Invalid device options:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Credential files are already there: provisioning never overwrites a private key. */
export class CredentialsExistError extends UserError {
  public override readonly name = 'CredentialsExistError';
}

/** A thing of that name exists already: provisioning never takes over an existing thing. */
export class DeviceExistsError extends UserError {
  public override readonly name = 'DeviceExistsError';
}

/** No thing of that name (never provisioned, or already revoked). */
export class DeviceNotFoundError extends UserError {
  public override readonly name = 'DeviceNotFoundError';
}

/** A provisioning step failed after something was created; says what was undone and what could not be. */
export class ProvisioningError extends UserError {
  public override readonly name = 'ProvisioningError';
  public constructor(
    message: string,
    /** The AWS call or file step that failed. */
    public readonly step: string,
    /** What the rollback removed. */
    public readonly undone: readonly string[],
    /** What the rollback could not remove: to clean up by hand. */
    public readonly leftBehind: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A revocation step failed; running the revocation again resumes it. */
export class RevocationError extends UserError {
  public override readonly name = 'RevocationError';
  public constructor(
    message: string,
    public readonly step: string,
    public readonly done: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

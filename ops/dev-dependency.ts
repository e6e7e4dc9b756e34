/**
 * `local` runs on two development dependencies besides the project's own: esbuild (it bundles the functions as
 * `cdk synth` does) and koffi (it drives librdkafka's mock cluster). An install without them (`npm ci --omit=dev`,
 * `npm install -g`) must say so, and how to get them, before anything starts, like any other missing dependency.
 */

import { UserError } from '../contracts/errors';

/** A development dependency `local` needs cannot be loaded. */
export class DevDependencyMissingError extends UserError {
  public override readonly name = 'DevDependencyMissingError';
}

/**
 * Loads `name` (with `load`, Node's `require` unless a test replaces it); throws DevDependencyMissingError saying
 * what needs it (`purpose`) and how to install it.
 */
export function requireDevDependency<T>(name: string, purpose: string, load: (id: string) => unknown = require): T {
  try {
    return load(name) as T;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    throw new DevDependencyMissingError(
      `${name} ${missing ? 'is not installed' : `cannot be loaded (${(error as Error).message})`}: ${purpose} needs it. It is a development dependency: run \`npm ci\` in the project, without --omit=dev`,
      { cause: error },
    );
  }
}

/** The command groups of `telemetry-ops`, in the order `--help` lists them. */
import { failuresCommands } from './commands/failures';
import type { CommandGroup } from './program';

export const COMMAND_GROUPS: readonly CommandGroup[] = [failuresCommands];

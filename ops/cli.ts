/** The command groups of `telemetry-ops`, in the order `--help` lists them. */
import type { CommandGroup } from './program';

export const COMMAND_GROUPS: readonly CommandGroup[] = [];

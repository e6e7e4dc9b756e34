/** The command groups of `telemetry-ops`, in the order `--help` lists them. */
import { failuresCommands } from './commands/failures';
import { kafkaCommands } from './commands/kafka';
import type { CommandGroup } from './program';

export const COMMAND_GROUPS: readonly CommandGroup[] = [failuresCommands, kafkaCommands];

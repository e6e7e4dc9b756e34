/** The command groups of `telemetry-ops`, in the order `--help` lists them. */
import { dashboardCommand } from './commands/dashboard';
import { devicesCommands } from './commands/devices';
import { failuresCommands } from './commands/failures';
import { kafkaCommands } from './commands/kafka';
import { localCommand } from './commands/local';
import { simulateCommand } from './commands/simulate';
import { statusCommand } from './commands/status';
import { verifyCommand } from './commands/verify';
import type { CommandGroup } from './program';

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  statusCommand,
  verifyCommand,
  failuresCommands,
  kafkaCommands,
  devicesCommands,
  simulateCommand,
  localCommand,
  dashboardCommand,
];

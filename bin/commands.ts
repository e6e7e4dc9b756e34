/**
 * Every command group of `telemetry-ops`, in the order `--help` lists them: the operator's commands (ops/) and the
 * tools that run the pipeline on this machine (tools/). The one place both are joined, so the operator CLI never
 * imports the local tools.
 */
import {
  dashboardCommand,
  devicesCommands,
  failuresCommands,
  kafkaCommands,
  statusCommand,
  verifyCommand,
} from '../ops/cli';
import type { CommandGroup } from '../ops/program';
import { localCommand } from '../tools/local/command';
import { simulateCommand } from '../tools/simulate/command';

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

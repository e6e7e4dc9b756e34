/**
 * Child process of commands.test.ts (run with the first-hop preload): prints the help of every command of
 * `telemetry-ops`, as `npx telemetry-ops <command> --help` would, into the void.
 */
import type { Command } from 'commander';
import { COMMAND_GROUPS } from '../../bin/commands';
import { buildProgram, runCli } from '../../ops/program';

const silent = { write: () => true };
const deps = { io: { stdout: silent, stderr: silent }, environment: {} };
const paths = (command: Command, prefix: string[] = []): string[][] =>
  command.commands.flatMap((sub) => [[...prefix, sub.name()], ...paths(sub, [...prefix, sub.name()])]);

async function main() {
  const all = paths(buildProgram(deps, COMMAND_GROUPS));
  for (const path of [[], ...all]) await runCli([...path, '--help'], deps, COMMAND_GROUPS);
  process.stdout.write(`${all.length} commands\n`);
}
void main();

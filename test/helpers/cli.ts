/** Runs `telemetry-ops` in-process with recorded output, a temporary config directory and injected clients. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_GROUPS } from '../../bin/commands';
import type { AwsClients } from '../../ops/context';
import { type CommandGroup, runCli } from '../../ops/program';
import { devConfigInput } from './synth';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stdout or stderr that keeps what was written (a terminal when `isTTY`). */
export class Recorder {
  public text = '';
  public constructor(public readonly isTTY = false) {}
  public write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/** A config directory holding `dev.json`: config/dev.json with `overrides` merged into its sections. */
export function configDir(overrides: Parameters<typeof devConfigInput>[0] = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ops-config-'));
  writeFileSync(join(dir, 'dev.json'), JSON.stringify(devConfigInput(overrides)));
  return dir;
}

export interface CliOptions {
  readonly environment?: NodeJS.ProcessEnv;
  readonly clients?: AwsClients;
  readonly configDir?: string;
  readonly groups?: readonly CommandGroup[];
  readonly signal?: AbortSignal;
  /** Make stderr look like a terminal, so progress bars are drawn. */
  readonly tty?: boolean;
  /** Where stderr goes, for a test that reads it while the command runs. @default a new Recorder */
  readonly stderr?: Recorder;
}

export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const stdout = new Recorder();
  const stderr = options.stderr ?? new Recorder(options.tty);
  const code = await runCli(
    args,
    {
      io: { stdout, stderr },
      environment: { AWS_REGION: 'eu-west-1', ...options.environment },
      ...(options.clients ? { clients: options.clients } : {}),
      configDir: options.configDir ?? configDir(),
      ...(options.signal ? { signal: options.signal } : {}),
    },
    options.groups ?? COMMAND_GROUPS,
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

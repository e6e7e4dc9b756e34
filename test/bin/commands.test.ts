/**
 * `telemetry-ops` loads what a command uses, when it runs: the help of every command, and a mistyped option, load
 * no AWS SDK, CDK, koffi, esbuild, kafkajs or MongoDB driver. Command modules import their work with `await
 * import()` inside the action; `bin/commands.ts` is the one place the operator commands and the local tools meet.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
/** What a command's definition may load: the command-line parser, the progress bar of Output, the TS runner. */
const DEFINITION_PACKAGES = ['cli-progress', 'commander', 'tsx'];

/** The npm packages repository modules required directly while node runs `args` (see first-hop-packages.cjs). */
function firstHopPackages(args: readonly string[]): string[] {
  const { stderr } = spawnSync(
    process.execPath,
    ['-r', join(root, 'test', 'helpers', 'first-hop-packages.cjs'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  const line = stderr.split('\n').find((l) => l.startsWith('FIRST_HOP_PACKAGES '));
  if (!line) throw new Error(`no FIRST_HOP_PACKAGES line; stderr:\n${stderr}`);
  return JSON.parse(line.slice('FIRST_HOP_PACKAGES '.length));
}

describe('given the telemetry-ops entry', () => {
  it('when every command prints its help, then only the command-line parser is loaded', () => {
    const loaded = firstHopPackages(['--import', 'tsx', join(root, 'test', 'bin', 'help-loads.ts')]);
    expect(loaded.filter((name) => !DEFINITION_PACKAGES.includes(name))).toEqual([]);
    expect(loaded).toContain('commander');
  });

  it('when `status --help` runs through the real launcher, then no AWS SDK, CDK, koffi or esbuild is loaded', () => {
    const loaded = firstHopPackages([join(root, 'bin', 'telemetry-ops.cjs'), 'status', '--help']);
    expect(loaded.filter((name) => !DEFINITION_PACKAGES.includes(name))).toEqual([]);
  });

  it('when a command runs, then its work is loaded (the probe sees what lazy imports bring in)', () => {
    // `status` without credentials fails as a user error, after loading the context and its clients.
    const loaded = firstHopPackages([join(root, 'bin', 'telemetry-ops.cjs'), 'status', '--region', 'eu-west-1']);
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-cloudformation', 'kafkajs', 'mongodb']));
  });
});

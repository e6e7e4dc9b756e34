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

describe('telemetry-ops command loading', () => {
  it('loads only the command-line parser for the help of every command', () => {
    // Given every command of the program, When each prints its help in one process
    const loaded = firstHopPackages(['--import', 'tsx', join(root, 'test', 'bin', 'help-loads.ts')]);
    // Then the repository's modules required nothing but the definitions' packages
    expect(loaded.filter((name) => !DEFINITION_PACKAGES.includes(name))).toEqual([]);
    expect(loaded).toContain('commander');
  });

  it('loads no AWS SDK, CDK, koffi or esbuild for `status --help` through the real launcher', () => {
    // Given the npx launcher, When `status --help` runs
    const loaded = firstHopPackages([join(root, 'bin', 'telemetry-ops.cjs'), 'status', '--help']);
    // Then nothing beyond the definitions' packages is required
    expect(loaded.filter((name) => !DEFINITION_PACKAGES.includes(name))).toEqual([]);
  });

  it("loads a command's work when it runs (the probe sees what lazy imports bring in)", () => {
    // Given no AWS credentials, When `status` runs (it fails as a user error after loading the context)
    const loaded = firstHopPackages([join(root, 'bin', 'telemetry-ops.cjs'), 'status', '--region', 'eu-west-1']);
    // Then the clients it uses were loaded, and still nothing of the CDK (the configuration is read without it)
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-cloudformation', 'kafkajs', 'mongodb']));
    expect(loaded.filter((name) => ['aws-cdk-lib', 'constructs', 'koffi', 'esbuild'].includes(name))).toEqual([]);
  });
});

/**
 * The CDK app with a bad configuration: `cdk synth` shows the loader's message alone (no stack trace) and fails.
 * The app is run as cdk.json's `app` command runs it, with the context the CDK CLI passes in CDK_CONTEXT_JSON.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function synth(context: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'app.ts')], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
    },
  });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('bin/app.ts with a bad configuration', () => {
  it('prints every problem of an invalid config/<env>.json, and nothing else, and exits 1', () => {
    // Given config/<env>.json with two bad fields (removed afterwards: the app reads only that folder)
    const env = `tmp-app-test-${randomBytes(4).toString('hex')}`;
    const file = join(root, 'config', `${env}.json`);
    writeFileSync(
      file,
      JSON.stringify({ stackName: '1bad', kafka: { bootstrapServers: ['nohost'], topic: 'telemetry' } }),
    );
    try {
      // When the app synthesizes with that environment
      const result = synth({ env });

      // Then it fails with the loader's message alone, every problem listed
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        [
          `Invalid configuration ${file}:`,
          '  - stackName: letters, digits and "-", starting with a letter (e.g. "TelemetryPipeline-dev")',
          '  - kafka.bootstrapServers[0]: expected host:port (e.g. "pkc-12abc.eu-west-1.aws.confluent.cloud:9092")',
          '',
        ].join('\n'),
      );
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("prints a construct's validation error alone and exits 1 when a valid configuration breaks a construct rule", () => {
    // Given a topic name the schema accepts whose derived dead-letter topic (`<topic>.sink-dlt`) is too long for Lambda
    const env = `tmp-app-test-${randomBytes(4).toString('hex')}`;
    const file = join(root, 'config', `${env}.json`);
    const topic = 't'.repeat(245);
    writeFileSync(
      file,
      JSON.stringify({
        stackName: 'TelemetryPipeline-apptest',
        kafka: { bootstrapServers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'], topic },
      }),
    );
    try {
      // When the app synthesizes with that environment
      const result = synth({ env });

      // Then it fails with the construct path and the broken rule, and no stack trace
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('TelemetryPipeline-apptest/Sink: invalid MongoSink props:');
      expect(result.stderr).toContain(`deadLetterTopic: "${topic}.sink-dlt" is not a topic name Lambda accepts`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('prints the message alone and exits 1 when the environment has no configuration', () => {
    // Given an environment no config/<env>.json exists for
    // When the app synthesizes with it
    const result = synth({ env: 'no-such-env' });

    // Then it fails with one line that says which file to copy, and prints nothing else
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `No configuration for environment "no-such-env": ${join(root, 'config', 'no-such-env.json')} does not exist (copy config/dev.json)\n`,
    );
    expect(result.stdout).toBe('');
  });

  it('does the same for an environment name that cannot be a file name', () => {
    // Given an environment name with a path in it
    // When the app synthesizes with it
    const result = synth({ env: '../dev' });

    // Then it fails with one line naming the characters allowed
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Invalid environment name "../dev": use letters, digits, "_" and "-"\n');
  });
});

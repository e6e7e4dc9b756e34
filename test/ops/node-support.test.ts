/**
 * The AWS SDK's 8-line NodeVersionSupportWarning on Node.js < 22 becomes at most one short note
 * ("January 2027: End of Support for Node.js 20.x in AWS SDK for JavaScript",
 * https://github.com/aws/aws-sdk-js-v3/issues/7983, names the SDK's switch for exactly that warning).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SDK_NODE_WARNING_SWITCH, sdkNodeNote } from '../../ops/node-support';
import { cli } from '../helpers/cli';

describe('sdkNodeNote', () => {
  it('is one short line below Node.js 22, and nothing from 22 on', () => {
    // Given Node.js versions below 22 and from 22 on
    // When the note for each is asked for
    // Then only the one below 22 gets a line, naming the README section
    expect(sdkNodeNote('v20.19.0')).toBe(
      'note: Node.js 20.19.0: AWS SDK releases after January 2027 need Node.js ≥ 22 (README, "Quick start")',
    );
    expect(sdkNodeNote('v22.0.0')).toBeUndefined();
    expect(sdkNodeNote('v24.11.1')).toBeUndefined();
  });
});

describe('an AWS-reaching command', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const saved = process.env[SDK_NODE_WARNING_SWITCH];

  beforeEach(() => {
    // As a user's shell has it (the test configuration sets the switch for the whole suite).
    delete process.env[SDK_NODE_WARNING_SWITCH];
    cloudFormation.reset();
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id TelemetryPipeline-dev does not exist'), { name: 'ValidationError' }),
      );
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[SDK_NODE_WARNING_SWITCH];
    else process.env[SDK_NODE_WARNING_SWITCH] = saved;
    vi.restoreAllMocks();
  });

  it('prints no SDK warning, at most one note, then its one error line', async () => {
    // Given a Node.js the SDK would warn about (or not), and a process watching every warning
    const emitWarning = vi.spyOn(process, 'emitWarning');

    // When two commands that read the stack run in the same process
    const first = await cli(['devices', 'provision', 'sensor-0001']);
    const second = await cli(['devices', 'provision', 'sensor-0002']);

    // Then the SDK warned about nothing, and the note came once, as one line, only where the SDK would have warned
    const warnings = emitWarning.mock.calls.map(([warning]) => String(warning));
    expect(warnings.filter((w) => w.includes('NodeVersionSupportWarning'))).toEqual([]);
    const note = sdkNodeNote(process.version);
    expect(first.stderr).toBe(
      `${note ? `${note}\n` : ''}error: Stack TelemetryPipeline-dev is not deployed in eu-west-1: run \`npx cdk deploy -c env=dev\`, or pick another --env / --region\n`,
    );
    expect(second.stderr).not.toContain('note:');
  });
});

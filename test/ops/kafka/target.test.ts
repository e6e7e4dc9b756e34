/**
 * Which brokers the Kafka commands reach, and what they say when that cannot work: a KAFKA_BROKERS that is not
 * host:port (checked as `local` checks it, before connecting), and the configured cluster without AWS access
 * (its credentials come from the deployed stack), where a newcomer most likely meant the pipeline on this machine.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli';

const cloudFormation = mockClient(CloudFormationClient);
beforeEach(() => {
  cloudFormation.reset();
  cloudFormation
    .on(DescribeStacksCommand)
    .rejects(
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
    );
});

describe('KAFKA_BROKERS', () => {
  it.each(['nohost', 'localhost:', 'a:1,:2'])('refuses %j in one line, naming the form it wants', async (brokers) => {
    const result = await cli(['topics', 'list'], { environment: { KAFKA_BROKERS: brokers } });

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: KAFKA_BROKERS must be host:port[,host:port…], got "${brokers}"\n`);
  });
});

describe('the configured cluster without AWS access', () => {
  it.each([['tail'], ['topics', 'list']])('%s says how to point it at a local pipeline instead', async (...command) => {
    const result = await cli(command);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Cannot read stack TelemetryPipeline-dev: no AWS credentials found (set AWS_PROFILE, or run `aws configure` / `aws sso login`). (Could not load credentials from any providers); for a pipeline on this machine (`npx telemetry-ops local`), set KAFKA_BROKERS to the brokers it prints\n',
    );
  });
});

describe('options checked before connecting', () => {
  it('tail --offset without --partition, or with --from-beginning, is refused without reaching a broker', async () => {
    // Given brokers nobody listens on: any attempt to connect would end in "unreachable" instead
    const environment = { KAFKA_BROKERS: '127.0.0.1:1' };

    const noPartition = await cli(['tail', '--offset', '5'], { environment });
    const both = await cli(['tail', '--partition', '0', '--offset', '5', '--from-beginning'], { environment });

    expect(noPartition.stderr).toBe(
      'error: --offset needs --partition (an offset means something in one partition only)\n',
    );
    expect(both.stderr).toBe('error: --offset and --from-beginning both say where to start: give one\n');
    expect([noPartition.code, both.code]).toEqual([1, 1]);
  });
});

/**
 * Which brokers the Kafka commands reach, and what they say when that cannot work: a KAFKA_BROKERS that is not
 * host:port (checked as `local` checks it, before connecting), and the configured cluster without AWS access
 * (its credentials come from the deployed stack), where a newcomer most likely meant the pipeline on this machine.
 * The options checked before connecting are in test/ops/commands/kafka/options.test.ts.
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
    // When a Kafka command runs with KAFKA_BROKERS that is not host:port
    const result = await cli(['topics', 'list'], { environment: { KAFKA_BROKERS: brokers } });

    // Then one line says what form it wants
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: KAFKA_BROKERS must be host:port[,host:port…], got "${brokers}"\n`);
  });
});

describe('the configured cluster without AWS access', () => {
  it.each([['tail'], ['topics', 'list']])('%s says how to point it at a local pipeline instead', async (...command) => {
    // Given no KAFKA_BROKERS and no AWS credentials (beforeEach), When the command runs
    const result = await cli(command);

    // Then one line says why, and how to reach a pipeline on this machine instead
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Cannot read stack TelemetryPipeline-dev: no AWS credentials found (set AWS_PROFILE, or run `aws configure` / `aws sso login`). (Could not load credentials from any providers); for a pipeline on this machine (`npx telemetry-ops local`), set KAFKA_BROKERS to the brokers it prints\n',
    );
  });
});

/** The failure stores of the deployed pipeline, built from its config and stack outputs: ids, a store that cannot be read, a stack that is not there. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli';
import { cloudFormation, DLQ, dir, dlqMessages, parked, quarantine, run, sqs, useFailureStores } from './fixtures';

useFailureStores();

describe('failures list', () => {
  it('shows one failure with its payload, and names an unknown one in one line', async () => {
    // Given the ingest dead-letter queue holding two messages
    // A queue whose messages become visible again after each look (as after a release)
    sqs.on(ReceiveMessageCommand, { QueueUrl: DLQ }).resolves({ Messages: dlqMessages });

    // When one is shown by its id
    const shown = await run(['failures', 'show', 'ingest-dlq:m-parked']);
    // Then its reason and its envelope are printed
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/reason:\s+schema_violation/);
    expect(shown.stdout).toContain(`"eventId": "${parked.eventId}"`);

    // When an id the store does not hold is shown
    const missing = await run(['failures', 'show', 'ingest-dlq:nope']);
    // Then one line says it is not among the messages looked at
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: No failure ingest-dlq:nope among the first 1000 of ingest-dlq/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    // When something that is not a failure id is shown
    const malformed = await run(['failures', 'show', 'm-parked']);
    // Then one line says so
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/is not a failure id/);
  });

  it('says once, without a stack, when the stack is not deployed', async () => {
    // Given a stack CloudFormation does not know
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id TelemetryPipeline-dev does not exist'), { name: 'ValidationError' }),
      );
    // When failures are listed
    const result = await run(['failures', 'list']);
    // Then one line says it is not deployed and how to deploy it, and no stack trace
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Stack TelemetryPipeline-dev is not deployed in eu-west-1: run `npx cdk deploy -c env=dev`, or pick another --env / --region\n',
    );
  });
});

describe('errors a user can fix', () => {
  it('shows the other stores when Kafka cannot be reached, in one line, exit 1', async () => {
    // Given Kafka at an address nobody listens on
    // When every store is listed
    const result = await cli(['failures', 'list', '--json'], {
      environment: { KAFKA_BROKERS: '127.0.0.1:1' },
      clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
      configDir: dir,
    });

    // Then the sink's dead-letter topic is the one store unavailable, said once in one line, exit 1
    expect(result.code).toBe(1);
    const { unavailable } = JSON.parse(result.stdout);
    expect(unavailable.map((u: { store: string }) => u.store)).toEqual(['sink-dlt']);
    expect(unavailable[0].error).toMatch(/Kafka at 127\.0\.0\.1:1 is unreachable/);
    expect(result.stderr).toBe('error: 1 store(s) could not be read: sink-dlt\n');
  });

  it('says a malformed MONGODB_URI is not valid, in one line without the URI, exit 1 (not a bug, exit 2)', async () => {
    // Given a connection string the driver cannot parse, with a password in it
    // When the quarantine is listed (no injected quarantine: the CLI builds its MongoDB client)
    const result = await cli(['failures', 'list', '--store', 'quarantine'], {
      environment: { MONGODB_URI: 'mongodb://user:s3cret@host:notaport/' },
      clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}) },
      configDir: dir,
    });

    // Then one line names the problem and where to fix it, and never echoes the password
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*MongoDB connection string is not valid \(\w+\): check MONGODB_URI/);
    expect(result.stderr).not.toContain('s3cret');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names an unreachable AWS endpoint (a mistyped region) instead of printing a stack', async () => {
    // Given a region whose CloudFormation endpoint does not resolve
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-wst-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      );
    // When failures are listed
    const result = await run(['failures', 'list', '--store', 'ingest-dlq']);
    // Then one line names AWS unreachable and what to check
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Cannot read stack TelemetryPipeline-dev: AWS is unreachable (ENOTFOUND): check the region (--region, AWS_REGION) and the network\n',
    );
  });
});

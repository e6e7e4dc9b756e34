/** The failure stores of the deployed pipeline, built from its config and stack outputs: ids, a store that cannot be read, a stack that is not there. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli';
import { cloudFormation, DLQ, dir, dlqMessages, parked, quarantine, run, sqs, useFailureStores } from './fixtures';

useFailureStores();

describe('failures list', () => {
  it('shows one failure with its payload, and names an unknown one in one line', async () => {
    // A queue whose messages become visible again after each look (as after a release)
    sqs.on(ReceiveMessageCommand, { QueueUrl: DLQ }).resolves({ Messages: dlqMessages });

    const shown = await run(['failures', 'show', 'ingest-dlq:m-parked']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/reason:\s+schema_violation/);
    expect(shown.stdout).toContain(`"eventId": "${parked.eventId}"`);

    const missing = await run(['failures', 'show', 'ingest-dlq:nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: No failure ingest-dlq:nope among the first 1000 of ingest-dlq/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    const malformed = await run(['failures', 'show', 'm-parked']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/is not a failure id/);
  });

  it('says once, without a stack, when the stack is not deployed', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id TelemetryPipeline-dev does not exist'), { name: 'ValidationError' }),
      );
    const result = await run(['failures', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Stack TelemetryPipeline-dev is not deployed in eu-west-1: run `npx cdk deploy -c env=dev`, or pick another --env / --region\n',
    );
  });
});

describe('errors a user can fix', () => {
  it('shows the other stores when Kafka cannot be reached, in one line, exit 1', async () => {
    const result = await cli(['failures', 'list', '--json'], {
      environment: { KAFKA_BROKERS: '127.0.0.1:1' },
      clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
      configDir: dir,
    });

    expect(result.code).toBe(1);
    const { unavailable } = JSON.parse(result.stdout);
    expect(unavailable.map((u: { store: string }) => u.store)).toEqual(['sink-dlt']);
    expect(unavailable[0].error).toMatch(/Kafka at 127\.0\.0\.1:1 is unreachable/);
    expect(result.stderr).toBe('error: 1 store(s) could not be read: sink-dlt\n');
  });

  it('names an unreachable AWS endpoint (a mistyped region) instead of printing a stack', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-wst-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      );
    const result = await run(['failures', 'list', '--store', 'ingest-dlq']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Cannot read stack TelemetryPipeline-dev: AWS is unreachable (ENOTFOUND): check the region (--region, AWS_REGION) and the network\n',
    );
  });
});

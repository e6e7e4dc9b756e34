import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { QuarantineEntry } from '../../../lambdas/forward/ports';
import { lazySqsClient, SqsQuarantine } from '../../../lambdas/forward/sqs-quarantine';
import { InvalidReason } from '../../../lambdas/shared/envelope';
import { NOW } from '../../helpers/factories';
import { RecordingLogger } from '../../helpers/recorders';

const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/telemetry-ingest-dlq';
const sqsMock = mockClient(SQSClient);

const entry = (id: string, body = `{"bad":"${id}"}`): QuarantineEntry => ({
  id,
  body,
  reason: InvalidReason.SchemaViolation,
  detail: `readings: expected record (${id})`,
  firstReceivedAt: NOW,
  attempts: 2,
});

describe('SqsQuarantine', () => {
  beforeEach(() => sqsMock.reset());

  it('sends the original body with the failure attributes', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());

    const result = await quarantine.quarantine([entry('m1')], Date.now() + 5_000);

    expect(result.failedIds).toEqual([]);
    const input = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(DLQ_URL);
    expect(input?.Entries).toEqual([
      {
        Id: '0',
        MessageBody: '{"bad":"m1"}',
        MessageAttributes: {
          'failure.stage': { DataType: 'String', StringValue: 'forward' },
          'failure.reason': { DataType: 'String', StringValue: 'schema_violation' },
          'failure.error': { DataType: 'String', StringValue: 'readings: expected record (m1)' },
          'failure.firstFailedAt': { DataType: 'String', StringValue: '2026-01-01T00:00:00.000Z' },
          'failure.attempts': { DataType: 'Number', StringValue: '2' },
          'failure.sourceId': { DataType: 'String', StringValue: 'm1' },
        },
      },
    ]);
  });

  it('splits into calls of at most 10 entries and 256 KiB', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());
    const small = Array.from({ length: 23 }, (_, i) => entry(`s${i}`));
    const large = Array.from({ length: 3 }, (_, i) => entry(`l${i}`, 'x'.repeat(100 * 1024)));

    await quarantine.quarantine([...small, ...large], Date.now() + 5_000);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 5, 1]);
    for (const entries of calls) {
      const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('returns the ids of entries SQS reported as failed', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
    });
    const logger = new RecordingLogger();
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', logger);

    const result = await quarantine.quarantine([entry('a'), entry('b')], Date.now() + 5_000);

    expect(result.failedIds).toEqual(['b']);
    expect(logger.at('warn')).toHaveLength(1);
  });

  it('returns every id of a call that failed outright', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());
    const result = await quarantine.quarantine([entry('a'), entry('b')], Date.now() + 5_000);
    expect(result.failedIds).toEqual(['a', 'b']);
  });

  it('gives up at the deadline and reports the entries as failed', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(() => new Promise(() => undefined));
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());
    const result = await quarantine.quarantine([entry('a')], Date.now() + 50);
    expect(result.failedIds).toEqual(['a']);
  });
});

describe('SqsQuarantine with a client built on first use (off the cold start)', () => {
  beforeEach(() => sqsMock.reset());

  it('asks for the client only when it has entries to park, and then sends them', async () => {
    // Given a quarantine whose client comes from a loader
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    let loads = 0;
    const quarantine = new SqsQuarantine(
      async () => {
        loads++;
        return new SQSClient({});
      },
      DLQ_URL,
      'forward',
      new RecordingLogger(),
    );
    // Then building it loaded nothing
    expect(loads).toBe(0);

    // When it parks an entry
    const result = await quarantine.quarantine([entry('m1')], Date.now() + 5_000);

    // Then the client was loaded and the entry sent with it
    expect(loads).toBe(1);
    expect(result.failedIds).toEqual([]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody).toBe(
      '{"bad":"m1"}',
    );
  });

  it('builds one SQS client for every call of the lazy loader', async () => {
    // Given the default loader
    const client = lazySqsClient();

    // When it is called twice, at the same time and later
    const [first, second] = await Promise.all([client(), client()]);
    const third = await client();

    // Then every call gets the same client
    expect(first).toBeInstanceOf(SQSClient);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it('reports the entries as failed when the client cannot be loaded', async () => {
    // Given a loader that fails
    const logger = new RecordingLogger();
    const quarantine = new SqsQuarantine(
      async () => {
        throw new Error('Cannot find module');
      },
      DLQ_URL,
      'forward',
      logger,
    );

    // When it parks entries
    const result = await quarantine.quarantine([entry('a'), entry('b')], Date.now() + 5_000);

    // Then both are reported as not parked, and the failure is logged
    expect(result.failedIds).toEqual(['a', 'b']);
    expect(logger.at('error')).toHaveLength(1);
  });
});

describe('SqsQuarantine failure detail', () => {
  it('sends a detail SQS accepts even when it quotes control characters from the payload', async () => {
    sqsMock.reset();
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());
    await quarantine.quarantine(
      [{ ...entry('c'), detail: 'readings.a\u0001b: Invalid key in record' }],
      Date.now() + 5_000,
    );
    const attributes = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageAttributes;
    expect(attributes?.['failure.error']?.StringValue).toBe('readings.a\uFFFDb: Invalid key in record');
  });
});

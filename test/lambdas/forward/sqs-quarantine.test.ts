import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidReason } from '../../../contracts/envelope';
import type { QuarantineEntry } from '../../../lambdas/forward/ports';
import { lazySqsClient, SqsQuarantine } from '../../../lambdas/forward/sqs-quarantine';
import { fromDeadLetter } from '../../../ops/failures/envelopes';
import { type SentMessage, SqsEndpoint } from '../../../tools/local/sqs-endpoint';
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

  it('splits into calls of at most 10 entries and 1 MiB (SendMessageBatch)', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const quarantine = new SqsQuarantine(new SQSClient({}), DLQ_URL, 'forward', new RecordingLogger());
    const small = Array.from({ length: 23 }, (_, i) => entry(`s${i}`));
    const large = Array.from({ length: 3 }, (_, i) => entry(`l${i}`, 'x'.repeat(400 * 1024)));

    await quarantine.quarantine([...small, ...large], Date.now() + 5_000);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 5, 1]);
    for (const entries of calls) {
      const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(1024 * 1024);
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

describe('SqsQuarantine: bodies SQS cannot carry as they are keep their reason', () => {
  let endpoint: SqsEndpoint;
  const parked: SentMessage[] = [];
  beforeAll(async () => {
    sqsMock.restore();
    endpoint = await SqsEndpoint.start((message) => {
      parked.push(message);
      return `parked-${parked.length}`;
    });
  });
  afterAll(() => endpoint.stop());
  beforeEach(() => {
    parked.length = 0;
  });

  // A real SQS client against the loopback endpoint, which refuses what SQS refuses (characters, size)
  const quarantine = () =>
    new SqsQuarantine(
      new SQSClient({
        region: 'eu-west-1',
        endpoint: endpoint.endpoint,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
      endpoint.queueUrl('telemetry-ingest-dlq'),
      'forward',
      new RecordingLogger(),
    );
  const asReceived = (message: SentMessage) =>
    fromDeadLetter({ MessageId: 'm', Body: message.body, MessageAttributes: message.attributes }, 'dlq', 5);

  it('parks a body holding NUL as base64 of its bytes, flagged, with the reason; the CLI reads the original back', async () => {
    const body = '{"deviceId":"sensor-1","x":"a\u0000b"}';
    const result = await quarantine().quarantine(
      [{ ...entry('nul', body), reason: InvalidReason.NotJson }],
      Date.now() + 5_000,
    );
    expect(result.failedIds).toEqual([]);
    const [message] = parked;
    expect(message?.attributes['failure.payloadEncoding']?.StringValue).toBe('base64');
    expect(Buffer.from(message?.body ?? '', 'base64').toString('utf8')).toBe(body);
    expect(asReceived(message as SentMessage)).toMatchObject({
      reason: 'not_json',
      payload: { encoding: 'utf8', data: body },
    });
  });

  it('parks a pointer (size, sha256, head) when even base64 would exceed SQS 1 MiB message size', async () => {
    const body = `\u0001${'x'.repeat(900_000)}`;
    const result = await quarantine().quarantine(
      [{ ...entry('huge', body), sourceArn: 'arn:aws:sqs:eu-west-1:123456789012:telemetry-ingest' }],
      Date.now() + 5_000,
    );
    expect(result.failedIds).toEqual([]);
    const [message] = parked;
    expect(message?.attributes['failure.payloadEncoding']?.StringValue).toBe('pointer');
    expect(JSON.parse(message?.body ?? '')).toEqual({
      pointer: 'sqs://arn:aws:sqs:eu-west-1:123456789012:telemetry-ingest#huge',
      bytes: 900_001,
      sha256: createHash('sha256').update(body).digest('hex'),
      head: `\uFFFD${'x'.repeat(999)}`,
    });
    expect(asReceived(message as SentMessage)).toMatchObject({
      reason: 'schema_violation',
      payload: null,
      pointer: 'sqs://arn:aws:sqs:eu-west-1:123456789012:telemetry-ingest#huge',
    });
  });

  it('keeps a safe body byte for byte, without the flag', async () => {
    await quarantine().quarantine([entry('ok')], Date.now() + 5_000);
    expect(parked.map((m) => [m.body, m.attributes['failure.payloadEncoding']])).toEqual([['{"bad":"ok"}', undefined]]);
  });
});

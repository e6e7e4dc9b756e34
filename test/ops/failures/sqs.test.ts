import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { NOW } from '../../helpers/factories';
import { DLQ, dlqMessages, INGEST, moved, queueHolds, run, sentBodies, sqs, useFailureStores } from './fixtures';

useFailureStores();

describe('failures redrive', () => {
  it('hands the whole dead-letter queue to an SQS move task, and only looks with --dry-run', async () => {
    // Given the ingest dead-letter queue holding two messages, and SQS starting move tasks
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ }).resolves({
      Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest-dlq', ApproximateNumberOfMessages: '2' },
    });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: INGEST })
      .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest' } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    queueHolds(DLQ, dlqMessages);

    // When it is redriven with --dry-run
    const dryRun = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--dry-run', '--json']);
    // Then both would be redriven and nothing is moved or sent
    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout).reports[0].items.map((i: { outcome: string }) => i.outcome)).toEqual([
      'would-redrive',
      'would-redrive',
    ]);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sentBodies()).toEqual([]);

    // When it is redriven for real, at 50 messages per second
    const real = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--max-per-second', '50']);
    // Then one move task takes the whole queue to the ingest queue
    expect(real.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest-dlq',
        DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest',
        MaxNumberOfMessagesPerSecond: 50,
      },
    ]);
    expect(real.stdout).toContain('SQS move task task-1 started for ~2 message(s)');
  });

  it('keeps a message SQS refused in its store and exits 1', async () => {
    // Given the ingest dead-letter queue holding two messages, and SQS refusing the second send
    queueHolds(DLQ, dlqMessages);
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });

    // When both are redriven by id
    const result = await run(['failures', 'redrive', '--id', 'ingest-dlq:m-parked', '--id', 'ingest-dlq:m-moved']);

    // Then the command fails in one line, deletes only the one sent, and makes the other visible again
    expect(result.stderr).toBe('error: 1 message(s) could not be redriven; they stay in their store\n');
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted.map((entry) => entry.ReceiptHandle)).toEqual(['rh-parked']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => entry.ReceiptHandle)).toEqual(['rh-moved']);
  });

  it('redrives a long queue in steps SQS accepts: ≤ 10 entries and ≤ 1 MiB per call, unsafe bodies kept', async () => {
    // Given 25 parked messages of ~300 KB each (three fit in SendMessageBatch's 1 MiB) and one SQS would reject
    const big = (i: number): Message => ({
      MessageId: `big-${i}`,
      ReceiptHandle: `rh-big-${i}`,
      Body: JSON.stringify({ ...moved, padding: 'x'.repeat(300_000), i }),
      Attributes: { SentTimestamp: String(NOW) },
    });
    const messages = [...Array.from({ length: 25 }, (_, i) => big(i)), { ...big(99), Body: 'bad \u0001 body' }];
    const pages = Array.from({ length: Math.ceil(messages.length / 10) }, (_, i) =>
      messages.slice(i * 10, i * 10 + 10),
    );
    let receive = sqs.on(ReceiveMessageCommand, { QueueUrl: DLQ });
    for (const page of pages) receive = receive.resolvesOnce({ Messages: page });
    receive.resolves({});

    // When (an explicit --limit: message by message, not a move task)
    const result = await run(['failures', 'redrive', '--store', 'ingest-dlq', '--limit', '100', '--json']);

    // Then
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.flat()).toHaveLength(25);
    for (const entries of calls) {
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(entries.reduce((bytes, e) => bytes + Buffer.byteLength(e.MessageBody ?? ''), 0)).toBeLessThanOrEqual(
        1024 * 1024,
      );
    }
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted).toHaveLength(25);
    const items = JSON.parse(result.stdout).reports[0].items;
    expect(items.find((item: { id: string }) => item.id === 'ingest-dlq:big-99')).toEqual({
      id: 'ingest-dlq:big-99',
      outcome: 'skipped',
      detail: 'the payload holds characters SQS does not accept',
    });
    // Each step received, sent and deleted before the next receive: handles never outlive their visibility
    expect(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.VisibilityTimeout)).toEqual([
      120, 120, 120, 120,
    ]);
  });
});

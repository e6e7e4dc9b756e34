import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { withDeadline } from '../shared/deadline';
import { describeError } from '../shared/errors';
import { FailureAttribute, type FailureStage, failureDetail } from '../shared/failure';
import type { LoggerPort } from '../shared/observability';
import { entrySize, sqsBatches } from '../shared/sqs-batch';
import type { Quarantine, QuarantineEntry } from './ports';

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** The failure attributes of an entry (see `FailureAttribute`). */
export function failureAttributes(entry: QuarantineEntry, stage: FailureStage): Record<string, MessageAttributeValue> {
  return {
    [FailureAttribute.Stage]: text(stage),
    [FailureAttribute.Reason]: text(entry.reason),
    [FailureAttribute.Error]: text(failureDetail(entry.detail) || entry.reason),
    [FailureAttribute.FirstFailedAt]: text(new Date(entry.firstReceivedAt).toISOString()),
    [FailureAttribute.Attempts]: { DataType: 'Number', StringValue: String(entry.attempts) },
    [FailureAttribute.SourceId]: text(entry.id),
  };
}

/**
 * An SQS client built on first use, its module loaded then. Only invalid records go to the dead-letter queue, and the
 * SDK's SQS client is the largest part of the forwarder's bundle load that nothing else needs (README, "Cold start").
 * The module is only ever imported dynamically (elsewhere: types only), so that esbuild evaluates it on first use.
 */
export function lazySqsClient(): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({}));
    return client;
  };
}

/** Parks invalid records in an SQS queue (the ingest DLQ), original body intact, reason in message attributes. */
export class SqsQuarantine implements Quarantine {
  private readonly client: () => Promise<SQSClient>;

  /** `sqs`: a client, or a function that gives one on first use ({@link lazySqsClient}). */
  public constructor(
    sqs: SQSClient | (() => Promise<SQSClient>),
    private readonly queueUrl: string,
    private readonly stage: FailureStage,
    private readonly logger: LoggerPort,
  ) {
    this.client = typeof sqs === 'function' ? sqs : async () => sqs;
  }

  public async quarantine(entries: readonly QuarantineEntry[], deadline: number): Promise<{ failedIds: string[] }> {
    const chunks = sqsBatches(entries, (entry) => entrySize(this.toRequestEntry(entry, 0)));
    const results = await Promise.all(chunks.map((chunk) => this.send(chunk, deadline)));
    return { failedIds: results.flat() };
  }

  private toRequestEntry(entry: QuarantineEntry, index: number): SendMessageBatchRequestEntry {
    return { Id: String(index), MessageBody: entry.body, MessageAttributes: failureAttributes(entry, this.stage) };
  }

  /** Returns the ids of the entries SQS did not take. */
  private async send(chunk: readonly QuarantineEntry[], deadline: number): Promise<string[]> {
    try {
      const response = await withDeadline(this.sendBatch(chunk), deadline, 'SendMessageBatch to the dead-letter queue');
      const failed = (response.Failed ?? []).map((failure) => chunk[Number(failure.Id)]?.id ?? '').filter(Boolean);
      if (failed.length > 0) {
        this.logger.warn('Dead-letter queue rejected entries', {
          failures: (response.Failed ?? []).map(({ Code, Message, SenderFault }) => ({ Code, Message, SenderFault })),
        });
      }
      return failed;
    } catch (error) {
      this.logger.error('SendMessageBatch to the dead-letter queue failed', { error: describeError(error) });
      return chunk.map((entry) => entry.id);
    }
  }

  private async sendBatch(chunk: readonly QuarantineEntry[]) {
    const [{ SendMessageBatchCommand }, client] = await Promise.all([import('@aws-sdk/client-sqs'), this.client()]);
    const command = new SendMessageBatchCommand({
      QueueUrl: this.queueUrl,
      Entries: chunk.map((entry, index) => this.toRequestEntry(entry, index)),
    });
    return client.send(command);
  }
}

/**
 * Lambda's SQS event source mapping, on one machine: up to `concurrency` invocations at a time, each with up to
 * `batchSize` messages gathered for at most the batching window, and `ReportBatchItemFailures` semantics — the
 * messages a response lists stay in flight until their visibility timeout ends and are then delivered again; the
 * others are deleted. A failed invocation (thrown error, timeout, or a response naming a message not in the batch)
 * leaves the whole batch to come back.
 */
import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError } from '../../lambdas/shared/errors';
import type { LocalQueue, ReceivedMessage } from './local-queue';
import type { LocalLog } from './ports';

/** What one invocation did with its batch. */
export interface SqsBatchOutcome {
  /** Ids of the messages the function acknowledged (deleted from the queue). */
  readonly deleted: readonly string[];
  /** Messages the function failed, left to come back after their visibility timeout. */
  readonly retried: number;
  /**
   * Messages the function acknowledged too late to delete: their visibility timeout ended during the invocation and
   * another receive took them again (their receipt handle no longer deletes them), so they are delivered twice.
   */
  readonly late: number;
}

export interface SqsEventSourceOptions {
  readonly queue: LocalQueue;
  /** Invokes the function (rejects when the invocation fails: an error thrown, a timeout). */
  readonly invoke: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** For messages. */
  readonly functionName: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  /** Invocations at a time (the mapping's maximum concurrency). */
  readonly concurrency: number;
  readonly onBatch?: (outcome: SqsBatchOutcome) => void;
  readonly log: LocalLog;
}

/** How long an idle poller waits before looking again (SQS long polling). */
const POLL_WAIT_MS = 1_000;

export class SqsEventSource {
  private readonly abort = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private readonly arn: string;

  public constructor(private readonly options: SqsEventSourceOptions) {
    this.arn = `arn:aws:sqs:us-east-1:000000000000:${options.queue.name}`;
  }

  public start(): void {
    for (let i = 0; i < this.options.concurrency; i++) this.workers.push(this.poll());
  }

  /** Stops polling and waits for the invocations under way. */
  public async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.workers);
  }

  private async poll(): Promise<void> {
    const { queue, batchSize, batchingWindowMs } = this.options;
    const { signal } = this.abort;
    while (!signal.aborted) {
      await queue.waitForVisible(1, POLL_WAIT_MS, signal);
      if (batchingWindowMs > 0 && queue.visibleCount < batchSize)
        await queue.waitForVisible(batchSize, batchingWindowMs, signal);
      if (signal.aborted) return;
      const messages = queue.receive(batchSize);
      if (messages.length > 0) await this.invoke(messages);
    }
  }

  private async invoke(messages: readonly ReceivedMessage[]): Promise<void> {
    const { invoke, functionName, queue, log } = this.options;
    const event: SQSEvent = { Records: messages.map((message) => this.record(message)) };
    let failed: Set<string>;
    try {
      const response = await invoke(event);
      const ids = new Set(messages.map((message) => message.messageId));
      const listed = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
      const unknown = listed.filter((id) => !ids.has(id));
      if (unknown.length > 0) {
        log.error(
          `${functionName} named messages not in its batch (${unknown.slice(0, 3).join(', ')}): the whole batch comes back`,
        );
        failed = ids;
      } else failed = new Set(listed);
    } catch (error) {
      log.error(
        `${functionName} invocation failed, its ${messages.length} messages come back after the visibility timeout: ${describeError(error)}`,
      );
      failed = new Set(messages.map((message) => message.messageId));
    }
    const deleted: string[] = [];
    for (const message of messages) {
      if (!failed.has(message.messageId) && queue.delete(message.receiptHandle)) deleted.push(message.messageId);
    }
    this.options.onBatch?.({ deleted, retried: failed.size, late: messages.length - failed.size - deleted.length });
  }

  /** A message as Lambda's SQS event source delivers it. */
  private record(message: ReceivedMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.attributes).map(([name, value]) => [
          name,
          { dataType: value.DataType, stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
        ]),
      ),
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: 'us-east-1',
    };
  }
}

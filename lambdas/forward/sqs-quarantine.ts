import { createHash } from 'node:crypto';
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { FailureAttribute, type FailureStage, failureDetail, type ParkedPointer } from '../../contracts/failure';
import { SQS_MAX_MESSAGE_BYTES, SQS_UNSAFE } from '../../contracts/limits';
import { withDeadline } from '../shared/deadline';
import { describeError } from '../shared/errors';
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

/** A lone surrogate has no UTF-8 form: SQS would refuse it, and base64 of its bytes would not be the original. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The body and attributes an entry is parked with. The original body when SQS can carry it; otherwise its UTF-8
 * bytes in base64 (characters SQS refuses: NUL and other control characters), or a pointer when even that exceeds
 * SQS's message size. Either way the reason stays with it: a body SQS refused would otherwise come back for
 * redelivery until SQS moved it to the same queue as `max_receives_exceeded`, its reason lost.
 */
export function parkedMessage(
  entry: QuarantineEntry,
  attributes: Record<string, MessageAttributeValue>,
): Pick<SendMessageBatchRequestEntry, 'MessageBody' | 'MessageAttributes'> {
  const fits = (body: string, extra: Record<string, MessageAttributeValue>) =>
    entrySize({ MessageBody: body, MessageAttributes: { ...attributes, ...extra } }) <= SQS_MAX_MESSAGE_BYTES;
  const safe = !SQS_UNSAFE.test(entry.body);
  if (safe && fits(entry.body, {})) return { MessageBody: entry.body, MessageAttributes: attributes };
  if (!LONE_SURROGATE.test(entry.body)) {
    const base64 = { [FailureAttribute.PayloadEncoding]: text('base64') };
    const body = Buffer.from(entry.body, 'utf8').toString('base64');
    if (fits(body, base64)) return { MessageBody: body, MessageAttributes: { ...attributes, ...base64 } };
  }
  const pointer: ParkedPointer = {
    pointer: `sqs://${entry.sourceArn ?? 'unknown'}#${entry.id}`,
    bytes: Buffer.byteLength(entry.body, 'utf8'),
    sha256: createHash('sha256').update(entry.body, 'utf8').digest('hex'),
    head: failureDetail(entry.body),
  };
  return {
    MessageBody: JSON.stringify(pointer),
    MessageAttributes: { ...attributes, [FailureAttribute.PayloadEncoding]: text('pointer') },
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
    return { Id: String(index), ...parkedMessage(entry, failureAttributes(entry, this.stage)) };
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

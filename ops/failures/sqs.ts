/** The SQS operations the failure commands need: look at messages without consuming them, send, delete, move. */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { entrySize, sqsBatches } from '../../lambdas/shared/sqs-batch';
import { aws } from '../aws-errors';

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** How long messages stay hidden from the forwarder and other operators while `failures list` looks at them. */
const PEEK_VISIBILITY_SECONDS = 60;

/** How long a redrive keeps the (at most 10) messages it is sending: far longer than one send and delete take. */
export const REDRIVE_VISIBILITY_SECONDS = 120;

/** One ReceiveMessage: up to `max` (≤ 10) messages, hidden for `visibilitySeconds`; a 1 s long poll asks every server. */
export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  visibilitySeconds: number,
): Promise<Message[]> {
  const response = await aws(
    `read ${queueUrl}`,
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibilitySeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    ),
  );
  return (response.Messages ?? []).filter((message) => message.MessageId && message.ReceiptHandle);
}

/** Makes received messages visible again at once (they were only looked at). */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (const chunk of chunks(messages, 10)) {
    await aws(
      `release messages on ${queueUrl}`,
      sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, i) => ({
            Id: String(i),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      ),
    );
  }
}

/**
 * Looks at up to `limit` messages and leaves them in the queue. A message seen again (its visibility ran out while
 * reading a long queue) keeps its newest receipt handle, the only one SQS still honours; the pass ends when a
 * receive brings nothing new.
 */
export async function peekMessages(sqs: SQSClient, queueUrl: string, limit: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  while (seen.size < limit) {
    const batch = await receiveBatch(sqs, queueUrl, limit - seen.size, PEEK_VISIBILITY_SECONDS);
    const fresh = batch.filter((message) => !seen.has(message.MessageId ?? ''));
    for (const message of batch) seen.set(message.MessageId ?? '', message);
    if (fresh.length === 0) break;
  }
  const messages = [...seen.values()];
  await releaseMessages(sqs, queueUrl, messages);
  return messages;
}

/**
 * Sends bodies in SendMessageBatch calls within SQS's limits (10 entries, 1 MiB: lambdas/shared/sqs-batch.ts); returns the keys SQS did not
 * take, with its reason.
 */
export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: ReadonlyArray<{ readonly key: string; readonly body: string }>,
  onSent: (count: number) => void = () => {},
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const chunk of sqsBatches(bodies, (entry) => entrySize({ MessageBody: entry.body }))) {
    const response = await aws(
      `send to ${queueUrl}`,
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((entry, i) => ({ Id: String(i), MessageBody: entry.body })),
        }),
      ),
    );
    for (const failure of response.Failed ?? []) {
      const entry = chunk[Number(failure.Id)];
      if (entry) failed.set(entry.key, `${failure.Code ?? 'error'}: ${failure.Message ?? ''}`.trim());
    }
    onSent(chunk.length);
  }
  return failed;
}

/** Deletes received messages; returns the ids SQS could not delete. */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<string[]> {
  const failed: string[] = [];
  for (const chunk of chunks(messages, 10)) {
    const response = await aws(
      `delete from ${queueUrl}`,
      sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
        }),
      ),
    );
    for (const failure of response.Failed ?? []) {
      const id = chunk[Number(failure.Id)]?.MessageId;
      if (id) failed.push(id);
    }
  }
  return failed;
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes: attributes = {} } = await aws(
    `read attributes of ${queueUrl}`,
    sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    ),
  );
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes: attributes = {} } = await aws(
    `read attributes of ${queueUrl}`,
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })),
  );
  if (!attributes.QueueArn) throw new Error(`SQS returned no QueueArn for ${queueUrl}`);
  return attributes.QueueArn;
}

/**
 * SQS's own dead-letter redrive (StartMessageMoveTask): moves every message of the DLQ back to `destinationArn`,
 * server-side, at up to `maxPerSecond` (SQS picks when unset). Returns the task handle.
 */
export async function startMoveTask(
  sqs: SQSClient,
  sourceArn: string,
  destinationArn: string,
  maxPerSecond?: number,
): Promise<string> {
  const response = await aws(
    `start a message move task from ${sourceArn}`,
    sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: sourceArn,
        DestinationArn: destinationArn,
        ...(maxPerSecond ? { MaxNumberOfMessagesPerSecond: maxPerSecond } : {}),
      }),
    ),
  );
  return response.TaskHandle ?? '';
}

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
import { aws } from '../context';

/** How long received messages stay hidden from the forwarder or other operators while a command looks at them. */
const PEEK_VISIBILITY_SECONDS = 30;

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Receives up to `limit` messages, keeping them invisible for `PEEK_VISIBILITY_SECONDS` so one pass never sees a
 * message twice. Stops at the first empty long poll (1 s, which asks every SQS server, unlike a short poll).
 */
export async function receiveMessages(sqs: SQSClient, queueUrl: string, limit: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  while (seen.size < limit) {
    const response = await aws(
      `read ${queueUrl}`,
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          WaitTimeSeconds: 1,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      ),
    );
    const fresh = (response.Messages ?? []).filter((message) => message.MessageId && !seen.has(message.MessageId));
    // Nothing new: the queue is drained, or what is left became visible again (another reader released it).
    if (fresh.length === 0) break;
    for (const message of fresh) seen.set(message.MessageId ?? '', message);
  }
  return [...seen.values()];
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

/** Looks at up to `limit` messages and leaves them in the queue. */
export async function peekMessages(sqs: SQSClient, queueUrl: string, limit: number): Promise<Message[]> {
  const messages = await receiveMessages(sqs, queueUrl, limit);
  await releaseMessages(sqs, queueUrl, messages);
  return messages;
}

/** Sends bodies in batches of 10; returns the keys SQS did not take, with its reason. */
export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: ReadonlyArray<{ readonly key: string; readonly body: string }>,
  onSent: (count: number) => void = () => {},
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const chunk of chunks(bodies, 10)) {
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

/**
 * A loopback HTTP endpoint speaking the SQS JSON protocol's SendMessageBatch: where the forwarder's own bundled AWS
 * SDK sends invalid records when it runs on one machine (`telemetry-ops local`, tests). The SQS client sends to the
 * host of the queue URL (and to `AWS_ENDPOINT_URL_SQS`), so a queue URL on this endpoint reaches it. Request
 * signatures are not checked; SQS's limits are: more than 10 entries, more than 1 MiB, or repeated entry ids fail
 * the request with SQS's error, and an entry with characters SQS does not accept comes back in `Failed`, as SQS
 * answers them (contracts/limits.ts holds the limits the senders keep to).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES, SQS_UNSAFE } from '../../contracts/limits';
import { entrySize } from '../../lambdas/shared/sqs-batch';

/** One message as a sender put it in a queue. */
export interface SentMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
}

/** Takes a sent message; returns its message id, or undefined when no queue has that URL. */
export type SqsReceiver = (message: SentMessage) => string | undefined;

interface BatchRequest {
  readonly QueueUrl?: string;
  readonly Entries?: ReadonlyArray<{ Id: string; MessageBody: string; MessageAttributes?: SentMessage['attributes'] }>;
}

const JSON_CONTENT = { 'content-type': 'application/x-amz-json-1.0' };

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...JSON_CONTENT, ...headers });
  response.end(JSON.stringify(body));
}

/** A request SQS refuses as a whole: the error type and the query-compatible code the SDK reads. */
function senderError(response: ServerResponse, type: string, message: string): void {
  reply(
    response,
    400,
    { __type: `com.amazonaws.sqs#${type}`, message },
    { 'x-amzn-query-error': `AWS.SimpleQueueService.${type};Sender` },
  );
}

/** Why SQS refuses the batch as a whole, if it does. */
function batchProblem(entries: NonNullable<BatchRequest['Entries']>): { type: string; message: string } | undefined {
  if (entries.length === 0)
    return {
      type: 'EmptyBatchRequest',
      message: 'There should be at least one SendMessageBatchRequestEntry in the request.',
    };
  if (entries.length > SQS_MAX_BATCH_ENTRIES)
    return {
      type: 'TooManyEntriesInBatchRequest',
      message: `Maximum number of entries per request are ${SQS_MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    };
  const ids = new Set<string>();
  for (const { Id } of entries) {
    if (ids.has(Id)) return { type: 'BatchEntryIdsNotDistinct', message: `Id ${Id} repeated.` };
    ids.add(Id);
  }
  const bytes = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
  if (bytes > SQS_MAX_BATCH_BYTES)
    return {
      type: 'BatchRequestTooLong',
      message: `Batch requests cannot be longer than ${SQS_MAX_BATCH_BYTES} bytes. You have sent ${bytes} bytes.`,
    };
  return undefined;
}

const INVALID_CONTENTS =
  'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF';

export class SqsEndpoint {
  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>`: the endpoint, and the host of its queue URLs. */
    public readonly endpoint: string,
  ) {}

  /** Listens on an ephemeral loopback port. */
  public static async start(receive: SqsReceiver): Promise<SqsEndpoint> {
    const server = createServer((request, response) => {
      let raw = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        raw += chunk;
      });
      request.on('end', () => handle(request, raw, response, receive));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new SqsEndpoint(server, `http://127.0.0.1:${port}`);
  }

  /** The URL of a queue named `name` on this endpoint (account id 000000000000, as local emulators use). */
  public queueUrl(name: string): string {
    return `${this.endpoint}/000000000000/${name}`;
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function handle(request: IncomingMessage, raw: string, response: ServerResponse, receive: SqsReceiver): void {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (target !== 'AmazonSQS.SendMessageBatch') {
    reply(response, 400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${target} is not supported` });
    return;
  }
  let input: BatchRequest;
  try {
    input = JSON.parse(raw) as BatchRequest;
  } catch {
    reply(response, 400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'the body is not JSON' });
    return;
  }
  const queueUrl = input.QueueUrl ?? '';
  const entries = input.Entries ?? [];
  const problem = batchProblem(entries);
  if (problem) {
    senderError(response, problem.type, problem.message);
    return;
  }
  const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
  const failed: { Id: string; SenderFault: true; Code: string; Message: string }[] = [];
  for (const entry of entries) {
    const values = [entry.MessageBody, ...Object.values(entry.MessageAttributes ?? {}).map((a) => a.StringValue ?? '')];
    if (values.some((value) => SQS_UNSAFE.test(value))) {
      failed.push({ Id: entry.Id, SenderFault: true, Code: 'InvalidMessageContents', Message: INVALID_CONTENTS });
      continue;
    }
    const messageId = receive({ queueUrl, body: entry.MessageBody, attributes: entry.MessageAttributes ?? {} });
    if (messageId === undefined) {
      reply(
        response,
        400,
        { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: `The specified queue ${queueUrl} does not exist.` },
        { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' },
      );
      return;
    }
    successful.push({
      Id: entry.Id,
      MessageId: messageId,
      // The SDK checks this against the body it sent
      MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
    });
  }
  reply(response, 200, { Successful: successful, Failed: failed });
}

/**
 * A loopback HTTP endpoint speaking the SQS JSON protocol's SendMessageBatch, for code that uses its own bundled
 * copy of the AWS SDK (where aws-sdk-client-mock cannot reach). The SQS client sends to the host of the queue URL,
 * so a queue URL on this endpoint reaches it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
}

export class FakeSqs {
  public readonly messages: ReceivedMessage[] = [];
  private constructor(
    private readonly server: Server,
    public readonly endpoint: string,
  ) {}

  public static async start(): Promise<FakeSqs> {
    let fake: FakeSqs | undefined;
    const server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk) => {
        raw += chunk;
      });
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        if (target !== 'AmazonSQS.SendMessageBatch') {
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: target }));
          return;
        }
        const input = JSON.parse(raw) as {
          QueueUrl: string;
          Entries: { Id: string; MessageBody: string; MessageAttributes?: ReceivedMessage['attributes'] }[];
        };
        const successful = input.Entries.map((entry) => {
          fake?.messages.push({
            queueUrl: input.QueueUrl,
            body: entry.MessageBody,
            attributes: entry.MessageAttributes ?? {},
          });
          return {
            Id: entry.Id,
            MessageId: randomUUID(),
            MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
          };
        });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ Successful: successful, Failed: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeSqs(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The loopback SQS endpoint (tools/local/sqs-endpoint.ts) with every message recorded, for code that uses its own
 * bundled copy of the AWS SDK (where aws-sdk-client-mock cannot reach).
 */
import { randomUUID } from 'node:crypto';
import { type SentMessage, SqsEndpoint } from '../../tools/local/sqs-endpoint';

export type ReceivedMessage = SentMessage;

export class FakeSqs {
  private constructor(
    private readonly server: SqsEndpoint,
    public readonly messages: ReceivedMessage[],
  ) {}

  public get endpoint(): string {
    return this.server.endpoint;
  }

  public static async start(): Promise<FakeSqs> {
    const messages: ReceivedMessage[] = [];
    const server = await SqsEndpoint.start((message) => {
      messages.push(message);
      return randomUUID();
    });
    return new FakeSqs(server, messages);
  }

  public async stop(): Promise<void> {
    await this.server.stop();
  }
}

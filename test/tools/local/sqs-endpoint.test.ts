/**
 * The loopback SQS endpoint holds senders to SQS's limits, answering through the AWS SDK as SQS does: a request over
 * 10 entries or 1 MiB, or with repeated ids, fails whole; an entry with characters SQS refuses comes back in
 * `Failed` while the others are sent.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SentMessage, SqsEndpoint } from '../../../tools/local/sqs-endpoint';

let endpoint: SqsEndpoint;
let sqs: SQSClient;
const sent: SentMessage[] = [];

beforeAll(async () => {
  endpoint = await SqsEndpoint.start((message) => {
    sent.push(message);
    return `m-${sent.length}`;
  });
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: endpoint.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  sqs.destroy();
  await endpoint.stop();
});

const send = (entries: SendMessageBatchRequestEntry[]) =>
  sqs.send(new SendMessageBatchCommand({ QueueUrl: endpoint.queueUrl('dlq'), Entries: entries }));

const entries = (count: number, body = 'x') =>
  Array.from({ length: count }, (_, i) => ({ Id: String(i), MessageBody: body }));

describe('SqsEndpoint', () => {
  it('sends a batch within the limits', async () => {
    // Given the loopback SQS endpoint
    const before = sent.length;

    // When a batch of 10 entries is sent
    const response = await send(entries(10));

    // Then every entry is sent and none failed
    expect(response.Successful).toHaveLength(10);
    expect(response.Failed ?? []).toEqual([]);
    expect(sent.length - before).toBe(10);
  });

  it.each([
    ['more than 10 entries', entries(11), 'TooManyEntriesInBatchRequest', /You have sent 11/],
    ['no entry', [], 'EmptyBatchRequest', /at least one/],
    ['a repeated id', [...entries(1), ...entries(1)], 'BatchEntryIdsNotDistinct', /Id 0 repeated/],
    [
      // SendMessageBatch: "both 1 MiB 1,048,576 bytes" (Amazon SQS API Reference, SendMessageBatch)
      'more than 1 MiB',
      entries(2, 'x'.repeat(512 * 1024 + 1)),
      'BatchRequestTooLong',
      /cannot be longer than 1048576 bytes\. You have sent 1048578 bytes/,
    ],
  ])('refuses a batch with %s as SQS does, sending none of it', async (_what, batch, name, message) => {
    // Given a batch SQS would refuse whole
    const before = sent.length;

    // When it is sent / Then the call is refused with SQS's error name and message
    await expect(send(batch)).rejects.toMatchObject({ name, message: expect.stringMatching(message) });

    // And nothing of it was sent
    expect(sent.length).toBe(before);
  });

  it('fails the entries holding characters SQS does not accept, and sends the others', async () => {
    // Given a batch with one bad body, one bad attribute value and one good entry
    const before = sent.length;

    // When it is sent
    const response = await send([
      { Id: 'nul', MessageBody: 'a\u0000b' },
      { Id: 'ok', MessageBody: 'fine, even \u{1F600}' },
      {
        Id: 'attribute',
        MessageBody: 'ok',
        MessageAttributes: { note: { DataType: 'String', StringValue: '\uFFFE' } },
      },
    ]);

    // Then only the good entry is sent; the others fail as InvalidMessageContents, the sender's fault
    expect(response.Successful?.map((entry) => entry.Id)).toEqual(['ok']);
    expect(response.Failed).toEqual([
      expect.objectContaining({ Id: 'nul', SenderFault: true, Code: 'InvalidMessageContents' }),
      expect.objectContaining({ Id: 'attribute', SenderFault: true, Code: 'InvalidMessageContents' }),
    ]);
    expect(sent.slice(before).map((message) => message.body)).toEqual(['fine, even \u{1F600}']);
  });
});

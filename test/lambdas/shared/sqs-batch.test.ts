/**
 * SendMessageBatch's limits as `lambdas/shared/sqs-batch.ts` applies them, row by row at each boundary.
 *
 * The spec, "SendMessageBatch" (Amazon SQS API Reference,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html; the same text in
 * the SDK reference, https://docs.aws.amazon.com/sdk-for-python/v1/reference/clients/sqs/operations/send_message_batch/):
 * "send up to 10 messages"; "The maximum allowed individual message size and the maximum total payload size (the sum
 * of the individual lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes"; allowed characters
 * "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", anything else is InvalidMessageContents.
 * "MessageAttributeValue" (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/sqs/aws.sdk.kotlin.services.sqs.model/-message-attribute-value):
 * "All parts of the message attribute, including Name, Type, and Value, are part of the message size restriction
 * (1 MiB or 1,048,576 bytes)."
 */
import { describe, expect, it } from 'vitest';
import {
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_MESSAGE_BYTES,
  SQS_UNSAFE,
} from '../../../contracts/limits';
import { entrySize, sqsBatches } from '../../../lambdas/shared/sqs-batch';

const MiB = 1_048_576;

describe('the SendMessageBatch limits', () => {
  it.each([
    ['entries per call', SQS_MAX_BATCH_ENTRIES, 10],
    ['bytes per message', SQS_MAX_MESSAGE_BYTES, MiB],
    ['bytes per call', SQS_MAX_BATCH_BYTES, MiB],
  ])('%s: %i, as documented (%i)', (_name, actual, documented) => {
    // Given the constant the code batches by
    // When it is compared with the API reference's figure
    // Then they are the same
    expect(actual).toBe(documented);
  });
});

describe('entrySize', () => {
  it.each<{ name: string; entry: Parameters<typeof entrySize>[0]; bytes: number }>([
    { name: 'an empty body', entry: { MessageBody: '' }, bytes: 0 },
    { name: 'an ASCII body', entry: { MessageBody: 'hello' }, bytes: 5 },
    { name: 'a body counted in UTF-8 bytes, not UTF-16 units', entry: { MessageBody: 'é€😀' }, bytes: 2 + 3 + 4 },
    {
      name: 'a String attribute: name, type and value',
      entry: { MessageBody: 'ab', MessageAttributes: { reason: { DataType: 'String', StringValue: 'bad' } } },
      bytes: 2 + 'reason'.length + 'String'.length + 'bad'.length,
    },
    {
      name: 'a custom type label and a non-ASCII value',
      entry: { MessageBody: '', MessageAttributes: { n: { DataType: 'Number.int', StringValue: 'ü' } } },
      bytes: 1 + 'Number.int'.length + 2,
    },
    {
      name: 'every attribute adds up',
      entry: {
        MessageBody: 'x',
        MessageAttributes: {
          a: { DataType: 'String', StringValue: '1' },
          bb: { DataType: 'Number', StringValue: '22' },
        },
      },
      bytes: 1 + (1 + 6 + 1) + (2 + 6 + 2),
    },
  ])('counts $name as $bytes bytes', ({ entry, bytes }) => {
    // Given an entry as a caller builds it for SendMessageBatch
    // When its size is counted
    const size = entrySize(entry);
    // Then it is the bytes SQS counts against the 1 MiB message and batch limits
    expect(size).toBe(bytes);
  });
});

describe('sqsBatches', () => {
  /** Items whose size is the item itself, so a row reads as the sizes it batches. */
  const batchSizes = (sizes: number[]) => sqsBatches(sizes, (size) => size);
  const ones = (n: number) => Array.from({ length: n }, () => 1);

  it.each([
    { name: 'nothing', sizes: [], batches: [] },
    { name: 'one entry', sizes: [1], batches: [[1]] },
    { name: '9 entries (one under the count limit)', sizes: ones(9), batches: [ones(9)] },
    { name: '10 entries (exactly the count limit)', sizes: ones(10), batches: [ones(10)] },
    { name: '11 entries (one over the count limit)', sizes: ones(11), batches: [ones(10), [1]] },
    { name: '25 entries', sizes: ones(25), batches: [ones(10), ones(10), ones(5)] },
    { name: 'two halves of 1 MiB (exactly the size limit)', sizes: [MiB / 2, MiB / 2], batches: [[MiB / 2, MiB / 2]] },
    {
      name: 'two halves of 1 MiB and one byte (one over the size limit)',
      sizes: [MiB / 2, MiB / 2 + 1],
      batches: [[MiB / 2], [MiB / 2 + 1]],
    },
    { name: '1 MiB less a byte, then a byte', sizes: [MiB - 1, 1], batches: [[MiB - 1, 1]] },
    { name: '1 MiB, then a byte', sizes: [MiB, 1], batches: [[MiB], [1]] },
    {
      name: 'an entry over 1 MiB alone (SQS refuses that entry only)',
      sizes: [1, MiB + 1, 1],
      batches: [[1], [MiB + 1], [1]],
    },
    {
      name: 'the size limit reached before the count limit',
      sizes: [...ones(3), MiB - 3, ...ones(2)],
      batches: [[...ones(3), MiB - 3], ones(2)],
    },
    {
      name: 'a size-limited batch, then a count-limited one',
      sizes: [MiB, ...ones(11)],
      batches: [[MiB], ones(10), [1]],
    },
  ])('splits $name', ({ sizes, batches }) => {
    // Given entries of these sizes, in order
    // When they are split into SendMessageBatch calls
    const result = batchSizes(sizes);
    // Then each call holds at most 10 entries and 1 MiB, and the order is kept
    expect(result).toEqual(batches);
    expect(result.flat()).toEqual(sizes);
  });

  it('sizes entries with the caller’s measure, so attributes count towards the batch', () => {
    // Given two entries whose bodies fit together in 1 MiB but whose attributes tip them over
    const body = 'x'.repeat(MiB / 2 - 10);
    const attributes = { reason: { DataType: 'String', StringValue: 'y' } };
    const entries = [
      { Id: '0', MessageBody: body, MessageAttributes: attributes },
      { Id: '1', MessageBody: body, MessageAttributes: attributes },
    ];
    // When they are batched by entrySize
    const batches = sqsBatches(entries, entrySize);
    // Then each goes in its own call (body 524,278 + attribute 13 = 524,291 bytes each, 1,048,582 together)
    expect(batches.map((batch) => batch.map((entry) => entry.Id))).toEqual([['0'], ['1']]);
  });
});

describe('SQS_UNSAFE', () => {
  it.each([
    ['tab #x9', '\t', false],
    ['line feed #xA', '\n', false],
    ['carriage return #xD', '\r', false],
    ['space #x20', ' ', false],
    ['plain text', 'sensor-1 {"t":21.5}', false],
    ['#xD7FF, the last before the surrogates', '\uD7FF', false],
    ['#xE000, the first after the surrogates', '\uE000', false],
    ['#xFFFD, the replacement character', '\uFFFD', false],
    ['#x10000, the first astral', '\u{10000}', false],
    ['#x10FFFF, the last astral', '\u{10FFFF}', false],
    ['an emoji (a surrogate pair)', '😀', false],
    ['NUL #x0', '\u0000', true],
    ['#x8, just under tab', '\u0008', true],
    ['#xB, between line feed and carriage return', '\u000B', true],
    ['#x1F, just under space', '\u001F', true],
    ['a lone high surrogate #xD800', '\uD800', true],
    ['a lone low surrogate #xDFFF', '\uDFFF', true],
    ['#xFFFE', '\uFFFE', true],
    ['#xFFFF', '\uFFFF', true],
    ['one bad character in good text', 'ok\u0001ok', true],
  ])('%s (%j): unsafe is %s', (_name, text, unsafe) => {
    // Given a text a caller would put in a body or attribute value
    // When it is checked against the characters SQS accepts
    // Then it is flagged exactly when SQS would answer InvalidMessageContents
    expect(SQS_UNSAFE.test(text)).toBe(unsafe);
  });
});

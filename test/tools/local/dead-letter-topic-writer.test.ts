/** The sink's on-failure destination retries a refused write until it is written, or until it is stopped. */
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DeadLetterTopicWriter, type FailureContext } from '../../../tools/local/dead-letter-topic-writer';
import { eventRecord } from '../../../tools/local/kafka-event-source';

/** A Kafka client whose producer cannot write (every broker down). */
const unreachableKafka = (sends: { count: number }) =>
  ({
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async () => {
        sends.count++;
        throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      },
    }),
  }) as unknown as Kafka;

const failure: FailureContext = {
  condition: 'RetryAttemptsExhausted',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sink',
  approximateInvokeCount: 3,
  bootstrapServers: 'local:9092',
  consumerGroupId: 'sink',
};

describe('DeadLetterTopicWriter', () => {
  it('stops waiting to write again as soon as it is stopped, and says the record is not written', async () => {
    // Given a writer to a Kafka that refuses every send, stopped by the first retry warning
    const sends = { count: 0 };
    const warnings: string[] = [];
    const abort = new AbortController();
    // A retry delay far beyond the test's timeout: only the abort can end the wait
    const writer = new DeadLetterTopicWriter(
      unreachableKafka(sends),
      'events.sink-dlt',
      {
        warn: (message) => {
          warnings.push(message);
          abort.abort();
        },
        error: () => undefined,
      },
      600_000,
    );
    const record = eventRecord('events', 0, {
      key: Buffer.from('device-1'),
      value: Buffer.from('{}'),
      offset: '7',
      timestamp: '0',
      attributes: 0,
      headers: {},
    });

    // When it writes one record
    const written = await writer.write([record], failure, abort.signal);

    // Then it gives up at the abort, after one send, with the record not written
    expect(written).toBe(false);
    expect(sends.count).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('Writing to events.sink-dlt failed, retrying')]);
  }, 10_000);
});

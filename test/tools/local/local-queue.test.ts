/** The in-memory SQS queue: visibility timeout, receive counts, the redrive policy, waiting for messages. */
import { describe, expect, it } from 'vitest';
import { LocalQueue } from '../../../tools/local/local-queue';

function queues(maxReceiveCount = 2) {
  let now = 1_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const dlq = new LocalQueue({ name: 'dlq', now: clock.now });
  const queue = new LocalQueue({
    name: 'ingest',
    visibilityTimeoutMs: 30_000,
    redrive: { deadLetterQueue: dlq, maxReceiveCount },
    now: clock.now,
  });
  return { queue, dlq, clock };
}

describe('LocalQueue', () => {
  it('hides a received message for the visibility timeout, then delivers it again with a higher receive count', () => {
    // Given a queue with a 30 s visibility timeout holding one message
    const { queue, clock } = queues();
    const id = queue.send('a');

    // When it is received, looked for just before the timeout ends, and again at it
    const [first] = queue.receive(10);
    clock.advance(29_999);
    const during = queue.receive(10);
    clock.advance(1);
    const [second] = queue.receive(10);

    // Then it is hidden meanwhile and delivered again with a receive count of 2
    expect(first).toMatchObject({ messageId: id, body: 'a', receiveCount: 1, sentAt: 1_000, firstReceivedAt: 1_000 });
    expect(during).toEqual([]);
    expect(second).toMatchObject({ messageId: id, receiveCount: 2, firstReceivedAt: 1_000 });
  });

  it('deletes a received message for good, but not with the receipt of an earlier receive', () => {
    // Given a message received twice, the first receipt stale
    const { queue, clock } = queues(5);
    queue.send('a');
    const [stale] = queue.receive(1);
    clock.advance(30_000);
    const [current] = queue.receive(1);

    // When it is deleted with each receipt / Then only the latest one deletes it, for good
    expect(queue.delete(stale?.receiptHandle ?? '')).toBe(false);
    expect(queue.delete(current?.receiptHandle ?? '')).toBe(true);
    clock.advance(60_000);
    expect(queue.receive(10)).toEqual([]);
    expect(queue.inFlightCount).toBe(0);
  });

  it('deletes with the latest receipt after the visibility timeout ended, as long as nobody received it again', () => {
    // Given a message whose visibility timeout ended without another receive
    const { queue, clock } = queues(5);
    queue.send('late');
    queue.send('next');
    const [late] = queue.receive(1);
    clock.advance(30_000);
    expect(queue.visibleCount).toBe(2);

    // When it is deleted with its receipt
    expect(queue.delete(late?.receiptHandle ?? '')).toBe(true);

    // Then it is gone, the queue holds the other, and the receipt deletes nothing twice
    expect(queue.visibleCount).toBe(1);
    expect(queue.receive(10).map((message) => message.body)).toEqual(['next']);
    expect(queue.messages().map((message) => message.Body)).toEqual(['next']);
    expect(queue.delete(late?.receiptHandle ?? '')).toBe(false);
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue on the next receive, as SQS does', () => {
    // Given a message received maxReceiveCount (2) times
    const { queue, dlq, clock } = queues(2);
    const id = queue.send('poison', { note: { DataType: 'String', StringValue: 'kept' } });
    queue.receive(1);
    clock.advance(30_000);
    queue.receive(1);
    clock.advance(30_000);

    // When it is received a third time
    const third = queue.receive(1);

    // Then it is moved to the dead-letter queue with its attributes, as SQS does, and not delivered
    expect(third).toEqual([]);
    expect(queue.movedCount).toBe(1);
    expect(dlq.messages()).toEqual([
      {
        MessageId: id,
        Body: 'poison',
        Attributes: { SentTimestamp: '1000', ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: '1000' },
        MessageAttributes: { note: { DataType: 'String', StringValue: 'kept' } },
      },
    ]);
  });

  it('receives at most the batch size, oldest first', () => {
    // Given three messages
    const { queue } = queues();
    for (const body of ['1', '2', '3']) queue.send(body);

    // When two are received / Then the oldest two come, and one stays visible
    expect(queue.receive(2).map((message) => message.body)).toEqual(['1', '2']);
    expect(queue.visibleCount).toBe(1);
    expect(queue.inFlightCount).toBe(2);
  });

  it('wakes a waiter when enough messages arrive, and one waiting for more at its timeout', async () => {
    // Given a waiter for one message and, later, one for five with a 50 ms timeout
    const queue = new LocalQueue({ name: 'q' });
    const one = queue.waitForVisible(1, 10_000);
    queue.send('a');
    await one;
    const started = Date.now();

    // When the second waits with one message visible
    await queue.waitForVisible(5, 50);

    // Then the first woke when its message came, the second at its timeout
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(queue.visibleCount).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    // Given a waiter for a message that never comes
    const queue = new LocalQueue({ name: 'q' });
    const abort = new AbortController();
    const waiting = queue.waitForVisible(1, 60_000, abort.signal);
    // When its signal aborts / Then it resolves
    abort.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});

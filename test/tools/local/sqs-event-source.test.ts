/** Lambda's SQS event source on one machine: batching, ReportBatchItemFailures, failed invocations, redrive. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalQueue } from '../../../tools/local/local-queue';
import { type SqsBatchOutcome, SqsEventSource } from '../../../tools/local/sqs-event-source';

type Invoke = (event: SQSEvent) => Promise<SQSBatchResponse>;

const running: SqsEventSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.stop()));
});

function setup(
  invoke: Invoke,
  options: { batchSize?: number; windowMs?: number; maxReceiveCount?: number; concurrency?: number } = {},
) {
  const dlq = new LocalQueue({ name: 'dlq' });
  const queue = new LocalQueue({
    name: 'ingest',
    visibilityTimeoutMs: 100,
    redrive: { deadLetterQueue: dlq, maxReceiveCount: options.maxReceiveCount ?? 5 },
  });
  const events: SQSEvent[] = [];
  const outcomes: SqsBatchOutcome[] = [];
  const errors: string[] = [];
  const source = new SqsEventSource({
    queue,
    invoke: (event) => {
      events.push(event);
      return invoke(event);
    },
    functionName: 'forwarder',
    batchSize: options.batchSize ?? 10,
    batchingWindowMs: options.windowMs ?? 0,
    concurrency: options.concurrency ?? 1,
    onBatch: (outcome) => outcomes.push(outcome),
    log: { warn: (m) => errors.push(m), error: (m) => errors.push(m) },
  });
  source.start();
  running.push(source);
  return { queue, dlq, events, outcomes, errors };
}

const ok: Invoke = async () => ({ batchItemFailures: [] });
const bodies = (event: SQSEvent | undefined) => event?.Records.map((record) => record.body);

describe('SqsEventSource', () => {
  it('gathers up to the batch size for at most the batching window, and deletes what the function acknowledged', async () => {
    // Given a function that acknowledges everything, batches of 3 and a 200 ms window, and four messages
    const { queue, events, outcomes } = setup(ok, { batchSize: 3, windowMs: 200 });
    for (const body of ['1', '2', '3', '4']) queue.send(body);

    // When the event source polls
    await expect.poll(() => events.length).toBe(2);

    // Then it invokes with 3, then 1, as SQS events, and deletes all four
    expect(bodies(events[0])).toEqual(['1', '2', '3']);
    expect(bodies(events[1])).toEqual(['4']);
    expect(events[0]?.Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ingest',
      attributes: { ApproximateReceiveCount: '1' },
    });
    await expect.poll(() => outcomes.reduce((n, o) => n + o.deleted.length, 0)).toBe(4);
    expect(queue.visibleCount + queue.inFlightCount).toBe(0);
  });

  it('delivers the messages a response lists again after the visibility timeout, and only those', async () => {
    // Given a function that reports one message failed on its first invocation
    let first = true;
    const { queue, events } = setup(async (event) => {
      const failed = first ? event.Records.filter((r) => r.body === 'b') : [];
      first = false;
      return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    for (const body of ['a', 'b', 'c']) queue.send(body);

    // When the event source polls
    await expect.poll(() => events.length).toBe(2);

    // Then only that message comes again, after the visibility timeout, and nothing is left
    expect(bodies(events[1])).toEqual(['b']);
    expect(events[1]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    await expect.poll(() => queue.inFlightCount).toBe(0);
    expect(queue.visibleCount).toBe(0);
  });

  it('delivers the whole batch again when the invocation fails or names a message not in the batch', async () => {
    // Given a function that throws, then names a message not in its batch, then acknowledges
    let calls = 0;
    const { queue, events, errors } = setup(async () => {
      calls++;
      if (calls === 1) throw new Error('Runtime.ExitError');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      return { batchItemFailures: [] };
    });
    queue.send('x');
    queue.send('y');

    // When the event source polls
    await expect.poll(() => events.length).toBe(3);

    // Then the whole batch is delivered three times, each failure logged
    expect(events.map(bodies)).toEqual([
      ['x', 'y'],
      ['x', 'y'],
      ['x', 'y'],
    ]);
    expect(errors).toEqual([
      expect.stringContaining('Runtime.ExitError'),
      expect.stringContaining('not-in-this-batch'),
    ]);
  });

  it('moves a message that keeps failing to the dead-letter queue after maxReceiveCount deliveries', async () => {
    // Given a function that reports every message failed, and a maxReceiveCount of 3
    const { queue, dlq, events } = setup(
      async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }),
      { maxReceiveCount: 3 },
    );
    queue.send('never');

    // When the event source polls
    await expect.poll(() => dlq.visibleCount).toBe(1);

    // Then after three deliveries the message is in the dead-letter queue
    expect(events).toHaveLength(3);
    expect(dlq.messages()[0]).toMatchObject({ Body: 'never', Attributes: { ApproximateReceiveCount: '3' } });
  });

  it('counts a message acknowledged after another receive took it again as late, not as a failure', async () => {
    // Given two pollers, the first invocation outlasting the visibility timeout
    // The first invocation outlasts the 100 ms visibility timeout; the second poller receives the message meanwhile
    let calls = 0;
    const { queue, outcomes } = setup(
      async () => {
        if (++calls === 1) await new Promise((resolve) => setTimeout(resolve, 300));
        return { batchItemFailures: [] };
      },
      { concurrency: 2 },
    );
    queue.send('slow');

    // When both invocations answer
    await expect.poll(() => outcomes.length, { timeout: 5_000 }).toBe(2);

    // Then the second deletes the message and the first's late acknowledgement counts as late
    expect(outcomes.map(({ deleted, retried, late }) => [deleted.length, retried, late])).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(queue.visibleCount + queue.inFlightCount).toBe(0);
  });

  it('deletes a message acknowledged after its visibility timeout when nobody received it again', async () => {
    // Given a function that answers after the visibility timeout, with nobody else polling
    const { queue, outcomes } = setup(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { batchItemFailures: [] };
    });
    queue.send('slow');

    // When it answers
    await expect.poll(() => outcomes.length, { timeout: 5_000 }).toBe(1);

    // Then the message is deleted, neither retried nor late
    expect(outcomes[0]).toMatchObject({ retried: 0, late: 0 });
    expect(outcomes[0]?.deleted).toHaveLength(1);
    expect(queue.visibleCount + queue.inFlightCount).toBe(0);
  });
});

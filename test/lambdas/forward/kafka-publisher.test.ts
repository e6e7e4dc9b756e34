/**
 * KafkaPublisher's connection handling, against fake sessions: what must hold whatever the broker does.
 * Its behaviour against a real Kafka-protocol broker is in handler.integration.test.ts.
 */
import type { Admin, Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaPublisher, type KafkaSession, type KafkaSessionFactory } from '../../../lambdas/forward/kafka-publisher';
import type { OutboundMessage } from '../../../lambdas/forward/ports';
import type { KafkaBudget } from '../../../lambdas/shared/kafka/client';
import { RecordingLogger } from '../../helpers/recorders';

const messages = (n: number): OutboundMessage[] =>
  Array.from({ length: n }, (_, i) => ({ id: `m${i}`, key: `device-${i % 16}`, value: `{"i":${i}}`, headers: {} }));

const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** A session whose producer runs `send` and whose topic has 4 partitions led by brokers 1 and 2. */
function fakeSession(send: (record: ProducerRecord) => Promise<unknown>): KafkaSession & { closed: boolean } {
  const session = {
    closed: false,
    producer: { send } as unknown as Producer,
    admin: {
      fetchTopicMetadata: async () => ({
        topics: [
          {
            name: 'telemetry',
            partitions: [0, 1, 2, 3].map((id) => ({
              partitionId: id,
              leader: (id % 2) + 1,
              replicas: [],
              isr: [],
              partitionErrorCode: 0,
            })),
          },
        ],
      }),
    } as unknown as Admin,
    close: async () => {
      session.closed = true;
    },
  };
  return session;
}

/** A publisher on the `telemetry` topic whose sessions come from `sessions`. */
const publisherWith = (sessions: KafkaSessionFactory, maxRequestBytes?: number) =>
  new KafkaPublisher({ topic: 'telemetry', logger: new RecordingLogger(), sessions, maxRequestBytes });

describe('KafkaPublisher connection handling', () => {
  it('connects once when publishes race on a cold container', async () => {
    // Given a session factory that takes a while to connect
    let created = 0;
    const publisher = publisherWith(async () => {
      created++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return fakeSession(async () => []);
    });
    // When three publishes start before the connect finishes
    const deadline = Date.now() + 5_000;
    const outcomes = await Promise.all([1, 2, 3].map(() => publisher.publish(messages(8), deadline)));
    // Then exactly one session was created and every record was acknowledged
    expect(created).toBe(1);
    expect(outcomes.every((o) => o.failedIds.length === 0)).toBe(true);
  });

  it('sends one request per leader broker, each partition assigned explicitly', async () => {
    const sent: ProducerRecord[] = [];
    const publisher = publisherWith(async () =>
      fakeSession(async (record) => {
        sent.push(record);
        return [];
      }),
    );
    await publisher.publish(messages(40), Date.now() + 5_000);
    expect(sent).toHaveLength(2);
    for (const record of sent) {
      expect(record.acks).toBe(-1);
      const leaders = new Set(record.messages.map((m) => ((m.partition ?? -1) % 2) + 1));
      expect(leaders.size).toBe(1);
    }
    expect(sent.flatMap((r) => r.messages)).toHaveLength(40);
  });

  it('splits a leader group that exceeds maxRequestBytes', async () => {
    const sizes: number[] = [];
    const publisher = publisherWith(
      async () =>
        fakeSession(async (record) => {
          sizes.push(record.messages.reduce((sum, m) => sum + String(m.value).length + String(m.key).length + 160, 0));
          return [];
        }),
      1_000,
    );
    const big = messages(40).map((m) => ({ ...m, value: 'x'.repeat(200) }));
    const outcome = await publisher.publish(big, Date.now() + 5_000);
    expect(outcome.failedIds).toEqual([]);
    expect(sizes.length).toBeGreaterThan(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1_000);
  });

  it('drops a disconnected producer, reconnects and retries the failed records once', async () => {
    const sessions: ReturnType<typeof fakeSession>[] = [];
    const publisher = publisherWith(async () => {
      const first = sessions.length === 0;
      const session = fakeSession(async () => {
        if (first) throw namedError('KafkaJSError', 'The producer is disconnected');
        return [];
      });
      sessions.push(session);
      return session;
    });
    const outcome = await publisher.publish(messages(10), Date.now() + 5_000);
    expect(outcome.failedIds).toEqual([]);
    expect(sessions).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sessions[0]?.closed).toBe(true);
  });

  it('retries only once: a connection that keeps failing ends with every record reported', async () => {
    let created = 0;
    const publisher = publisherWith(async () => {
      created++;
      return fakeSession(async () => {
        throw namedError('KafkaJSConnectionError', 'Connection error: ECONNREFUSED');
      });
    });
    const outcome = await publisher.publish(messages(10), Date.now() + 5_000);
    expect(outcome.failedIds).toHaveLength(10);
    expect(created).toBe(2);
  });

  it('reports an authentication failure clearly, once, and re-reads the credentials on the next attempt', async () => {
    const refreshes: boolean[] = [];
    const publisher = publisherWith(async (_budget: KafkaBudget, refresh: boolean) => {
      refreshes.push(refresh);
      throw namedError('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed: Authentication failed');
    });
    const first = await publisher.publish(messages(5), Date.now() + 5_000);
    expect(first.failedIds).toHaveLength(5);
    expect(first.errors).toEqual([
      expect.stringMatching(/^KafkaAuthenticationError: Kafka rejected the SASL\/PLAIN credentials/),
    ]);
    expect(refreshes).toEqual([false]);

    await publisher.publish(messages(5), Date.now() + 5_000);
    expect(refreshes).toEqual([false, true]);
  });

  it('returns by the deadline when connecting hangs, with every record reported', async () => {
    const publisher = publisherWith(() => new Promise<KafkaSession>(() => undefined));
    const started = Date.now();
    const outcome = await publisher.publish(messages(3), started + 200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome.failedIds).toEqual(['m0', 'm1', 'm2']);
    expect(outcome.errors[0]).toMatch(/DeadlineExceededError: Kafka connect/);
  });

  it('does not reconnect after a broker error on a live connection', async () => {
    let created = 0;
    const publisher = publisherWith(async () => {
      created++;
      return fakeSession(async () => {
        throw Object.assign(
          namedError(
            'KafkaJSProtocolError',
            'The request included a message larger than the max message size the server will accept',
          ),
          { type: 'MESSAGE_TOO_LARGE', retriable: false },
        );
      });
    });
    const outcome = await publisher.publish(messages(4), Date.now() + 5_000);
    expect(outcome.failedIds).toHaveLength(4);
    await publisher.publish(messages(4), Date.now() + 5_000);
    expect(created).toBe(1);
  });
});

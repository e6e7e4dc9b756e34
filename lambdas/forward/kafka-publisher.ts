import {
  type Admin,
  CompressionTypes,
  type Message,
  Partitioners,
  type PartitionMetadata,
  type Producer,
} from 'kafkajs';
import { timeLeft, withDeadline } from '../shared/deadline';
import { describeError, KafkaAuthenticationError } from '../shared/errors';
import { deriveKafkaBudget, type KafkaBudget } from '../shared/kafka/client';
import { classifyKafkaError } from '../shared/kafka/errors';
import type { LoggerPort } from '../shared/observability';
import type { OutboundMessage, Publisher, PublishOutcome } from './ports';

/** A connected producer plus the admin client used for the topic's partition metadata. */
export interface KafkaSession {
  readonly producer: Producer;
  readonly admin: Admin;
  /** Disconnects both; never throws. */
  close(): Promise<void>;
}

/**
 * Creates and connects a session. `forceCredentialsRefresh` is set after Kafka rejected the credentials, so a
 * secret fixed in the meantime is read again instead of served from cache.
 */
export type KafkaSessionFactory = (budget: KafkaBudget, forceCredentialsRefresh: boolean) => Promise<KafkaSession>;

export type KafkaCompression = 'none' | 'gzip';

export interface KafkaPublisherOptions {
  readonly topic: string;
  readonly sessions: KafkaSessionFactory;
  readonly logger: LoggerPort;
  /** @default 'none' */
  readonly compression?: KafkaCompression;
  /** Upper bound of the record bytes in one `send`, below the topic's `max.message.bytes`. @default 1_000_000 */
  readonly maxRequestBytes?: number;
  /** How long partition leaders are trusted before they are fetched again. @default 300_000 */
  readonly metadataMaxAgeMs?: number;
  readonly now?: () => number;
}

/** Messages that go out in one `send`: same leader broker, at most `maxRequestBytes`. */
interface SendGroup {
  readonly messages: OutboundMessage[];
  readonly records: Message[];
}

interface GroupResult {
  readonly group: SendGroup;
  readonly error?: unknown;
}

/** Below this much time, a reconnect-and-retry cannot finish and is not attempted. */
const MIN_RETRY_MS = 1_000;

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;

/**
 * Produces to one Kafka topic from Lambda, reusing one connection per container.
 *
 * - Connects once; concurrent callers share the same connect (a second concurrent connect cannot happen).
 * - Keys partition with kafkajs' Java-compatible murmur2 partitioner, computed here so that records can be grouped
 *   by leader broker: one `send` per leader (split further only above `maxRequestBytes`). Each `send` then maps to
 *   one Produce request, and its outcome applies to exactly its records, so the failures reported are exact.
 * - acks=all, no topic auto-creation, every operation raced against the invocation deadline.
 * - A connection-class error drops the session, reconnects and retries the failed records once; an authentication
 *   error is reported once per invocation, with the secret re-read on the next attempt, never retried in a loop.
 */
export class KafkaPublisher implements Publisher {
  private session?: Promise<KafkaSession>;
  private leaders?: { readonly partitions: PartitionMetadata[]; readonly fetchedAt: number };
  private credentialsRejected = false;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly compression: CompressionTypes;
  private readonly maxRequestBytes: number;
  private readonly metadataMaxAgeMs: number;
  private readonly now: () => number;

  public constructor(private readonly options: KafkaPublisherOptions) {
    this.compression = COMPRESSION[options.compression ?? 'none'];
    this.maxRequestBytes = options.maxRequestBytes ?? 1_000_000;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  public async publish(messages: readonly OutboundMessage[], deadline: number): Promise<PublishOutcome> {
    if (messages.length === 0) return { failedIds: [], errors: [] };
    let pending: readonly OutboundMessage[] = messages;
    const errors: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await this.attempt(pending, deadline);
      if (failure.failed.length === 0) return { failedIds: [], errors };
      errors.push(...failure.errors);
      pending = failure.failed;
      const retry = attempt === 0 && failure.connectionLost && timeLeft(deadline, this.now()) >= MIN_RETRY_MS;
      if (!retry) break;
      this.options.logger.warn('Kafka connection lost; reconnecting and retrying the unacknowledged records once', {
        records: pending.length,
      });
    }
    return { failedIds: pending.map((message) => message.id), errors };
  }

  /** Drops the session and waits until it is closed (tests, local runs, shutdown). */
  public close(): Promise<void> {
    return this.dropSession();
  }

  private async attempt(
    messages: readonly OutboundMessage[],
    deadline: number,
  ): Promise<{ failed: readonly OutboundMessage[]; errors: string[]; connectionLost: boolean }> {
    let session: KafkaSession;
    let groups: SendGroup[];
    try {
      session = await withDeadline(this.connect(deadline), deadline, 'Kafka connect');
      groups = this.group(messages, await withDeadline(this.partitions(session), deadline, 'Kafka metadata'));
    } catch (error) {
      return { failed: messages, errors: [this.describe(error)], connectionLost: this.onError(error) };
    }

    const results = await Promise.all(groups.map((group) => this.send(session, group, deadline)));
    const failedResults = results.filter((result): result is Required<GroupResult> => result.error !== undefined);
    if (failedResults.length === 0) return { failed: [], errors: [], connectionLost: false };

    let connectionLost = false;
    for (const { error } of failedResults) connectionLost = this.onError(error) || connectionLost;
    this.leaders = undefined; // leadership may have moved: fetch it again before the next send
    return {
      failed: failedResults.flatMap(({ group }) => group.messages),
      errors: [...new Set(failedResults.map(({ error }) => this.describe(error)))],
      connectionLost,
    };
  }

  /** Reacts to an error; returns whether it was connection-class (worth a reconnect and one retry). */
  private onError(error: unknown): boolean {
    const kind = classifyKafkaError(error);
    if (kind === 'authentication') this.credentialsRejected = true;
    // A session that lost its connection, was refused, or whose requests outlived the deadline is not reused:
    // closing it also ends kafkajs' in-flight retries.
    if (kind !== 'other' || (error as { name?: unknown }).name === 'DeadlineExceededError') void this.dropSession();
    return kind === 'connection';
  }

  private describe(error: unknown): string {
    if (classifyKafkaError(error) !== 'authentication') return describeError(error);
    return describeError(
      new KafkaAuthenticationError(
        `Kafka rejected the SASL/PLAIN credentials (${describeError(error)}); check the Confluent API key and secret in the credentials secret`,
        { cause: error },
      ),
    );
  }

  /** Forgets the session at once (the next publish reconnects) and closes it in the background. */
  private dropSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.leaders = undefined;
    return session
      ? session.then(
          (s) => s.close(),
          () => undefined,
        )
      : Promise.resolve();
  }

  /** The shared session; the first caller creates it, concurrent callers await the same promise. */
  private connect(deadline: number): Promise<KafkaSession> {
    if (!this.session) {
      const budget = deriveKafkaBudget(timeLeft(deadline, this.now()));
      const refresh = this.credentialsRejected;
      const session = this.options.sessions(budget, refresh).then(
        (created) => {
          this.credentialsRejected = false;
          return created;
        },
        (error: unknown) => {
          if (this.session === session) this.session = undefined;
          throw error;
        },
      );
      session.catch(() => undefined);
      this.session = session;
    }
    return this.session;
  }

  private async partitions(session: KafkaSession): Promise<PartitionMetadata[]> {
    const cached = this.leaders;
    if (cached && this.now() - cached.fetchedAt < this.metadataMaxAgeMs) return cached.partitions;
    const metadata = await session.admin.fetchTopicMetadata({ topics: [this.options.topic] });
    const partitions = metadata.topics.find((topic) => topic.name === this.options.topic)?.partitions ?? [];
    if (partitions.length === 0)
      throw new Error(`Kafka topic ${this.options.topic} has no partitions (does it exist?)`);
    this.leaders = { partitions, fetchedAt: this.now() };
    return partitions;
  }

  /** Assigns partitions and groups the records by leader broker, then by size. */
  private group(messages: readonly OutboundMessage[], partitionMetadata: PartitionMetadata[]): SendGroup[] {
    const leaderOf = new Map(partitionMetadata.map((p) => [p.partitionId, p.leader]));
    const open = new Map<number, SendGroup & { bytes: number }>();
    const groups: SendGroup[] = [];
    const topic = this.options.topic;
    for (const message of messages) {
      const record: Message = { key: message.key, value: message.value, headers: message.headers };
      record.partition = this.partitioner({ topic, partitionMetadata, message: record });
      const leader = leaderOf.get(record.partition) ?? -1;
      // An estimate of the record's encoded size (headers included), to stay under the broker's request limit
      const size = message.key.length + message.value.length + 160;
      let group = open.get(leader);
      if (!group || group.bytes + size > this.maxRequestBytes) {
        group = { messages: [], records: [], bytes: 0 };
        open.set(leader, group);
        groups.push(group);
      }
      group.messages.push(message);
      group.records.push(record);
      group.bytes += size;
    }
    return groups;
  }

  private async send(session: KafkaSession, group: SendGroup, deadline: number): Promise<GroupResult> {
    try {
      const ackTimeout = Math.max(1_000, Math.min(30_000, timeLeft(deadline, this.now())));
      await withDeadline(
        session.producer.send({
          topic: this.options.topic,
          messages: group.records,
          acks: -1,
          timeout: ackTimeout,
          compression: this.compression,
        }),
        deadline,
        `Kafka send of ${group.records.length} records`,
      );
      return { group };
    } catch (error) {
      return { group, error };
    }
  }
}

/**
 * The sink event source's on-failure destination on one machine: Lambda writes each record it gives up on to the
 * dead-letter topic as a JSON document with the failure's metadata and the record itself in invoke-event shape (AWS
 * Lambda, "Using a Kafka topic as an on-failure destination"). The same document here, so `fromSinkDeadLetter`
 * (ops/failures/envelopes.ts) and the `failures` commands read what the local pipeline wrote as they read Lambda's.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { describeError } from '../../lambdas/shared/errors';
import type { KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import type { DeadLetterRecord } from '../../ops/failures/envelopes';
import type { LocalLog } from './ports';

/** Why Lambda gave up on a record. */
export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface FailureContext {
  readonly condition: FailureCondition;
  readonly functionArn: string;
  /** Invocations made with the record (0 when it expired before any). */
  readonly approximateInvokeCount: number;
  /** `Unhandled` when the last invocation failed as a whole (thrown error, timeout). */
  readonly functionError?: string;
  readonly bootstrapServers: string;
  readonly consumerGroupId: string;
}

/** The on-failure document for one record. */
export function onFailureDocument(record: KafkaEventRecord, failure: FailureContext, now = new Date()) {
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: failure.functionArn,
      condition: failure.condition,
      approximateInvokeCount: failure.approximateInvokeCount,
    },
    responseContext:
      failure.approximateInvokeCount === 0
        ? null
        : {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...(failure.functionError ? { functionError: failure.functionError } : {}),
          },
    version: '1.0',
    timestamp: now.toISOString(),
    KafkaBatchInfo: {
      batchSize: 1,
      topic: record.topic,
      partition: record.partition,
      startOffset: record.offset,
      endOffset: record.offset,
      bootstrapServers: failure.bootstrapServers,
      consumerGroupId: failure.consumerGroupId,
    },
    payload: {
      eventSource: 'SelfManagedKafka',
      bootstrapServers: failure.bootstrapServers,
      records: { [`${record.topic}-${record.partition}`]: [record] },
    },
  };
}

/** How long to wait before writing again after the destination refused a write. */
const RETRY_DELAY_MS = 1_000;

/** Records kept of what was written, for the summary when `local` stops (the mock cluster's topic goes with it). */
const MAX_KEPT = 1_000;

export class DeadLetterTopicWriter {
  /** What this writer wrote, as read back from the topic (the first MAX_KEPT). */
  public readonly written: DeadLetterRecord[] = [];
  private readonly producer: Producer;

  public constructor(
    kafka: Kafka,
    public readonly topic: string,
    private readonly log: LocalLog,
    /** How long to wait before writing again after the destination refused a write. */
    private readonly retryDelayMs = RETRY_DELAY_MS,
  ) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  public async connect(): Promise<void> {
    await this.producer.connect();
  }

  /**
   * Writes one document per record, keyed as the record was, with `acks=all`. Retries until written: the event
   * source commits past these records only afterwards. Returns false when `signal` aborted first.
   */
  public async write(
    records: readonly KafkaEventRecord[],
    failure: FailureContext,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (const record of records) {
      const value = Buffer.from(JSON.stringify(onFailureDocument(record, failure)));
      const key = record.key === undefined ? null : Buffer.from(record.key, 'base64');
      if (!(await this.send(key, value, signal))) return false;
    }
    return true;
  }

  /** One record at a time: its partition and offset come back with the acknowledgement. Rare enough not to batch. */
  private async send(key: Buffer | null, value: Buffer, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      try {
        const [written] = await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value }] });
        if (written && this.written.length < MAX_KEPT)
          this.written.push({
            topic: this.topic,
            partition: written.partition,
            offset: String(written.baseOffset ?? written.offset ?? ''),
            timestamp: String(Date.now()),
            value,
          });
        return true;
      } catch (error) {
        this.log.warn(`Writing to ${this.topic} failed, retrying: ${describeError(error)}`);
        // Ends early when stopped: the caller commits nothing then, and stop need not wait out the delay
        await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return false;
  }

  public async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

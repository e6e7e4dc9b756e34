/**
 * Lambda's Kafka event source mapping (provisioned mode, as the stack configures it), on one machine: a kafkajs
 * consumer group reads the topic from the earliest offset and hands the sink batches in the exact event shape
 * Lambda delivers, at most one batch per partition at a time. What the function answers decides what happens next:
 *
 * - no failures: the batch is committed;
 * - a partial batch response: everything before the first failed offset is committed and the batch is invoked
 *   again from that offset (the failed record and everything after it);
 * - a failed invocation (thrown error, timeout, or a response naming a record not in the batch): the whole batch
 *   is invoked again;
 * - after `retryAttempts` retries without progress, the records the last response listed (all of them after a
 *   failed invocation) go to the dead-letter topic in Lambda's on-failure document, then the batch is committed;
 * - records older than `maxRecordAgeMs` go to the dead-letter topic without being invoked.
 *
 * On demand (no dead-letter topic, no partial batch responses) a failing batch is retried until it succeeds.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { describeError } from '../../lambdas/shared/errors';
import type { KafkaBatchResponse, KafkaEvent, KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import type { DeadLetterTopicWriter, FailureContext } from './dead-letter-topic-writer';
import { localFunctionArn } from './lambda-context';
import type { LocalLog } from './ports';

/** A partition's records fetched and not yet handed to the function. */
interface PartitionBuffer {
  records: KafkaEventRecord[];
  /** When the batching window of the buffered records started (epoch ms). */
  since: number;
  /** The highest offset buffered so far. */
  last: number;
  /** The partition's latest kafkajs batch: its heartbeat, commit and staleness. */
  payload: EachBatchPayload;
  /** The delivery loop, while it runs. */
  draining: Promise<void> | undefined;
  /** Woken when records arrive or leave, the loop ends or the source stops. */
  waiters: (() => void)[];
}

function changed(buffer: PartitionBuffer): void {
  for (const wake of buffer.waiters.splice(0)) wake();
}

/** Resolves at the buffer's next change, or after `timeoutMs`. */
function nextChange(buffer: PartitionBuffer, timeoutMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(wake, timeoutMs);
    function wake() {
      clearTimeout(timer);
      resolve();
    }
    buffer.waiters.push(wake);
  });
}

/** Drops what is buffered: kafkajs fetches it again from the committed (or sought) offset. */
function forget(buffer: PartitionBuffer): void {
  buffer.records = [];
  buffer.last = -1;
}

/** What one invocation (or expiry) did. */
export interface SinkBatchOutcome {
  /** Records the function acknowledged: stored, already stored, or quarantined. */
  readonly acknowledged: number;
  /** Records to be invoked again. */
  readonly retried: number;
  /** Records written to the dead-letter topic. */
  readonly deadLettered: number;
}

export interface KafkaEventSourceOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  /** The topic's partition count: batches of different partitions run concurrently. */
  readonly partitions: number;
  /** The event's `bootstrapServers` field. */
  readonly bootstrapServers: string;
  /** Invokes the function (rejects when the invocation fails: an error thrown, a timeout). */
  readonly invoke: (event: KafkaEvent) => Promise<KafkaBatchResponse>;
  /** For messages and the on-failure documents' `functionArn`. */
  readonly functionName: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  /** Whether partial batch responses are honoured (provisioned mode); otherwise only a thrown error fails a batch. */
  readonly reportBatchItemFailures: boolean;
  /** Retries after the first invocation; Infinity for unbounded. */
  readonly retryAttempts: number;
  /** Infinity for no limit. */
  readonly maxRecordAgeMs: number;
  /** The on-failure destination; none on demand. */
  readonly deadLetter: DeadLetterTopicWriter | undefined;
  /** Delay before retry `n` (1-based). @default 200 ms doubling up to 5 s */
  readonly retryDelayMs?: (retry: number) => number;
  readonly onBatch?: (outcome: SinkBatchOutcome) => void;
  readonly log: LocalLog;
}

const defaultRetryDelay = (retry: number) => Math.min(200 * 2 ** (retry - 1), 5_000);

/** How a delivery attempt ended. */
type Attempt =
  | { readonly ok: true; readonly failedOffsets: readonly number[] }
  | { readonly ok: false; readonly error: string };

export class KafkaEventSource {
  private readonly consumer: Consumer;
  private readonly abort = new AbortController();
  private readonly buffers = new Map<number, PartitionBuffer>();

  public constructor(private readonly options: KafkaEventSourceOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // How long a fetch waits on the broker when there is nothing new
      maxWaitTimeInMs: Math.max(100, options.batchingWindowMs),
      retry: { retries: 10, restartOnFailure: async () => true },
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) =>
      options.log.warn(
        `Kafka consumer ${options.groupId} crashed (${payload.error.message}); ${payload.restart ? 'restarting' : 'not restarting'}`,
      ),
    );
  }

  /** Joins the group and starts delivering from the committed offsets (the earliest for a new group). */
  public async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Lambda invokes at most one batch per partition at a time, partitions in parallel
      partitionsConsumedConcurrently: this.options.partitions,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Stops after the invocations under way; their records are delivered again on the next start unless committed. */
  public async stop(): Promise<void> {
    this.abort.abort();
    for (const buffer of this.buffers.values()) changed(buffer);
    await Promise.all([...this.buffers.values()].map((buffer) => buffer.draining));
    await this.consumer.disconnect();
  }

  /**
   * Buffers what kafkajs fetched for a partition and lets its delivery loop hand the function batches of up to
   * `batchSize` records, gathered for at most the batching window, as Lambda's poller does. kafkajs fetches on from the
   * buffered records (they are resolved, not committed): a fetch returns one producer batch per partition from the
   * mock cluster, a few records, so without the window the function would see batches of a handful. A partition with
   * a full batch waiting holds its fetcher back.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    let buffer = this.buffers.get(batch.partition);
    if (!buffer) {
      buffer = { records: [], since: 0, last: -1, payload, draining: undefined, waiters: [] };
      this.buffers.set(batch.partition, buffer);
    }
    buffer.payload = payload;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // A fetch after the group rejoined starts again from the committed offset: skip what is buffered already
      if (offset <= buffer.last) continue;
      if (buffer.records.length === 0) buffer.since = Date.now();
      buffer.records.push(eventRecord(batch.topic, batch.partition, message));
      buffer.last = offset;
    }
    if (batch.messages.length > 0) payload.resolveOffset(batch.lastOffset());
    changed(buffer);
    buffer.draining ??= this.drain(buffer);
    while (buffer.records.length >= this.options.batchSize && !this.abort.signal.aborted) await nextChange(buffer);
  }

  /** Invokes the function with the partition's buffered records, one batch at a time, until none are left. */
  private async drain(buffer: PartitionBuffer): Promise<void> {
    const { batchSize, batchingWindowMs } = this.options;
    const { signal } = this.abort;
    try {
      while (buffer.records.length > 0 && !signal.aborted) {
        const due = buffer.since + batchingWindowMs;
        if (buffer.records.length < batchSize && Date.now() < due) {
          await nextChange(buffer, due - Date.now());
          continue;
        }
        const { payload } = buffer;
        if (!payload.isRunning() || payload.isStale()) {
          forget(buffer);
          return;
        }
        const chunk = buffer.records.splice(0, batchSize);
        // What arrives from now on waits for the window from now
        buffer.since = Date.now();
        changed(buffer);
        try {
          if (!(await this.deliver(chunk, payload))) return;
        } catch (error) {
          // As kafkajs does when a batch handler throws: fetch again from the first record not handled
          const first = chunk[0]?.offset ?? 0;
          this.options.log.warn(
            `${this.options.functionName}: delivering ${payload.batch.topic}-${payload.batch.partition} failed (${describeError(error)}); fetching again from offset ${first}`,
          );
          forget(buffer);
          this.consumer.seek({ topic: payload.batch.topic, partition: payload.batch.partition, offset: String(first) });
          return;
        }
      }
    } finally {
      buffer.draining = undefined;
      changed(buffer);
    }
  }

  /** Delivers one batch until it is acknowledged or dead-lettered; false when stopped first (nothing committed). */
  private async deliver(batch: readonly KafkaEventRecord[], payload: EachBatchPayload): Promise<boolean> {
    const { signal } = this.abort;
    const last = batch.at(-1);
    if (!last) return true;
    let pending = [...batch];
    let invocations = 0;
    let retries = 0;
    while (pending.length > 0) {
      if (signal.aborted) return false;
      pending = await this.dropExpired(pending, invocations);
      const first = pending[0];
      if (!first) break;
      invocations++;
      const attempt = await this.invoke(pending);
      const failed =
        attempt.ok && this.options.reportBatchItemFailures
          ? pending.filter((record) => attempt.failedOffsets.includes(record.offset))
          : attempt.ok
            ? []
            : pending;
      if (failed.length === 0) {
        this.options.onBatch?.({ acknowledged: pending.length, retried: 0, deadLettered: 0 });
        break;
      }
      const from = failed[0]?.offset ?? first.offset;
      const remaining = pending.filter((record) => record.offset >= from);
      await this.commit(payload, from - 1, batch[0]?.offset ?? 0);
      retries = from > first.offset ? 1 : retries + 1;
      if (retries > this.options.retryAttempts && this.options.deadLetter) {
        const context = this.failureContext(
          'RetryAttemptsExhausted',
          invocations,
          attempt.ok ? undefined : 'Unhandled',
        );
        if (!(await this.options.deadLetter.write(failed, context, signal))) return false;
        this.options.onBatch?.({
          acknowledged: pending.length - failed.length,
          retried: 0,
          deadLettered: failed.length,
        });
        break;
      }
      this.options.onBatch?.({
        acknowledged: pending.length - remaining.length,
        retried: remaining.length,
        deadLettered: 0,
      });
      if (!attempt.ok) this.options.log.error(`${this.options.functionName} invocation failed: ${attempt.error}`);
      pending = remaining;
      await this.sleep((this.options.retryDelayMs ?? defaultRetryDelay)(retries));
      await payload.heartbeat();
    }
    await this.commit(payload, last.offset, batch[0]?.offset ?? 0);
    return true;
  }

  /** Sends records past the maximum age to the dead-letter topic; returns the others. */
  private async dropExpired(records: KafkaEventRecord[], invocations: number): Promise<KafkaEventRecord[]> {
    const { deadLetter, maxRecordAgeMs } = this.options;
    if (!deadLetter || !Number.isFinite(maxRecordAgeMs)) return records;
    const oldest = Date.now() - maxRecordAgeMs;
    const expired = records.filter((record) => record.timestamp < oldest);
    if (expired.length === 0) return records;
    await deadLetter.write(expired, this.failureContext('RecordAgeExceeded', invocations), this.abort.signal);
    this.options.onBatch?.({ acknowledged: 0, retried: 0, deadLettered: expired.length });
    return records.filter((record) => record.timestamp >= oldest);
  }

  private async invoke(records: readonly KafkaEventRecord[]): Promise<Attempt> {
    const { topic } = this.options;
    const event: KafkaEvent = {
      eventSource: 'SelfManagedKafka',
      bootstrapServers: this.options.bootstrapServers,
      records: groupByPartition(records),
    };
    let response: KafkaBatchResponse;
    try {
      response = await this.options.invoke(event);
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
    const failures = response?.batchItemFailures ?? [];
    const known = new Set(records.map((record) => `${topic}-${record.partition}@${record.offset}`));
    const offsets: number[] = [];
    for (const { itemIdentifier } of failures) {
      const id = `${itemIdentifier?.partition}@${itemIdentifier?.offset}`;
      if (!known.has(id)) return { ok: false, error: `the response names ${id}, which is not in the batch` };
      offsets.push(Number(itemIdentifier.offset));
    }
    return { ok: true, failedOffsets: offsets.sort((a, b) => a - b) };
  }

  private failureContext(
    condition: FailureContext['condition'],
    invocations: number,
    functionError?: string,
  ): FailureContext {
    return {
      condition,
      functionArn: localFunctionArn(this.options.functionName),
      approximateInvokeCount: invocations,
      ...(functionError ? { functionError } : {}),
      bootstrapServers: this.options.bootstrapServers,
      consumerGroupId: this.options.groupId,
    };
  }

  /** Commits everything up to and including `offset`, unless that is before the batch (`first`): nothing new. */
  private async commit(payload: EachBatchPayload, offset: number, first: number): Promise<void> {
    if (offset < first) return;
    await payload.commitOffsetsIfNecessary({
      topics: [
        {
          topic: payload.batch.topic,
          partitions: [{ partition: payload.batch.partition, offset: String(offset + 1) }],
        },
      ],
    });
  }

  private sleep(ms: number): Promise<void> {
    const { signal } = this.abort;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A record as Lambda's Kafka event source delivers it: base64 key and value, headers as byte arrays. */
export function eventRecord(topic: string, partition: number, message: KafkaMessage): KafkaEventRecord {
  const headers: Record<string, number[]>[] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined) headers.push({ [name]: [...Buffer.from(item)] });
    }
  }
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: 'CREATE_TIME',
    ...(message.key ? { key: message.key.toString('base64') } : {}),
    value: message.value ? message.value.toString('base64') : null,
    headers,
  };
}

function groupByPartition(records: readonly KafkaEventRecord[]): Record<string, KafkaEventRecord[]> {
  const grouped: Record<string, KafkaEventRecord[]> = {};
  for (const record of records) {
    const key = `${record.topic}-${record.partition}`;
    const list = grouped[key] ?? [];
    list.push(record);
    grouped[key] = list;
  }
  return grouped;
}

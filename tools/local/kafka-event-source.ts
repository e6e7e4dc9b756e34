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
 * - a record that failed in its `retryAttempts + 1`-th invocation (counted per offset, see `deliver`) goes to the
 *   dead-letter topic in Lambda's on-failure document; once nothing is left to retry the batch is committed;
 * - records older than `maxRecordAgeMs` go to the dead-letter topic without being invoked.
 *
 * Nothing is committed past a record before the dead-letter topic has it: when `stop` interrupts that write, the
 * records are delivered again on the next start.
 *
 * On demand (no dead-letter topic, no partial batch responses) a failing batch is retried until it succeeds.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { describeError } from '../../lambdas/shared/errors';
import type { KafkaBatchResponse, KafkaEvent, KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import type { FailureContext } from './dead-letter-topic-writer';
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
  /**
   * Invocations so far of each offset not committed yet. Kept across deliveries, so a record fetched again (after a
   * delivery threw, or a rejoin) keeps the attempts it already had.
   */
  invocations: Map<number, number>;
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

/** Where the event source sends the records it gives up on: the on-failure destination (dead-letter-topic-writer.ts). */
export interface DeadLetterDestination {
  /** Writes one on-failure document per record; false when `signal` aborted first (not all of them are written). */
  write(records: readonly KafkaEventRecord[], failure: FailureContext, signal: AbortSignal): Promise<boolean>;
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
  readonly deadLetter: DeadLetterDestination | undefined;
  /** Delay before retry `n` (1-based). @default 200 ms doubling up to 5 s */
  readonly retryDelayMs?: (retry: number) => number;
  /**
   * The consumer's session timeout: the group drops a member that sends no heartbeat for this long. kafkajs only
   * heartbeats between batches, so the source heartbeats itself while a full buffer holds the fetcher back.
   * @default 30 s (kafkajs')
   */
  readonly sessionTimeoutMs?: number;
  readonly onBatch?: (outcome: SinkBatchOutcome) => void;
  readonly log: LocalLog;
}

const defaultRetryDelay = (retry: number) => Math.min(200 * 2 ** (retry - 1), 5_000);

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

/** How a delivery attempt ended. */
type Attempt =
  | { readonly ok: true; readonly failedOffsets: readonly number[] }
  | { readonly ok: false; readonly error: string };

export class KafkaEventSource {
  private readonly consumer: Consumer;
  private readonly abort = new AbortController();
  private readonly buffers = new Map<number, PartitionBuffer>();

  /** How often the source heartbeats while it holds a fetcher back (a third of the session, as kafkajs advises). */
  private readonly heartbeatIntervalMs: number;

  public constructor(private readonly options: KafkaEventSourceOptions) {
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.heartbeatIntervalMs = Math.min(3_000, Math.floor(sessionTimeout / 3));
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout,
      heartbeatInterval: this.heartbeatIntervalMs,
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
   * a full batch waiting holds its fetcher back, and heartbeats meanwhile: kafkajs heartbeats only between batches, so
   * a fetcher held back for an invocation longer than the session timeout (the sink's 60 s against kafkajs' 30 s)
   * would otherwise be dropped from the group, and its batch delivered again after the rebalance.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    let buffer = this.buffers.get(batch.partition);
    if (!buffer) {
      buffer = { records: [], since: 0, last: -1, payload, draining: undefined, waiters: [], invocations: new Map() };
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
    while (buffer.records.length >= this.options.batchSize && !this.abort.signal.aborted) {
      await nextChange(buffer, this.heartbeatIntervalMs);
      // Sent only when the interval has passed since the group last heard from this consumer; throws on a rebalance,
      // which kafkajs answers by rejoining
      await payload.heartbeat();
    }
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
          if (!(await this.deliver(chunk, payload, buffer.invocations))) return;
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

  /**
   * Delivers one batch until it is acknowledged or dead-lettered; false when stopped first (nothing committed past
   * what was acknowledged).
   *
   * The retry budget is counted per record (offset), in invocations, and outlives the delivery: a record that failed
   * in its `retryAttempts + 1`-th invocation goes to the dead-letter topic. A budget per batch would reset whenever
   * the first failed offset moves on (records failing behind it would get a fresh one each time) and whenever the
   * batch is fetched again; per record, no record that keeps failing is invoked more than `retryAttempts + 1` times.
   * Records the function acknowledged but that sit behind a failed one are invoked again with it, as Lambda does;
   * those invocations count too.
   */
  private async deliver(
    batch: readonly KafkaEventRecord[],
    payload: EachBatchPayload,
    invocations: Map<number, number>,
  ): Promise<boolean> {
    const { signal } = this.abort;
    const { reportBatchItemFailures, retryAttempts, deadLetter } = this.options;
    const first = batch[0]?.offset ?? 0;
    const last = batch.at(-1);
    if (!last) return true;
    const count = (record: KafkaEventRecord) => invocations.get(record.offset) ?? 0;
    let pending: readonly KafkaEventRecord[] = batch;
    while (pending.length > 0) {
      if (signal.aborted) return false;
      const unexpired = await this.dropExpired(pending, count);
      if (!unexpired) return false;
      pending = unexpired;
      if (pending.length === 0) break;
      for (const record of pending) invocations.set(record.offset, count(record) + 1);
      const attempt = await this.invoke(pending);
      const failed =
        attempt.ok && reportBatchItemFailures
          ? pending.filter((record) => attempt.failedOffsets.includes(record.offset))
          : attempt.ok
            ? []
            : pending;
      const firstFailed = failed[0];
      if (!firstFailed) {
        this.options.onBatch?.({ acknowledged: pending.length, retried: 0, deadLettered: 0 });
        break;
      }
      if (!attempt.ok) this.options.log.error(`${this.options.functionName} invocation failed: ${attempt.error}`);
      await this.commit(payload, firstFailed.offset - 1, first, invocations);
      const exhausted = deadLetter ? failed.filter((record) => count(record) > retryAttempts) : [];
      if (exhausted.length > 0) {
        const failure = (record: KafkaEventRecord) =>
          this.failureContext('RetryAttemptsExhausted', count(record), attempt.ok ? undefined : 'Unhandled');
        if (!(await this.giveUp(exhausted, failure))) return false;
      }
      const givenUp = new Set(exhausted.map((record) => record.offset));
      const from = failed.find((record) => !givenUp.has(record.offset));
      const remaining = from
        ? pending.filter((record) => record.offset >= from.offset && !givenUp.has(record.offset))
        : [];
      this.options.onBatch?.({
        acknowledged: pending.length - remaining.length - exhausted.length,
        retried: remaining.length,
        deadLettered: exhausted.length,
      });
      if (!from) break;
      await this.commit(payload, from.offset - 1, first, invocations);
      pending = remaining;
      await this.sleep((this.options.retryDelayMs ?? defaultRetryDelay)(count(from)));
      await payload.heartbeat();
    }
    await this.commit(payload, last.offset, first, invocations);
    return true;
  }

  /**
   * Sends records past the maximum age to the dead-letter topic; returns the others, or undefined when stopped before
   * the dead-letter topic had them all (they must not be committed).
   */
  private async dropExpired(
    records: readonly KafkaEventRecord[],
    count: (record: KafkaEventRecord) => number,
  ): Promise<readonly KafkaEventRecord[] | undefined> {
    const { deadLetter, maxRecordAgeMs } = this.options;
    if (!deadLetter || !Number.isFinite(maxRecordAgeMs)) return records;
    const oldest = Date.now() - maxRecordAgeMs;
    const expired = records.filter((record) => record.timestamp < oldest);
    if (expired.length === 0) return records;
    if (!(await this.giveUp(expired, (record) => this.failureContext('RecordAgeExceeded', count(record)))))
      return undefined;
    this.options.onBatch?.({ acknowledged: 0, retried: 0, deadLettered: expired.length });
    return records.filter((record) => record.timestamp >= oldest);
  }

  /** Writes each record's on-failure document to the dead-letter topic; false when stopped first. */
  private async giveUp(
    records: readonly KafkaEventRecord[],
    failure: (record: KafkaEventRecord) => FailureContext,
  ): Promise<boolean> {
    const { deadLetter } = this.options;
    if (!deadLetter) return false;
    for (const record of records) {
      if (!(await deadLetter.write([record], failure(record), this.abort.signal))) return false;
    }
    return true;
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

  /**
   * Commits everything up to and including `offset`, unless that is before the batch (`first`): nothing new. The
   * committed records' invocation counts are dropped: they are not delivered again.
   */
  private async commit(
    payload: EachBatchPayload,
    offset: number,
    first: number,
    invocations: Map<number, number>,
  ): Promise<void> {
    if (offset < first) return;
    await payload.commitOffsetsIfNecessary({
      topics: [
        {
          topic: payload.batch.topic,
          partitions: [{ partition: payload.batch.partition, offset: String(offset + 1) }],
        },
      ],
    });
    for (const counted of invocations.keys()) if (counted <= offset) invocations.delete(counted);
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

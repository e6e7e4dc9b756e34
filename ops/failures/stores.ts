/**
 * The four failure stores behind one interface: list what is parked (as `FailureEnvelope`s) and redrive it to the
 * start of the pipeline, the ingest queue. Redrives are safe to repeat: every message carries its event id (or is
 * enriched again into one), and the sink stores each event id once.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Document } from 'mongodb';
import type { FailureEnvelope, FailureStore } from '../../contracts/failure';
import { SQS_MAX_MESSAGE_BYTES, SQS_UNSAFE } from '../../contracts/limits';
import type { QuarantineDocument } from '../../lambdas/sink/documents';
import type { DeadLetterTopic } from './dead-letter-topic';
import { fromDeadLetter, fromIotError, fromQuarantine, fromSinkDeadLetter, replayBodyOfIotError } from './envelopes';
import {
  deleteMessages,
  peekMessages,
  queueArn,
  queueDepth,
  REDRIVE_VISIBILITY_SECONDS,
  receiveBatch,
  releaseMessages,
  sendBodies,
  startMoveTask,
} from './sqs';

export type RedriveOutcome = 'redriven' | 'would-redrive' | 'skipped' | 'failed';

export interface RedriveItem {
  readonly id: string;
  readonly outcome: RedriveOutcome;
  readonly detail?: string;
}

export interface RedriveReport {
  readonly store: FailureStore;
  readonly items: RedriveItem[];
  /** Set when the whole dead-letter queue was handed to SQS's own redrive (StartMessageMoveTask). */
  readonly moveTask?: { readonly taskHandle: string; readonly approximateMessages: number };
  /** Something that went wrong after messages were sent (they are then listed, and redriven harmlessly, again). */
  readonly warning?: string;
}

export interface RedriveOptions {
  readonly dryRun: boolean;
  /** Only these envelope ids; all when absent. */
  readonly ids?: ReadonlySet<string>;
  /** At most this many messages. */
  readonly limit: number;
  /** The caller asked for `limit` explicitly: the dead-letter queue then goes message by message, not by move task. */
  readonly limitGiven?: boolean;
  /** Messages per second for SQS move tasks. @default SQS's choice */
  readonly maxPerSecond?: number;
  readonly onProgress?: (done: number) => void;
}

export interface FailureSource {
  readonly store: FailureStore;
  /** Messages in the store (approximate for queues), without reading them. */
  count(): Promise<number>;
  list(limit: number): Promise<FailureEnvelope[]>;
  redrive(options: RedriveOptions): Promise<RedriveReport>;
}

/** The body an envelope's payload becomes in the ingest queue, or why it cannot be sent there. */
function ingestBody(envelope: FailureEnvelope): { body: string } | { problem: string } {
  if (!envelope.payload) return { problem: 'the store holds no payload for it' };
  if (envelope.payload.encoding !== 'utf8') return { problem: 'the payload is not UTF-8 text; SQS cannot carry it' };
  return sqsBody(envelope.payload.data);
}

/** A body SQS accepts, or why not. */
function sqsBody(body: string): { body: string } | { problem: string } {
  if (SQS_UNSAFE.test(body)) return { problem: 'the payload holds characters SQS does not accept' };
  if (Buffer.byteLength(body, 'utf8') > SQS_MAX_MESSAGE_BYTES)
    return { problem: `the payload is larger than SQS's ${SQS_MAX_MESSAGE_BYTES}-byte message size` };
  return { body };
}

const selected = (options: RedriveOptions, id: string) => !options.ids || options.ids.has(id);

/** The SQS queues: the IoT rule's error queue and the ingest dead-letter queue. */
abstract class QueueSource implements FailureSource {
  public abstract readonly store: FailureStore;

  protected constructor(
    protected readonly sqs: SQSClient,
    protected readonly queueUrl: string,
    protected readonly ingestQueueUrl: string,
  ) {}

  protected abstract envelope(message: Message): FailureEnvelope;
  protected abstract replayBody(message: Message, envelope: FailureEnvelope): { body: string } | { problem: string };

  public async count(): Promise<number> {
    const depth = await queueDepth(this.sqs, this.queueUrl);
    return depth.visible + depth.inFlight + depth.delayed;
  }

  public async list(limit: number): Promise<FailureEnvelope[]> {
    return (await peekMessages(this.sqs, this.queueUrl, limit)).map((message) => this.envelope(message));
  }

  /**
   * Ten messages at a time: receive (hidden for `REDRIVE_VISIBILITY_SECONDS`), send the replay bodies to the ingest
   * queue, delete what SQS took, release the rest at once. Working in small steps keeps every receipt handle fresh
   * however long the queue; the pass ends when a receive brings nothing new.
   */
  public async redrive(options: RedriveOptions): Promise<RedriveReport> {
    const items: RedriveItem[] = [];
    const seen = new Set<string>();
    while (seen.size < options.limit) {
      const batch = await receiveBatch(this.sqs, this.queueUrl, options.limit - seen.size, REDRIVE_VISIBILITY_SECONDS);
      const fresh = batch.filter((message) => !seen.has(message.MessageId ?? ''));
      const again = batch.filter((message) => seen.has(message.MessageId ?? ''));
      await releaseMessages(this.sqs, this.queueUrl, again);
      if (fresh.length === 0) break;
      for (const message of fresh) seen.add(message.MessageId ?? '');
      items.push(...(await this.redriveBatch(fresh, options)));
    }
    return { store: this.store, items };
  }

  private async redriveBatch(messages: readonly Message[], options: RedriveOptions): Promise<RedriveItem[]> {
    const items: RedriveItem[] = [];
    const toSend: { key: string; body: string; message: Message }[] = [];
    const untouched: Message[] = [];
    for (const message of messages) {
      const envelope = this.envelope(message);
      if (!selected(options, envelope.id)) {
        untouched.push(message);
        continue;
      }
      const replay = this.replayBody(message, envelope);
      const checked = 'problem' in replay ? replay : sqsBody(replay.body);
      if ('problem' in checked) {
        items.push({ id: envelope.id, outcome: 'skipped', detail: checked.problem });
        untouched.push(message);
      } else if (options.dryRun) {
        items.push({ id: envelope.id, outcome: 'would-redrive' });
        untouched.push(message);
      } else toSend.push({ key: envelope.id, body: checked.body, message });
    }
    const failed = await sendBodies(this.sqs, this.ingestQueueUrl, toSend, options.onProgress);
    const sent = toSend.filter((entry) => !failed.has(entry.key));
    const notDeleted = new Set(
      await deleteMessages(
        this.sqs,
        this.queueUrl,
        sent.map((entry) => entry.message),
      ),
    );
    for (const entry of toSend) {
      const error = failed.get(entry.key);
      if (error) {
        items.push({ id: entry.key, outcome: 'failed', detail: error });
        untouched.push(entry.message);
      } else
        items.push({
          id: entry.key,
          outcome: 'redriven',
          ...(notDeleted.has(entry.message.MessageId ?? '')
            ? { detail: 'sent, but not deleted from the store: it will be listed (and redriven, harmlessly) again' }
            : {}),
        });
    }
    await releaseMessages(this.sqs, this.queueUrl, untouched);
    return items;
  }
}

export class IngestErrorSource extends QueueSource {
  public readonly store = 'ingest-errors' as const;

  public constructor(
    sqs: SQSClient,
    queueUrl: string,
    ingestQueueUrl: string,
    private readonly topicFilters: readonly string[],
  ) {
    super(sqs, queueUrl, ingestQueueUrl);
  }

  protected envelope(message: Message): FailureEnvelope {
    return fromIotError(message, this.queueUrl, this.topicFilters);
  }

  /** The original device payload, enriched as the rule would have. */
  protected replayBody(message: Message) {
    return replayBodyOfIotError(message, this.topicFilters);
  }
}

export class DeadLetterQueueSource extends QueueSource {
  public readonly store = 'ingest-dlq' as const;

  public constructor(
    sqs: SQSClient,
    queueUrl: string,
    ingestQueueUrl: string,
    private readonly maxReceiveCount: number,
  ) {
    super(sqs, queueUrl, ingestQueueUrl);
  }

  protected envelope(message: Message): FailureEnvelope {
    return fromDeadLetter(message, this.queueUrl, this.maxReceiveCount);
  }

  protected replayBody(_message: Message, envelope: FailureEnvelope) {
    return ingestBody(envelope);
  }

  /**
   * Everything, not a dry run: SQS's own redrive (StartMessageMoveTask) moves the whole queue server-side, keeping
   * message attributes. A selection, an explicit limit or a dry run goes message by message.
   */
  public override async redrive(options: RedriveOptions): Promise<RedriveReport> {
    if (options.ids || options.dryRun || options.limitGiven) return super.redrive(options);
    const approximateMessages = await this.count();
    const [source, destination] = await Promise.all([
      queueArn(this.sqs, this.queueUrl),
      queueArn(this.sqs, this.ingestQueueUrl),
    ]);
    const taskHandle = await startMoveTask(this.sqs, source, destination, options.maxPerSecond);
    return { store: this.store, items: [], moveTask: { taskHandle, approximateMessages } };
  }
}

export class SinkDeadLetterSource implements FailureSource {
  public readonly store = 'sink-dlt' as const;

  public constructor(
    private readonly topic: DeadLetterTopic,
    private readonly sqs: SQSClient,
    private readonly ingestQueueUrl: string,
  ) {}

  public async count(): Promise<number> {
    let pending = 0n;
    for (const range of (await this.topic.ranges()).values()) pending += range.end - range.start;
    return Number(pending);
  }

  public async list(limit: number): Promise<FailureEnvelope[]> {
    return (await this.topic.pending(limit)).flatMap(fromSinkDeadLetter).slice(0, limit);
  }

  /**
   * Sends the failed records' values to the ingest queue, then advances the redrive group in each partition up to
   * the first record that was not redriven (a failed send, or one skipped: no payload, not text, not Lambda's
   * document), so what stays is still listed. Records that are not Lambda's on-failure document are redriven only
   * when named with `--id`: they are someone else's and need a look first.
   */
  public async redrive(options: RedriveOptions): Promise<RedriveReport> {
    const records = await this.topic.pending(options.limit);
    const items: RedriveItem[] = [];
    const toSend: { key: string; body: string }[] = [];
    const blocked = new Set<number>();
    const next = new Map<number, bigint>();
    const pendingKeys = new Map<string, { partition: number; offset: bigint }>();
    for (const record of records) {
      let redrivable = true;
      for (const envelope of fromSinkDeadLetter(record)) {
        if (!selected(options, envelope.id)) {
          redrivable = false;
          continue;
        }
        const body =
          envelope.reason === 'unrecognised_dead_letter' && !options.ids?.has(envelope.id)
            ? { problem: 'not a Lambda on-failure document: look at it (`failures show`), then redrive it by --id' }
            : ingestBody(envelope);
        if ('problem' in body) {
          items.push({ id: envelope.id, outcome: 'skipped', detail: body.problem });
          redrivable = false;
        } else if (options.dryRun) items.push({ id: envelope.id, outcome: 'would-redrive' });
        else {
          toSend.push({ key: envelope.id, body: body.body });
          pendingKeys.set(envelope.id, { partition: record.partition, offset: BigInt(record.offset) });
        }
      }
      if (!redrivable) blocked.add(record.partition);
      else if (!blocked.has(record.partition)) next.set(record.partition, BigInt(record.offset) + 1n);
    }
    const failed = await sendBodies(this.sqs, this.ingestQueueUrl, toSend, options.onProgress);
    for (const entry of toSend) {
      const error = failed.get(entry.key);
      items.push(error ? { id: entry.key, outcome: 'failed', detail: error } : { id: entry.key, outcome: 'redriven' });
      const at = pendingKeys.get(entry.key);
      // A failed send stops its partition's mark just before it.
      if (error && at && (next.get(at.partition) ?? -1n) > at.offset) next.set(at.partition, at.offset);
    }
    if (options.dryRun || next.size === 0) return { store: this.store, items };
    try {
      await this.topic.markRedriven(next);
      return { store: this.store, items };
    } catch (error) {
      return {
        store: this.store,
        items,
        warning: `sent, but the redrive group could not be advanced (${(error as Error).message}): these records will be listed, and redriven harmlessly, again`,
      };
    }
  }
}

/** The slice of a MongoDB collection the quarantine store uses (the driver's `Collection` fits). */
export interface QuarantineCollection {
  find(filter: Document, options: { sort: Document; limit: number }): { toArray(): Promise<QuarantineDocument[]> };
  deleteOne(filter: { _id: string }): Promise<{ deletedCount: number }>;
  countDocuments(): Promise<number>;
}

export class QuarantineSource implements FailureSource {
  public readonly store = 'quarantine' as const;

  public constructor(
    private readonly collection: QuarantineCollection,
    private readonly database: string,
    private readonly sqs: SQSClient,
    private readonly ingestQueueUrl: string,
  ) {}

  public count(): Promise<number> {
    return this.collection.countDocuments();
  }

  private async documents(limit: number): Promise<QuarantineDocument[]> {
    return this.collection.find({}, { sort: { firstFailedAt: 1 }, limit }).toArray();
  }

  public async list(limit: number): Promise<FailureEnvelope[]> {
    return (await this.documents(limit)).map((document) => fromQuarantine(document, this.database));
  }

  /** Sends each record's value to the ingest queue and removes it from the quarantine once SQS has it. */
  public async redrive(options: RedriveOptions): Promise<RedriveReport> {
    const items: RedriveItem[] = [];
    const toSend: { key: string; body: string; documentId: string }[] = [];
    for (const document of await this.documents(options.limit)) {
      const envelope = fromQuarantine(document, this.database);
      if (!selected(options, envelope.id)) continue;
      const body = ingestBody(envelope);
      if ('problem' in body) items.push({ id: envelope.id, outcome: 'skipped', detail: body.problem });
      else if (options.dryRun) items.push({ id: envelope.id, outcome: 'would-redrive' });
      else toSend.push({ key: envelope.id, body: body.body, documentId: document._id });
    }
    const failed = await sendBodies(this.sqs, this.ingestQueueUrl, toSend, options.onProgress);
    for (const entry of toSend) {
      const error = failed.get(entry.key);
      if (error) items.push({ id: entry.key, outcome: 'failed', detail: error });
      else {
        await this.collection.deleteOne({ _id: entry.documentId });
        items.push({ id: entry.key, outcome: 'redriven' });
      }
    }
    return { store: this.store, items };
  }
}

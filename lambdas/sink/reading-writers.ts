/**
 * How readings reach MongoDB exactly once. Two strategies, one per collection kind:
 *
 * - Regular collection (default): `updateOne({_id: eventId}, {$setOnInsert: doc}, {upsert: true})`, unordered. A
 *   replay matches the existing document and changes nothing; a concurrent duplicate surfaces as E11000, which is
 *   also "already stored". One round trip per batch.
 * - Time-series collection: time-series collections enforce no unique `_id` and take no upserts, so idempotency
 *   comes from a regular `readingIds` collection: mark each eventId `pending` (insert-if-absent), insert the
 *   readings whose mark is new or that the time-series collection does not hold (a pending mark, or a `stored` one
 *   whose reading has expired or been deleted), then mark them `stored`. Three to four round trips per batch; exactly once as long as one writer handles a given eventId
 *   at a time, which holds because a device's readings share a Kafka partition and Lambda processes a partition's
 *   batches one at a time. It does not hold across a change of the topic's partition count (keys map anew, so two
 *   copies of one reading can sit on two partitions handled concurrently, and both insert): README "Time-series
 *   option" gives the operational rule (drain first).
 */
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import { timeLeft } from '../shared/deadline';
import { DeadlineExceededError } from '../shared/errors';
import { type ReadingDocument, STORED_READING_PROJECTION, type StoredReading } from './documents';
import { classifyMongoError, type MongoErrorClass, redactCredentials } from './mongo-errors';
import type { CollectionPort } from './ports';

export type WriteOutcome =
  | { readonly status: 'written' | 'duplicate' }
  | { readonly status: 'failed'; readonly kind: Exclude<MongoErrorClass, 'duplicate'>; readonly error: string };

export interface ReadingWriter {
  /**
   * Writes the documents (unique `_id`s) by `deadline` (epoch ms); returns one outcome per document, in order.
   * Never throws.
   */
  write(documents: readonly ReadingDocument[], deadline: number): Promise<WriteOutcome[]>;
  /**
   * The stored readings with these eventIds (to tell a replay from a conflicting reading that reuses an id).
   * Throws when MongoDB cannot answer by `deadline`.
   */
  stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[]>;
}

/**
 * What "already stored" may rest on: a reading a write concern failure left on the primary alone is visible to a
 * "local" read but lost if that primary rolls back, so acknowledging it as a duplicate could lose it. A "majority"
 * read sees only what survives a failover ("Read Concern \"majority\"",
 * https://www.mongodb.com/docs/manual/reference/read-concern-majority/).
 */
const MAJORITY = { level: 'majority' } as const;

/** Reads stored readings by a field holding the eventId (`_id`, or `eventId` in a time-series collection). */
async function findStored(
  readings: CollectionPort<ReadingDocument>,
  field: '_id' | 'eventId',
  eventIds: readonly string[],
  deadline: number,
): Promise<StoredReading[]> {
  if (eventIds.length === 0) return [];
  const timeoutMS = timeLeft(deadline);
  if (timeoutMS === 0) throw new DeadlineExceededError('no time left to read the stored readings');
  const found = await readings
    .find(
      { [field]: { $in: [...eventIds] } },
      { projection: { ...STORED_READING_PROJECTION, eventId: 1 }, timeoutMS, readConcern: MAJORITY },
    )
    .toArray();
  return found.map((document) => ({ ...document, _id: field === '_id' ? document._id : (document.eventId ?? '') }));
}

const noTime = (count: number): WriteOutcome[] =>
  Array.from({ length: count }, () => ({
    status: 'failed',
    kind: 'transient',
    error: 'DeadlineExceededError: no time left for this write',
  }));

/** An error for an outcome (logged, or quarantined with `write_rejected`): never with a URI's credentials. */
const describe = (error: unknown): string =>
  redactCredentials(error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Runs an unordered bulk write and maps the result to one outcome per operation: upserted or inserted → written,
 * matched → duplicate, E11000 → duplicate, other write errors → classified, a failure of the whole call → every
 * operation failed (transient unless classified otherwise; nothing is assumed written).
 */
export async function bulkOutcomes<T extends Document>(
  collection: CollectionPort<T>,
  operations: AnyBulkWriteOperation<T>[],
  deadline: number,
  inserted: (index: number, result: { upsertedIds: { readonly [index: number]: unknown } }) => boolean,
): Promise<WriteOutcome[]> {
  if (operations.length === 0) return [];
  const timeoutMS = timeLeft(deadline);
  if (timeoutMS === 0) return noTime(operations.length);
  try {
    const result = await collection.bulkWrite(operations, { ordered: false, timeoutMS });
    return operations.map((_, index) => ({ status: inserted(index, result) ? 'written' : 'duplicate' }));
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const result = (error as { result?: BulkCounts }).result;
    // A write concern failure (w: majority not reached) arrives as a MongoBulkWriteError whose result lists
    // writeConcernErrors next to upserts the primary applied: nothing in that call is durable, so nothing counts.
    const hasWriteConcernError = Boolean(
      (error as { result?: { getWriteConcernError?: () => unknown } }).result?.getWriteConcernError?.(),
    );
    const failed = (kind: Exclude<MongoErrorClass, 'duplicate'>): WriteOutcome => ({
      status: 'failed',
      kind,
      error: describe(error),
    });
    if (!writeErrors || !result?.upsertedIds || hasWriteConcernError) {
      const kind = classifyMongoError(error);
      return operations.map(() => failed(kind === 'duplicate' ? 'transient' : kind));
    }
    const byIndex = new Map<number, { code?: number; errmsg?: string }>();
    for (const writeError of [writeErrors].flat() as { index: number; code?: number; errmsg?: string }[]) {
      byIndex.set(writeError.index, writeError);
    }
    // The driver also reports an interrupted execution (closed topology, lost connection) as a MongoBulkWriteError,
    // with fewer results than operations and no write error for the rest: those operations are unconfirmed.
    const accounted =
      (result.matchedCount ?? 0) + (result.upsertedCount ?? 0) + (result.insertedCount ?? 0) + byIndex.size;
    const complete = accounted >= operations.length;
    const upserted = { upsertedIds: result.upsertedIds ?? {} };
    return operations.map((_, index) => {
      const writeError = byIndex.get(index);
      if (!writeError) {
        if (upserted.upsertedIds[index] !== undefined && inserted(index, upserted)) return { status: 'written' };
        if (!complete) return failed('transient');
        return { status: inserted(index, upserted) ? 'written' : 'duplicate' };
      }
      const kind = classifyMongoError(writeError);
      if (kind === 'duplicate') return { status: 'duplicate' };
      return {
        status: 'failed',
        kind,
        error: redactCredentials(`E${writeError.code ?? '?'}: ${writeError.errmsg ?? 'write error'}`),
      };
    });
  }
}

interface BulkCounts {
  readonly upsertedIds?: { readonly [index: number]: unknown };
  readonly matchedCount?: number;
  readonly upsertedCount?: number;
  readonly insertedCount?: number;
}

const upsertedAt = (index: number, result: { upsertedIds: { readonly [index: number]: unknown } }) =>
  result.upsertedIds[index] !== undefined;

/** Insert-if-absent into a regular collection keyed by eventId. */
export class UpsertReadingWriter implements ReadingWriter {
  public constructor(private readonly readings: CollectionPort<ReadingDocument>) {}

  public write(documents: readonly ReadingDocument[], deadline: number): Promise<WriteOutcome[]> {
    const operations: AnyBulkWriteOperation<ReadingDocument>[] = documents.map((document) => ({
      updateOne: { filter: { _id: document._id }, update: { $setOnInsert: document }, upsert: true },
    }));
    return bulkOutcomes(this.readings, operations, deadline, upsertedAt);
  }

  public stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[]> {
    return findStored(this.readings, '_id', eventIds, deadline);
  }
}

/** `readingIds` collection document: the idempotency mark of one reading in a time-series collection. */
export interface ReadingIdDocument {
  readonly _id: string;
  readonly state: 'pending' | 'stored';
  readonly markedAt: Date;
}

/** Time-series readings with idempotency marks in a regular collection (see the module comment). */
export class TimeSeriesReadingWriter implements ReadingWriter {
  public constructor(
    private readonly readings: CollectionPort<ReadingDocument>,
    private readonly marks: CollectionPort<ReadingIdDocument>,
  ) {}

  public stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[]> {
    // Time-series collections keep `_id` neither unique nor indexed: the indexed copy is `eventId`
    return findStored(this.readings, 'eventId', eventIds, deadline);
  }

  public async write(documents: readonly ReadingDocument[], deadline: number): Promise<WriteOutcome[]> {
    const now = new Date();
    // 1. Mark every eventId pending, if not marked yet
    const markOutcomes = await bulkOutcomes(
      this.marks,
      documents.map((document) => ({
        updateOne: {
          filter: { _id: document._id },
          update: { $setOnInsert: { _id: document._id, state: 'pending' as const, markedAt: now } },
          upsert: true,
        },
      })),
      deadline,
      upsertedAt,
    );
    const outcomes: WriteOutcome[] = [...markOutcomes];
    const alreadyMarked = documents.filter((_, i) => markOutcomes[i]?.status === 'duplicate').map((d) => d._id);
    // 2. Of those marked before, which are stored already? The collection decides, not the mark: a `stored` mark can
    // outlive its reading (expiry, deletion), and "already stored" for a reading stored nowhere would acknowledge it
    // lost
    let stored = new Set<string>();
    let foundUnmarked: string[] = [];
    if (alreadyMarked.length > 0) {
      try {
        if (timeLeft(deadline) === 0) throw new Error('DeadlineExceededError: no time left to check marks');
        const done = new Set(
          (
            await this.marks
              .find({ _id: { $in: alreadyMarked }, state: 'stored' }, { timeoutMS: timeLeft(deadline) })
              .toArray()
          ).map((d) => d._id),
        );
        const present = await this.readings
          .find(
            { eventId: { $in: alreadyMarked } },
            { projection: { eventId: 1 }, timeoutMS: timeLeft(deadline), readConcern: MAJORITY },
          )
          .toArray();
        // Inserted by an attempt that failed before marking them: mark them now
        foundUnmarked = present.flatMap((d) => (d.eventId !== undefined && !done.has(d.eventId) ? [d.eventId] : []));
        stored = new Set(present.flatMap((d) => (d.eventId === undefined ? [] : [d.eventId])));
      } catch (error) {
        const failed: WriteOutcome = { status: 'failed', kind: 'transient', error: describe(error) };
        return documents.map((_, i) =>
          markOutcomes[i]?.status === 'failed' ? (markOutcomes[i] as WriteOutcome) : failed,
        );
      }
    }
    // 3. Insert what is not stored yet
    const toInsert: number[] = [];
    documents.forEach((document, i) => {
      const mark = markOutcomes[i];
      if (mark?.status === 'written' || (mark?.status === 'duplicate' && !stored.has(document._id))) toInsert.push(i);
      else if (mark?.status === 'duplicate') outcomes[i] = { status: 'duplicate' };
    });
    const insertOutcomes = await bulkOutcomes(
      this.readings,
      toInsert.map((i) => {
        const document = documents[i] as ReadingDocument;
        const { _id, ...fields } = document;
        return { insertOne: { document: { ...fields, _id, eventId: _id } } };
      }),
      deadline,
      () => true,
    );
    toInsert.forEach((documentIndex, k) => {
      outcomes[documentIndex] = insertOutcomes[k] ?? { status: 'failed', kind: 'transient', error: 'no outcome' };
    });
    // 4. Mark what is now in the collection stored (a failure here is harmless: step 2 finds them next time)
    const insertedIds = toInsert
      .filter((_, k) => insertOutcomes[k]?.status === 'written')
      .map((i) => documents[i]?._id as string);
    insertedIds.push(...foundUnmarked);
    if (insertedIds.length > 0) {
      await bulkOutcomes(
        this.marks,
        [{ updateMany: { filter: { _id: { $in: insertedIds } }, update: { $set: { state: 'stored' as const } } } }],
        deadline,
        () => false,
      );
    }
    return outcomes;
  }
}

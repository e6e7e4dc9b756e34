/**
 * The `ReadingStore`s on MongoDB: how readings reach it exactly once. Two strategies, one per collection kind:
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
import type { AnyBulkWriteOperation } from 'mongodb';
import { timeLeft } from '../../shared/deadline';
import { DeadlineExceededError } from '../../shared/errors';
import type { ReadingDocument, StoredReading } from '../documents';
import type { ReadingOutcome, ReadingStore, StoreFailure } from '../ports';
import { type BulkOutcome, bulkOutcomes, DUPLICATE, upsertedAt } from './bulk-outcomes';
import type { MongoCollection, ReadingIdDocument } from './collections';
import { storeFailure } from './errors';

/** Projection of `StoredReading` for reads of the readings collection. */
export const STORED_READING_PROJECTION = {
  deviceId: 1,
  ts: 1,
  seq: 1,
  readings: 1,
  receivedAt: 1,
  kafka: 1,
} as const;

/**
 * What "already stored" may rest on: a reading a write concern failure left on the primary alone is visible to a
 * "local" read but lost if that primary rolls back, so acknowledging it as a duplicate could lose it. A "majority"
 * read sees only what survives a failover ("Read Concern \"majority\"",
 * https://www.mongodb.com/docs/manual/reference/read-concern-majority/).
 */
const MAJORITY = { level: 'majority' } as const;

/** Reads stored readings by a field holding the eventId (`_id`, or `eventId` in a time-series collection). */
async function findStored(
  readings: MongoCollection<ReadingDocument>,
  field: '_id' | 'eventId',
  eventIds: readonly string[],
  deadline: number,
): Promise<StoredReading[] | StoreFailure> {
  if (eventIds.length === 0) return [];
  try {
    const timeoutMS = timeLeft(deadline);
    if (timeoutMS === 0) throw new DeadlineExceededError('no time left to read the stored readings');
    const found = await readings
      .find(
        { [field]: { $in: [...eventIds] } },
        { projection: { ...STORED_READING_PROJECTION, eventId: 1 }, timeoutMS, readConcern: MAJORITY },
      )
      .toArray();
    return found.map((document) => ({ ...document, _id: field === '_id' ? document._id : (document.eventId ?? '') }));
  } catch (error) {
    return storeFailure(error);
  }
}

/** Insert-if-absent into a regular collection keyed by eventId. */
export class UpsertReadingStore implements ReadingStore {
  public constructor(private readonly readings: MongoCollection<ReadingDocument>) {}

  public write(documents: readonly ReadingDocument[], deadline: number): Promise<ReadingOutcome[]> {
    const operations: AnyBulkWriteOperation<ReadingDocument>[] = documents.map((document) => ({
      updateOne: { filter: { _id: document._id }, update: { $setOnInsert: document }, upsert: true },
    }));
    return bulkOutcomes(this.readings, operations, deadline, upsertedAt);
  }

  public stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[] | StoreFailure> {
    return findStored(this.readings, '_id', eventIds, deadline);
  }
}

/** Time-series readings with idempotency marks in a regular collection (see the module comment). */
export class TimeSeriesReadingStore implements ReadingStore {
  public constructor(
    private readonly readings: MongoCollection<ReadingDocument>,
    private readonly marks: MongoCollection<ReadingIdDocument>,
  ) {}

  public stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[] | StoreFailure> {
    // Time-series collections keep `_id` neither unique nor indexed: the indexed copy is `eventId`
    return findStored(this.readings, 'eventId', eventIds, deadline);
  }

  public async write(documents: readonly ReadingDocument[], deadline: number): Promise<ReadingOutcome[]> {
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
    const outcomes: BulkOutcome[] = [...markOutcomes];
    const alreadyMarked = documents.filter((_, i) => markOutcomes[i]?.status === 'duplicate').map((d) => d._id);
    // 2. Of those marked before, which are stored already? The collection decides, not the mark: a `stored` mark can
    // outlive its reading (expiry, deletion), and "already stored" for a reading stored nowhere would acknowledge it
    // lost
    let stored = new Set<string>();
    let foundUnmarked: string[] = [];
    if (alreadyMarked.length > 0) {
      try {
        if (timeLeft(deadline) === 0) throw new DeadlineExceededError('no time left to check marks');
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
        // Whether they are stored is unknown: nothing is decided, everything retried
        const failed: StoreFailure = { ...storeFailure(error), kind: 'transient' };
        return documents.map((_, i) =>
          markOutcomes[i]?.status === 'failed' ? (markOutcomes[i] as BulkOutcome) : failed,
        );
      }
    }
    // 3. Insert what is not stored yet
    const toInsert: number[] = [];
    documents.forEach((document, i) => {
      const mark = markOutcomes[i];
      if (mark?.status === 'written' || (mark?.status === 'duplicate' && !stored.has(document._id))) toInsert.push(i);
      else if (mark?.status === 'duplicate') outcomes[i] = DUPLICATE;
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

/**
 * The sink core's dependency: three MongoDB collections through the one driver method it uses. The driver's
 * `Collection` satisfies this, and so does the in-memory fake in the tests.
 */
import type { AnyBulkWriteOperation, BulkWriteOptions, Document, Filter, FindCursor, WithId } from 'mongodb';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from './documents';
import type { ReadingIdDocument } from './reading-writers';

/** The parts of a bulk write result the sink reads. */
export interface BulkResult {
  readonly upsertedIds: { readonly [index: number]: unknown };
  readonly insertedCount: number;
}

export interface CollectionPort<T extends Document> {
  bulkWrite(operations: AnyBulkWriteOperation<T>[], options?: BulkWriteOptions): Promise<BulkResult>;
  find(
    filter: Filter<T>,
    options?: { projection?: Document; timeoutMS?: number; readConcern?: { level: 'majority' } },
  ): Pick<FindCursor<WithId<T>>, 'toArray'>;
}

export interface SinkCollections {
  readonly readings: CollectionPort<ReadingDocument>;
  readonly devices: CollectionPort<DeviceStateDocument>;
  readonly quarantine: CollectionPort<QuarantineDocument>;
  /** Idempotency marks, used only with a time-series `readings` collection. */
  readonly readingIds?: CollectionPort<ReadingIdDocument>;
}

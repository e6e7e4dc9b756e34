/**
 * The MongoDB collections the sink's adapters write to, through the two driver methods they use. The driver's
 * `Collection` satisfies `MongoCollection`, and so do the in-memory stores (`telemetry-ops local`, the tests'
 * driver-level fake). Driver types only: importing this module loads no driver code.
 */
import type { AnyBulkWriteOperation, BulkWriteOptions, Document, Filter, FindCursor, WithId } from 'mongodb';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../documents';

/** Collection names. `readingIds` exists only with a time-series `readings` collection. */
export const COLLECTIONS = {
  readings: 'readings',
  devices: 'devices',
  quarantine: 'quarantine',
  readingIds: 'readingIds',
} as const;

/** The parts of a bulk write result the adapters read. */
export interface BulkResult {
  readonly upsertedIds: { readonly [index: number]: unknown };
  readonly insertedCount: number;
}

export interface MongoCollection<T extends Document> {
  bulkWrite(operations: AnyBulkWriteOperation<T>[], options?: BulkWriteOptions): Promise<BulkResult>;
  find(
    filter: Filter<T>,
    options?: { projection?: Document; timeoutMS?: number; readConcern?: { level: 'majority' } },
  ): Pick<FindCursor<WithId<T>>, 'toArray'>;
}

/** `readingIds` collection document: the idempotency mark of one reading in a time-series collection. */
export interface ReadingIdDocument {
  readonly _id: string;
  readonly state: 'pending' | 'stored';
  readonly markedAt: Date;
}

export interface SinkCollections {
  readonly readings: MongoCollection<ReadingDocument>;
  readonly devices: MongoCollection<DeviceStateDocument>;
  readonly quarantine: MongoCollection<QuarantineDocument>;
  /** Idempotency marks, used only with a time-series `readings` collection. */
  readonly readingIds?: MongoCollection<ReadingIdDocument>;
}

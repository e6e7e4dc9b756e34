/**
 * The `QuarantineStore` on MongoDB: insert-if-absent by Kafka position, counting every delivery.
 */
import type { AnyBulkWriteOperation } from 'mongodb';
import type { QuarantineDocument } from '../documents';
import type { ParkOutcome, QuarantineEntry, QuarantineStore } from '../ports';
import { bulkOutcomes } from './bulk-outcomes';
import type { MongoCollection } from './collections';

const PARKED: ParkOutcome = Object.freeze({ status: 'parked' });

const parkOperation = (entry: QuarantineEntry): AnyBulkWriteOperation<QuarantineDocument> => ({
  updateOne: {
    filter: { _id: entry._id },
    update: { $setOnInsert: entry, $inc: { attempts: 1 } },
    upsert: true,
  },
});

export class MongoQuarantineStore implements QuarantineStore {
  public constructor(private readonly quarantine: MongoCollection<QuarantineDocument>) {}

  public async park(entries: readonly QuarantineEntry[], deadline: number): Promise<ParkOutcome[]> {
    const outcomes = await bulkOutcomes(this.quarantine, entries.map(parkOperation), deadline, () => true);
    return outcomes.map((outcome) => (outcome.status === 'failed' ? outcome : PARKED));
  }
}

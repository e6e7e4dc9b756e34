/**
 * One outcome per operation of an unordered bulk write: what the driver's result, its `MongoBulkWriteError` and the
 * server's write errors say about each operation, with E11000 read as "the document exists".
 */
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import { timeLeft } from '../../shared/deadline';
import { DeadlineExceededError } from '../../shared/errors';
import type { StoreFailure } from '../ports';
import type { MongoCollection } from './collections';
import { classifyMongoError, redactCredentials, storeFailure } from './errors';

/** `written`: inserted or upserted by this call; `duplicate`: matched, or E11000 (the `_id` exists). */
export type BulkOutcome = { readonly status: 'written' } | { readonly status: 'duplicate' } | StoreFailure;

/** Shared, never written to: no object per operation for the usual outcomes. */
export const WRITTEN: BulkOutcome = Object.freeze({ status: 'written' });
export const DUPLICATE: BulkOutcome = Object.freeze({ status: 'duplicate' });

/** Whether the operation at `index` created its document (`upsertedIds` has it, or it is an insert). */
export type Inserted = (
  index: number,
  result: { readonly upsertedIds: { readonly [index: number]: unknown } },
) => boolean;

export const upsertedAt: Inserted = (index, result) => result.upsertedIds[index] !== undefined;

interface BulkCounts {
  readonly upsertedIds?: { readonly [index: number]: unknown };
  readonly matchedCount?: number;
  readonly upsertedCount?: number;
  readonly insertedCount?: number;
  getWriteConcernError?(): unknown;
}

/** The parts of the driver's `MongoBulkWriteError` that say which operations were applied. */
interface BulkWriteError {
  readonly writeErrors?: unknown;
  readonly result?: BulkCounts;
}

/** By `name` (a getter on the driver's class, kept by minification), not `instanceof`: errors cross module copies. */
const isBulkWriteError = (error: unknown): error is BulkWriteError =>
  (error as { name?: unknown } | undefined)?.name === 'MongoBulkWriteError';

/** Every operation failed transiently: nothing was sent, for want of time. */
export function noTime(count: number, what: string): StoreFailure[] {
  const failure = storeFailure(new DeadlineExceededError(`no time left for ${what}`));
  return Array.from({ length: count }, () => failure);
}

/**
 * Runs an unordered bulk write and maps the result to one outcome per operation: upserted or inserted → written,
 * matched → duplicate, E11000 → duplicate, other write errors → classified, a failure of the whole call → every
 * operation failed (transient unless classified otherwise; nothing is assumed written).
 */
export async function bulkOutcomes<T extends Document>(
  collection: MongoCollection<T>,
  operations: AnyBulkWriteOperation<T>[],
  deadline: number,
  inserted: Inserted,
): Promise<BulkOutcome[]> {
  if (operations.length === 0) return [];
  const timeoutMS = timeLeft(deadline);
  if (timeoutMS === 0) return noTime(operations.length, 'this write');
  try {
    const result = await collection.bulkWrite(operations, { ordered: false, timeoutMS });
    return operations.map((_, index) => (inserted(index, result) ? WRITTEN : DUPLICATE));
  } catch (error) {
    const failure = storeFailure(error);
    if (!isBulkWriteError(error)) return operations.map(() => failure);
    const { writeErrors, result } = error;
    // A write concern failure (w: majority not reached) arrives as a MongoBulkWriteError whose result lists
    // writeConcernErrors next to upserts the primary applied: nothing in that call is durable, so nothing counts and
    // nothing is decided. The error's own code is the first write error's (a validation failure, say), which must
    // not make the whole call permanent: every operation is retried, and a rejected one is judged on redelivery.
    if (result?.getWriteConcernError?.()) {
      const undecided: StoreFailure = { ...failure, kind: 'transient' };
      return operations.map(() => undecided);
    }
    if (!writeErrors || !result?.upsertedIds) return operations.map(() => failure);
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
    const unconfirmed: StoreFailure = { ...failure, kind: 'transient' };
    return operations.map((_, index): BulkOutcome => {
      const writeError = byIndex.get(index);
      if (!writeError) {
        if (upserted.upsertedIds[index] !== undefined && inserted(index, upserted)) return WRITTEN;
        if (!complete) return unconfirmed;
        return inserted(index, upserted) ? WRITTEN : DUPLICATE;
      }
      const kind = classifyMongoError(writeError);
      if (kind === 'duplicate') return DUPLICATE;
      return {
        status: 'failed',
        kind,
        error: redactCredentials(`E${writeError.code ?? '?'}: ${writeError.errmsg ?? 'write error'}`),
      };
    });
  }
}

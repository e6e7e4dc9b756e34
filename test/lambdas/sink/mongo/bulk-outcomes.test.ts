/**
 * `bulkOutcomes` against the driver's own error classes: what one unordered bulk write did, per operation.
 */
import { MongoBulkWriteError } from 'mongodb';
import { BulkWriteResult, WriteConcernError, WriteError } from 'mongodb/lib/bulk/common.js';
import { describe, expect, it } from 'vitest';
import { bulkOutcomes, upsertedAt } from '../../../../lambdas/sink/mongo/bulk-outcomes';
import type { MongoCollection } from '../../../../lambdas/sink/mongo/collections';

/** A collection whose bulk write throws `error`. */
const throwing = (error: Error) =>
  ({ bulkWrite: async () => Promise.reject(error) }) as unknown as MongoCollection<never>;

/** Insert-if-absent upserts, as the readings store writes them. */
const operations = [1, 2, 3].map((n) => ({
  updateOne: { filter: { _id: `e${n}` }, update: { $setOnInsert: { v: n } }, upsert: true },
})) as never[];

/** A MongoBulkWriteError as the driver builds it: its code is the first write error's. */
function bulkError(writeErrors: { index: number; code: number; errmsg: string }[], writeConcernFailed: boolean) {
  const errors = writeErrors.map((e) => new WriteError({ ...e, op: operations[e.index] } as never));
  const result = new BulkWriteResult(
    {
      ok: 1,
      nInserted: 0,
      nUpserted: operations.length - errors.length,
      nMatched: 0,
      nModified: 0,
      nRemoved: 0,
      // The operations without a write error were upserted on the primary
      upserted: operations
        .map((_, index) => index)
        .filter((index) => !writeErrors.some((e) => e.index === index))
        .map((index) => ({ index, _id: `e${index + 1}` })),
      insertedIds: [],
      writeErrors: errors,
      writeConcernErrors: writeConcernFailed
        ? [new WriteConcernError({ code: 100, errmsg: 'Not enough data-bearing nodes' })]
        : [],
    } as never,
    false,
  );
  const first = writeErrors[0];
  return new MongoBulkWriteError(
    {
      message: first?.errmsg ?? 'Not enough data-bearing nodes',
      code: first?.code ?? 100,
      writeErrors: errors,
    } as never,
    result,
  );
}

describe('bulkOutcomes', () => {
  it('fails every operation transiently when the write concern failed, even next to a permanent write error', async () => {
    // Given a bulk write where one document broke a validation rule (121) and w:majority was not reached
    const error = bulkError([{ index: 0, code: 121, errmsg: 'Document failed validation' }], true);

    // When its outcomes are read
    const outcomes = await bulkOutcomes(throwing(error), operations, Date.now() + 5_000, upsertedAt);

    // Then nothing in the call counts as decided: all three are retried (the rejected one is judged on redelivery)
    expect(outcomes.map((o) => (o.status === 'failed' ? o.kind : o.status))).toEqual([
      'transient',
      'transient',
      'transient',
    ]);
  });

  it('keeps a permanent write error permanent when the write concern held', async () => {
    // Given a bulk write where one document broke a validation rule and the other two were inserted
    const error = bulkError([{ index: 0, code: 121, errmsg: 'Document failed validation' }], false);

    // When its outcomes are read
    const outcomes = await bulkOutcomes(throwing(error), operations, Date.now() + 5_000, upsertedAt);

    // Then the rejected one is permanent and the others are written
    expect(outcomes.map((o) => (o.status === 'failed' ? o.kind : o.status))).toEqual([
      'permanent',
      'written',
      'written',
    ]);
  });
});

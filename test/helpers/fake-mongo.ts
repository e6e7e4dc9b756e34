/**
 * An in-memory MongoDB collection, faithful where the sink depends on it: a unique `_id`, insert-if-absent upserts
 * (`$setOnInsert`), conditional upserts that collide with an existing `_id` (E11000), unordered bulk writes that
 * carry on past failed operations, and the driver's own `MongoBulkWriteError` / `BulkWriteResult` / `WriteError`.
 * Faults can be injected: a whole-call failure (before or after applying some operations) and per-document
 * rejections. `inserts` counts, per `_id`, the operations that set out to create a document: the unique `_id` turns a
 * second one into E11000 here, where a store without that index (a time-series collection) would hold a copy.
 *
 * For what runs the sink's MongoDB adapters (lambdas/sink/mongo): their tests (test/lambdas/sink/mongo) and the
 * local and end-to-end pipelines. The sink core's own tests use the in-memory ports of test/helpers/sink-stores.ts.
 */
import {
  type AnyBulkWriteOperation,
  type Document,
  MongoBulkWriteError,
  MongoNetworkError,
  MongoServerSelectionError,
  type WriteError as WriteErrorType,
} from 'mongodb';
import { BulkWriteResult, WriteConcernError, WriteError } from 'mongodb/lib/bulk/common.js';
import type { BulkResult, MongoCollection } from '../../lambdas/sink/mongo/collections';

type Fault =
  | { readonly kind: 'network'; readonly afterOperations: number }
  /** What the driver throws when the topology closed mid-write: a MongoBulkWriteError without write errors. */
  | { readonly kind: 'interrupted'; readonly afterOperations: number }
  | { readonly kind: 'selection' }
  /** The server applies the writes on the primary but w:majority fails (UnsatisfiableWriteConcern). */
  | { readonly kind: 'writeConcern' }
  /**
   * A lost upsert race: another writer inserts `document` after this call found no match for it and before its
   * upsert inserts, so the upsert fails with E11000.
   */
  | { readonly kind: 'race'; readonly document: Document };

const clone = <T>(value: T): T => structuredClone(value);

function compare(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : (a as number);
  const y = b instanceof Date ? b.getTime() : (b as number);
  return x < y ? -1 : x > y ? 1 : 0;
}

function equal(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Top-level field conditions: equality, `$in`, `$lt`, `$gt`, and `$or`. */
export function matches(doc: Document, filter: Document): boolean {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$or') {
      if (!(condition as Document[]).some((branch) => matches(doc, branch))) return false;
      continue;
    }
    const value = doc[field];
    if (condition && typeof condition === 'object' && !(condition instanceof Date) && !Array.isArray(condition)) {
      for (const [operator, operand] of Object.entries(condition as Document)) {
        if (operator === '$in' && !(operand as unknown[]).some((o) => equal(value, o))) return false;
        if (operator === '$lt' && !(value !== undefined && compare(value, operand) < 0)) return false;
        if (operator === '$gt' && !(value !== undefined && compare(value, operand) > 0)) return false;
        if (!['$in', '$lt', '$gt'].includes(operator)) throw new Error(`fake-mongo: unsupported operator ${operator}`);
      }
    } else if (!equal(value, condition)) return false;
  }
  return true;
}

export class FakeCollection<T extends Document = Document> implements MongoCollection<T> {
  public readonly docs = new Map<string, Document>();
  /**
   * Per `_id`: insertOne operations and upserts that matched nothing, once past the rejections, whether they inserted
   * or met an existing `_id` (E11000). A replay that takes the insert-if-absent path (an upsert matching the stored
   * document) does not count.
   */
  public readonly inserts = new Map<string, number>();
  public calls = 0;
  /**
   * Documents inserted by a call that failed its write concern: on the primary, not yet on a majority. A
   * `readConcern: majority` find does not see them until `replicate()` or a later successful write, a local one does.
   */
  public readonly unreplicated = new Set<string>();
  /** The options of every `find`, in order. */
  public readonly findOptions: Document[] = [];
  private faults: Fault[] = [];
  private racing?: Document;
  private rejections: { predicate: (doc: Document) => boolean; code: number; errmsg: string }[] = [];

  /** The next call fails: with a network error after applying `afterOperations` operations, or at server selection. */
  public failNext(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Rejects nothing any more: the server works again (faults given to `failNext` stay). */
  public heal(): void {
    this.rejections = [];
  }

  /** Faults given to `failNext` that no call has used up yet. */
  public get pendingFaults(): number {
    return this.faults.length;
  }

  /** Operations whose resulting document matches `predicate` fail with this server code (e.g. 121). */
  public reject(predicate: (doc: Document) => boolean, code = 121, errmsg = 'Document failed validation'): void {
    this.rejections.push({ predicate, code, errmsg });
  }

  public all(): T[] {
    return [...this.docs.values()].map((doc) => clone(doc) as T);
  }

  public get(id: string): T | undefined {
    const doc = this.docs.get(id);
    return doc ? (clone(doc) as T) : undefined;
  }

  /** The documents a write concern failure left on the primary only reach a majority. */
  public replicate(): void {
    this.unreplicated.clear();
  }

  public find(filter: Document, options?: { projection?: Document; readConcern?: { level: string } }) {
    this.findOptions.push({ ...options });
    const majority = options?.readConcern?.level === 'majority';
    const found = [...this.candidates(filter)]
      .filter((doc) => matches(doc, filter) && !(majority && this.unreplicated.has(String(doc._id))))
      .map((doc) => clone(doc));
    const projected = options?.projection
      ? found.map((doc) =>
          Object.fromEntries(
            Object.keys(options.projection ?? {})
              .concat('_id')
              .map((k) => [k, doc[k]]),
          ),
        )
      : found;
    return { toArray: async () => projected as never };
  }

  public async bulkWrite(operations: AnyBulkWriteOperation<T>[], options?: { ordered?: boolean }): Promise<BulkResult> {
    this.calls++;
    await Promise.resolve();
    const fault = this.faults.shift();
    if (fault?.kind === 'selection') {
      throw new MongoServerSelectionError('Server selection timed out after 5000 ms', {} as never);
    }
    this.racing = fault?.kind === 'race' ? clone(fault.document) : undefined;
    const ordered = options?.ordered ?? true;
    const limit =
      fault?.kind === 'network' || fault?.kind === 'interrupted' ? fault.afterOperations : operations.length;
    const stats = {
      nInserted: 0,
      nMatched: 0,
      nModified: 0,
      nRemoved: 0,
      upserted: [] as { index: number; _id: unknown }[],
    };
    const writeErrors: WriteErrorType[] = [];
    const before = new Set(this.docs.keys());
    for (let index = 0; index < Math.min(limit, operations.length); index++) {
      const error = this.apply(operations[index] as Document, index, stats);
      if (error) {
        writeErrors.push(new WriteError({ ...error, index, op: operations[index] }));
        if (ordered) break;
      }
    }
    if (fault?.kind === 'network') throw new MongoNetworkError('connection 3 to 10.0.0.12:27017 closed');
    if (fault?.kind === 'writeConcern') {
      for (const id of this.docs.keys()) if (!before.has(id)) this.unreplicated.add(id);
      const result = new BulkWriteResult(
        {
          ok: 1,
          ...stats,
          insertedIds: [],
          writeErrors,
          writeConcernErrors: [new WriteConcernError({ code: 100, errmsg: 'Not enough data-bearing nodes' })],
        } as never,
        ordered,
      );
      throw new MongoBulkWriteError({ message: 'Not enough data-bearing nodes', code: 100 }, result);
    }
    if (fault?.kind === 'interrupted') {
      const result = new BulkWriteResult(
        { ok: 1, ...stats, insertedIds: [], writeErrors, writeConcernErrors: [] } as never,
        ordered,
      );
      throw new MongoBulkWriteError({ message: 'Topology is closed', code: undefined as never, writeErrors }, result);
    }
    if (writeErrors.length > 0) {
      const result = new BulkWriteResult(
        { ok: 1, ...stats, insertedIds: [], writeErrors, writeConcernErrors: [] } as never,
        ordered,
      );
      const first = writeErrors[0] as WriteErrorType;
      throw new MongoBulkWriteError({ message: first.errmsg ?? 'write error', code: first.code, writeErrors }, result);
    }
    // A majority-acknowledged write also commits everything the primary applied before it
    this.replicate();
    return new BulkWriteResult(
      { ok: 1, ...stats, insertedIds: [], writeErrors: [], writeConcernErrors: [] } as never,
      ordered,
    );
  }

  /** Applies one operation; returns a write error instead of throwing. */
  private apply(
    operation: Document,
    index: number,
    stats: { nInserted: number; nMatched: number; nModified: number; upserted: { index: number; _id: unknown }[] },
  ): { code: number; errmsg: string } | undefined {
    if (operation.insertOne) {
      const doc = clone(operation.insertOne.document as Document);
      const rejected = this.rejection(doc);
      if (rejected) return rejected;
      this.countInsert(doc._id);
      if (this.docs.has(String(doc._id))) return this.duplicate(doc._id);
      this.docs.set(String(doc._id), doc);
      stats.nInserted++;
      return undefined;
    }
    const update = (operation.updateOne ?? operation.updateMany) as {
      filter: Document;
      update: Document;
      upsert?: boolean;
    };
    if (!update) throw new Error(`fake-mongo: unsupported operation ${Object.keys(operation).join()}`);
    const targets = [...this.candidates(update.filter)].filter((doc) => matches(doc, update.filter));
    const selected = operation.updateOne ? targets.slice(0, 1) : targets;
    if (selected.length > 0) {
      for (const doc of selected) {
        const next = clone(doc);
        Object.assign(next, update.update.$set ?? {});
        for (const [field, by] of Object.entries((update.update.$inc ?? {}) as Record<string, number>)) {
          next[field] = ((next[field] as number | undefined) ?? 0) + by;
        }
        const rejected = this.rejection(next);
        if (rejected) return rejected;
        stats.nMatched++;
        if (!equal(next, doc)) stats.nModified++;
        this.docs.set(String(next._id), next);
      }
      return undefined;
    }
    if (!update.upsert) return undefined;
    // Upsert: equality fields of the filter, then $setOnInsert, $set and $inc
    const doc: Document = {};
    for (const [field, condition] of Object.entries(update.filter)) {
      if (!field.startsWith('$') && (typeof condition !== 'object' || condition instanceof Date))
        doc[field] = condition;
    }
    Object.assign(doc, clone(update.update.$setOnInsert ?? {}), clone(update.update.$set ?? {}));
    for (const [field, by] of Object.entries((update.update.$inc ?? {}) as Record<string, number>)) doc[field] = by;
    const rejected = this.rejection(doc);
    if (rejected) return rejected;
    if (this.racing && String(this.racing._id) === String(doc._id)) {
      this.docs.set(String(doc._id), this.racing);
      this.racing = undefined;
    }
    this.countInsert(doc._id);
    if (this.docs.has(String(doc._id))) return this.duplicate(doc._id);
    this.docs.set(String(doc._id), doc);
    stats.upserted.push({ index, _id: doc._id });
    return undefined;
  }

  /** The documents a filter can match: the one with its `_id` when it names one (an index lookup), else all. */
  private candidates(filter: Document): Iterable<Document> {
    const id: unknown = filter._id;
    if (id === undefined || (typeof id === 'object' && id !== null && !(id instanceof Date))) return this.docs.values();
    const doc = this.docs.get(String(id));
    return doc ? [doc] : [];
  }

  private countInsert(id: unknown): void {
    const key = String(id);
    this.inserts.set(key, (this.inserts.get(key) ?? 0) + 1);
  }

  private rejection(doc: Document): { code: number; errmsg: string } | undefined {
    const rule = this.rejections.find((r) => r.predicate(doc));
    return rule ? { code: rule.code, errmsg: rule.errmsg } : undefined;
  }

  private duplicate(id: unknown): { code: number; errmsg: string } {
    return {
      code: 11000,
      errmsg: `E11000 duplicate key error collection: telemetry.fake index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
    };
  }
}

/**
 * An in-memory document store for `telemetry-ops local` without MONGODB_URI: a database of collections that behave
 * like MongoDB's for everything the sink and the sensor-data dashboard ask of them. Queries, projections, sorts,
 * update operators and aggregation pipelines are evaluated by mingo (an engine of MongoDB's query language), so the
 * same query documents run unchanged here and against a server; what mingo does not do and the sink depends on is
 * added here, as the server does it:
 *
 * - a unique `_id` on every collection: an insert or upsert that meets an existing one fails with E11000;
 * - upserts: a filter that matches nothing inserts the filter's equality fields, then `$setOnInsert`, then the
 *   update's other operators; a conditional upsert (`{ _id, ts: { $lt } }`) whose `_id` exists collides (E11000);
 * - unordered bulk writes carry on past a failed operation, ordered ones stop at it; failures come as the driver's
 *   own `MongoBulkWriteError` with a `BulkWriteResult` and `WriteError`s, so the sink classifies them as it does the
 *   server's;
 * - documents are stored as BSON and read back from it, as on a server: a caller never shares objects with the
 *   store, and a value BSON cannot hold fails the operation.
 *
 * Nothing is persistent: the data goes when the process ends. Indexes are accepted and not built (every query scans);
 * only the `_id` index is unique. A time-series `readings` collection is a regular one here.
 */
import { Aggregator, find as mingoFind, update as mingoUpdate, Query } from 'mingo';
import {
  type AnyBulkWriteOperation,
  BSON,
  type BulkWriteOptions,
  type Document,
  type BulkWriteResult as DriverBulkWriteResult,
  MongoBulkWriteError,
  MongoInvalidArgumentError,
  ObjectId,
  type WithId,
  type WriteError as WriteErrorType,
} from 'mongodb';
import { BulkWriteResult, WriteError } from 'mongodb/lib/bulk/common.js';
import { PipelineError } from '../../contracts/errors';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../lambdas/sink/documents';
import {
  COLLECTIONS,
  type MongoCollection,
  type ReadingIdDocument,
  type SinkCollections,
} from '../../lambdas/sink/mongo/collections';
import type { ReadableCollection, ReadableDb } from '../../ops/dashboard/readable-db';

/** What a bulk write did, counted as the server reports it (the fields `BulkWriteResult` is built from). */
export interface BulkStats {
  nInserted: number;
  nUpserted: number;
  nMatched: number;
  nModified: number;
  nRemoved: number;
  readonly insertedIds: { index: number; _id: unknown }[];
  readonly upserted: { index: number; _id: unknown }[];
}

/** One failed operation of a bulk write, as the server reports it. */
export interface WriteFailure {
  readonly index: number;
  readonly code: number;
  readonly errmsg: string;
}

/** A bulk write's outcome as plain data (it crosses to a worker thread as is). */
export interface BulkOutcome {
  readonly ordered: boolean;
  readonly stats: BulkStats;
  readonly writeErrors: readonly WriteFailure[];
}

/** Server codes, as MongoDB returns them. */
const DUPLICATE_KEY = 11000;
const IMMUTABLE_FIELD = 66;
const BSON_OBJECT_TOO_LARGE = 10334;
/** MongoDB's largest document. https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-BSON-Document-Size */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * The outcome as the driver hands it to its caller: the `BulkWriteResult`, or a `MongoBulkWriteError` carrying it
 * with every write error, as `Collection.bulkWrite` throws when any operation failed.
 */
export function settleBulkWrite(outcome: BulkOutcome, operations: readonly unknown[]): DriverBulkWriteResult {
  const writeErrors = outcome.writeErrors.map(
    (failure) => new WriteError({ ...failure, op: operations[failure.index] }),
  ) as WriteErrorType[];
  const result = new BulkWriteResult(
    { ok: 1, ...outcome.stats, writeErrors, writeConcernErrors: [] } as never,
    outcome.ordered,
  );
  const first = writeErrors[0];
  if (first)
    throw new MongoBulkWriteError({ message: first.errmsg ?? 'write error', code: first.code, writeErrors }, result);
  return result;
}

/** The key of an `_id` in the store's index: equal `_id`s (by BSON value) share it. */
function idKey(id: unknown): string {
  return BSON.EJSON.stringify({ id }, { relaxed: false });
}

/** Thrown inside an operation to fail it with a server code (reported as a write error, not thrown). */
class ServerWriteError extends PipelineError {
  public override readonly name = 'ServerWriteError';
  public constructor(
    public readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const isOperatorObject = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Date) &&
  Object.keys(value).some((key) => key.startsWith('$'));

/**
 * The fields an upsert that matched nothing starts from: the filter's equality conditions (`field: value`,
 * `field: { $eq: value }`, inside `$and` too), as the server seeds the new document.
 * https://www.mongodb.com/docs/manual/reference/method/db.collection.updateOne/#upsert-with-dotted-_id-query
 */
function seedOf(filter: Document): Document {
  const seed: Document = {};
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and') {
      for (const branch of condition as Document[]) Object.assign(seed, seedOf(branch));
      continue;
    }
    if (field.startsWith('$')) continue;
    if (!isOperatorObject(condition)) seed[field] = condition;
    else if (Object.keys(condition as Document).join() === '$eq') seed[field] = (condition as Document).$eq;
  }
  return seed;
}

/** The options of `find` the store honours (`timeoutMS` is accepted: nothing here waits). */
export interface FindOptions {
  readonly projection?: Document;
  readonly sort?: Document;
  readonly limit?: number;
  readonly skip?: number;
  readonly timeoutMS?: number;
}

type UpdateSpec = {
  readonly filter: Document;
  readonly update: Document | Document[];
  readonly upsert?: boolean;
};

/** A MongoDB-like collection held in memory (see the module comment). */
export class MemoryCollection<T extends Document = Document> implements MongoCollection<T>, ReadableCollection {
  /** BSON of each document, by `idKey(_id)`, in insertion order (the natural order of a scan). */
  private readonly stored = new Map<string, Uint8Array>();
  private readonly indexes = new Set<string>(['_id_']);

  public constructor(public readonly collectionName: string) {}

  /** Documents held. */
  public get size(): number {
    return this.stored.size;
  }

  public async bulkWrite(
    operations: AnyBulkWriteOperation<T>[],
    options?: BulkWriteOptions,
  ): Promise<DriverBulkWriteResult> {
    return settleBulkWrite(this.applyBulk(operations, options?.ordered ?? true), operations);
  }

  /**
   * Applies the operations in order, each on its own; an ordered write stops at the first failed one. Throws only
   * for what the driver rejects before sending (an operation it does not know, an update without operators).
   */
  public applyBulk(operations: readonly AnyBulkWriteOperation<T>[], ordered: boolean): BulkOutcome {
    if (operations.length === 0) throw new MongoInvalidArgumentError('Invalid BulkOperation, Batch cannot be empty');
    const stats: BulkStats = {
      nInserted: 0,
      nUpserted: 0,
      nMatched: 0,
      nModified: 0,
      nRemoved: 0,
      insertedIds: [],
      upserted: [],
    };
    const writeErrors: WriteFailure[] = [];
    for (const [index, operation] of operations.entries()) {
      try {
        this.apply(operation as Document, index, stats);
      } catch (error) {
        if (!(error instanceof ServerWriteError)) throw error;
        writeErrors.push({ index, code: error.code, errmsg: error.message });
        if (ordered) break;
      }
    }
    return { ordered, stats, writeErrors };
  }

  public async insertOne(document: T): Promise<{ acknowledged: true; insertedId: unknown }> {
    const result = await this.bulkWrite([{ insertOne: { document } } as AnyBulkWriteOperation<T>]);
    return { acknowledged: true, insertedId: result.insertedIds[0] };
  }

  public find(filter: Document = {}, options: FindOptions = {}) {
    const found = this.query(filter, options);
    return { toArray: async () => found };
  }

  /** What `find` returns, at once. */
  public query(filter: Document = {}, options: FindOptions = {}): WithId<T>[] {
    let cursor = mingoFind(this.documents(), filter, options.projection);
    if (options.sort) cursor = cursor.sort(options.sort as never);
    if (options.skip) cursor = cursor.skip(options.skip);
    // limit 0 is "no limit" in MongoDB
    if (options.limit) cursor = cursor.limit(Math.abs(options.limit));
    return cursor.all() as WithId<T>[];
  }

  public async countDocuments(filter: Document = {}): Promise<number> {
    // The counters line asks every second: no need to decode every document for that
    if (Object.keys(filter).length === 0) return this.stored.size;
    const query = new Query(filter);
    return this.documents().filter((document) => query.test(document)).length;
  }

  public aggregate<R extends Document = Document>(pipeline: Document[], _options?: { maxTimeMS?: number }) {
    const results = new Aggregator(pipeline).run(this.documents()) as R[];
    return { toArray: async () => results };
  }

  /** Accepted, as the server accepts it; the store scans instead (only `_id` is unique here). */
  public async createIndex(keys: Document, options: { name?: string } = {}): Promise<string> {
    const name =
      options.name ??
      Object.entries(keys)
        .map(([field, direction]) => `${field}_${String(direction)}`)
        .join('_');
    this.indexes.add(name);
    return name;
  }

  public async createIndexes(specs: { key: Document; name?: string }[]): Promise<string[]> {
    return Promise.all(specs.map((spec) => this.createIndex(spec.key, spec.name ? { name: spec.name } : {})));
  }

  public async indexNames(): Promise<string[]> {
    return [...this.indexes];
  }

  /** Every document, decoded afresh (callers and mingo's stages never touch what is stored). */
  private documents(): Document[] {
    return [...this.stored.values()].map((bytes) => BSON.deserialize(bytes));
  }

  private apply(operation: Document, index: number, stats: BulkStats): void {
    if (operation.insertOne) {
      const document = { ...(operation.insertOne.document as Document) };
      document._id ??= new ObjectId();
      this.insert(document);
      stats.nInserted++;
      stats.insertedIds.push({ index, _id: document._id });
      return;
    }
    if (operation.updateOne || operation.updateMany) {
      this.update((operation.updateOne ?? operation.updateMany) as UpdateSpec, !operation.updateOne, index, stats);
      return;
    }
    if (operation.replaceOne) {
      const { filter, replacement, upsert } = operation.replaceOne as Document as {
        filter: Document;
        replacement: Document;
        upsert?: boolean;
      };
      if (isOperatorObject(replacement))
        throw new MongoInvalidArgumentError('Replacement document must not contain atomic operators');
      const target = this.matching(filter)[0];
      if (target) {
        this.replace(target, { ...replacement, _id: target._id });
        stats.nMatched++;
        stats.nModified++;
      } else if (upsert) {
        const document = { ...seedOf(filter), ...replacement };
        this.upsert(document, index, stats);
      }
      return;
    }
    if (operation.deleteOne || operation.deleteMany) {
      const { filter } = (operation.deleteOne ?? operation.deleteMany) as { filter: Document };
      const targets = this.matching(filter);
      for (const target of operation.deleteOne ? targets.slice(0, 1) : targets) {
        this.stored.delete(idKey(target._id));
        stats.nRemoved++;
      }
      return;
    }
    throw new MongoInvalidArgumentError(`Invalid BulkWriteOperation: ${Object.keys(operation).join(', ')}`);
  }

  private update(spec: UpdateSpec, many: boolean, index: number, stats: BulkStats): void {
    const pipeline = Array.isArray(spec.update);
    if (!pipeline && !Object.keys(spec.update).every((key) => key.startsWith('$')))
      throw new MongoInvalidArgumentError('Update document requires atomic operators');
    const targets = this.matching(spec.filter);
    for (const target of many ? targets : targets.slice(0, 1)) {
      const next = this.updated(target, spec.update, false);
      stats.nMatched++;
      if (!Buffer.from(BSON.serialize(next)).equals(BSON.serialize(target))) {
        this.replace(target, next);
        stats.nModified++;
      }
    }
    if (targets.length > 0 || !spec.upsert) return;
    const document = this.updated(seedOf(spec.filter), spec.update, true);
    this.upsert(document, index, stats);
  }

  /** `document` after the update's operators (`$setOnInsert` only when inserting) or pipeline stages. */
  private updated(document: Document, update: Document | Document[], inserting: boolean): Document {
    const next = BSON.deserialize(BSON.serialize(document));
    if (Array.isArray(update)) return new Aggregator(update).run([next])[0] ?? next;
    const { $setOnInsert, ...operators } = update;
    if (inserting && $setOnInsert) mingoUpdate(next, { $set: this.withoutId(next, $setOnInsert as Document) });
    if (operators.$set) operators.$set = this.withoutId(next, operators.$set as Document);
    if (Object.keys(operators).length > 0) mingoUpdate(next, operators);
    return next;
  }

  /**
   * `fields` less an `_id` the document already has (the server accepts setting it to its value, mingo does not),
   * giving one the document lacks (an upsert's `$setOnInsert: { _id }`); another value is code 66.
   */
  private withoutId(document: Document, fields: Document): Document {
    if (!('_id' in fields)) return fields;
    const { _id, ...rest } = fields;
    if (document._id === undefined) document._id = _id;
    else if (idKey(document._id) !== idKey(_id))
      throw new ServerWriteError(
        IMMUTABLE_FIELD,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    return rest;
  }

  private upsert(document: Document, index: number, stats: BulkStats): void {
    document._id ??= new ObjectId();
    this.insert(document);
    stats.nUpserted++;
    stats.upserted.push({ index, _id: document._id });
  }

  private insert(document: Document): void {
    const key = idKey(document._id);
    if (this.stored.has(key))
      throw new ServerWriteError(
        DUPLICATE_KEY,
        `E11000 duplicate key error collection: ${this.collectionName} index: _id_ dup key: { _id: ${BSON.EJSON.stringify(document._id)} }`,
      );
    this.stored.set(key, this.encode(document));
  }

  private replace(current: Document, next: Document): void {
    if (idKey(next._id) !== idKey(current._id))
      throw new ServerWriteError(
        IMMUTABLE_FIELD,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    this.stored.set(idKey(current._id), this.encode(next));
  }

  private encode(document: Document): Uint8Array {
    const bytes = BSON.serialize(document);
    if (bytes.length > MAX_DOCUMENT_BYTES)
      throw new ServerWriteError(BSON_OBJECT_TOO_LARGE, `BSONObj size: ${bytes.length} is invalid`);
    return bytes;
  }

  private matching(filter: Document): Document[] {
    const query = new Query(filter);
    // An equality on `_id` is an index lookup on a server; here too
    const id = filter._id;
    if (id !== undefined && !isOperatorObject(id)) {
      const bytes = this.stored.get(idKey(id));
      const document = bytes ? BSON.deserialize(bytes) : undefined;
      return document && query.test(document) ? [document] : [];
    }
    return this.documents().filter((document) => query.test(document));
  }
}

/** A database of in-memory collections, created on first use as MongoDB creates them. */
export class MemoryDb implements ReadableDb {
  private readonly collections = new Map<string, MemoryCollection>();

  public constructor(public readonly databaseName: string) {}

  public collection<T extends Document = Document>(name: string): MemoryCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MemoryCollection(`${this.databaseName}.${name}`);
      this.collections.set(name, collection);
    }
    return collection as unknown as MemoryCollection<T>;
  }

  public collectionNames(): string[] {
    return [...this.collections.keys()];
  }
}

/** The sink's collections in an in-memory database, under the names the sink gives them on a server. */
export function memorySinkCollections(db: MemoryDb): Required<SinkCollections> {
  return {
    readings: db.collection<ReadingDocument>(COLLECTIONS.readings),
    devices: db.collection<DeviceStateDocument>(COLLECTIONS.devices),
    quarantine: db.collection<QuarantineDocument>(COLLECTIONS.quarantine),
    readingIds: db.collection<ReadingIdDocument>(COLLECTIONS.readingIds),
  };
}

/**
 * A ReadableDb over arrays, answered by mingo (an independent engine of MongoDB's query language), so the dashboard's
 * query documents run unchanged. The arrays are live: pushing a document makes it visible to the next query.
 *
 * Only for the dashboard benchmark (test/bench/dashboard.ts), which loads millions of readings: pushing them costs
 * nothing, where `local`'s in-memory store (tools/local/memory-store.ts, which the dashboard tests use, see
 * `memoryDbWith` in dashboard-data.ts) serialises each one to BSON and indexes its `_id`, as a server would.
 */
import { aggregate, find } from 'mingo';
import type { Document } from 'mongodb';
import type { ReadableCollection, ReadableDb } from '../../ops/dashboard/readable-db';

export class MingoDb implements ReadableDb {
  public readonly data = new Map<string, Document[]>();

  /** The documents of a collection (created empty on first use). */
  public documents(name: string): Document[] {
    let documents = this.data.get(name);
    if (!documents) {
      documents = [];
      this.data.set(name, documents);
    }
    return documents;
  }

  public collection(name: string): ReadableCollection {
    const documents = () => this.documents(name);
    return {
      aggregate: <R extends Document>(pipeline: Document[]) => ({
        toArray: async () => aggregate(documents(), pipeline) as R[],
      }),
      find: (filter, options = {}) => ({
        toArray: async () => {
          let cursor = find(documents(), filter, options.projection);
          if (options.sort) cursor = cursor.sort(options.sort);
          if (options.skip) cursor = cursor.skip(options.skip);
          if (options.limit) cursor = cursor.limit(options.limit);
          return cursor.all() as Document[];
        },
      }),
      countDocuments: async (filter = {}) => find(documents(), filter).all().length,
    };
  }
}

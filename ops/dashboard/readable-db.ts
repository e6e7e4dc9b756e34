/**
 * What the dashboard and `local` read the sink's store through: the read side of the driver's `Db`, implemented by the
 * in-memory store of `local` (tools/local/memory-store.ts `MemoryDb`) too. Defined once, here, so both sides of that
 * boundary type-check against the same shape.
 */
import type { Document } from 'mongodb';

/** The read side of MongoDB's Db the dashboard uses; the driver's Db satisfies it, and so does the in-memory store. */
export interface ReadableCollection {
  aggregate<R extends Document = Document>(
    pipeline: Document[],
    options?: { maxTimeMS?: number },
  ): { toArray(): Promise<R[]> };
  find(
    filter: Document,
    options?: { projection?: Document; sort?: Document; limit?: number; skip?: number },
  ): { toArray(): Promise<Document[]> };
  countDocuments(filter?: Document): Promise<number>;
}
export interface ReadableDb {
  collection(name: string): ReadableCollection;
}

/**
 * The driver exports the types of these classes but not their constructors; the in-memory store (memory-store.ts)
 * and the tests' fake collection need real instances, so that the sink sees exactly what the driver throws.
 */
declare module 'mongodb/lib/bulk/common.js' {
  import type { BulkWriteResult as Result, WriteError as WriteErrorInstance } from 'mongodb';
  export const BulkWriteResult: new (bulkResult: unknown, isOrdered: boolean) => Result;
  export const WriteConcernError: new (error: { code: number; errmsg: string }) => unknown;
  export const WriteError: new (err: {
    code: number;
    errmsg: string;
    index: number;
    op: unknown;
  }) => WriteErrorInstance;
}

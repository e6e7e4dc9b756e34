/**
 * The in-memory store reached from the sink's worker thread. The sink bundle runs in a worker of its own, as a Lambda
 * execution environment; the store lives in the main thread, where `local` shows its counts and where the dashboard
 * reads it. Each sink container gets a MessagePort: its collections send each call across, the store applies it and
 * answers with plain data, and the worker side rebuilds what the driver would return or throw (a `BulkWriteResult`, a
 * `MongoBulkWriteError` with its `WriteError`s), so the sink sees exactly what it sees on a server.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import { PipelineError } from '../../contracts/errors';
import { COLLECTIONS, type SinkCollections } from '../../lambdas/sink/mongo/collections';
import { type BulkOutcome, type MemoryDb, settleBulkWrite } from './memory-store';

type Call =
  | {
      readonly id: number;
      readonly collection: string;
      readonly method: 'bulkWrite';
      readonly operations: Document[];
      readonly ordered: boolean;
    }
  | {
      readonly id: number;
      readonly collection: string;
      readonly method: 'find';
      readonly filter: Document;
      readonly projection?: Document;
    };

type Answer =
  | { readonly id: number; readonly bulk: BulkOutcome }
  | { readonly id: number; readonly documents: Document[] }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };

/** A failure of a whole call on the store's side (what the driver rejects before sending), rebuilt here. */
export class MemoryStoreCallError extends PipelineError {
  /** The store-side error's own name: classify by it. */
  public override readonly name: string;
  public constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Answers the calls arriving on `port` from `db`, until the port closes. */
export function serveMemoryStore(port: MessagePort, db: MemoryDb): void {
  port.on('message', (call: Call) => {
    let answer: Answer;
    try {
      const collection = db.collection(call.collection);
      answer =
        call.method === 'bulkWrite'
          ? { id: call.id, bulk: collection.applyBulk(call.operations as AnyBulkWriteOperation[], call.ordered) }
          : {
              id: call.id,
              documents: collection.query(call.filter, call.projection ? { projection: call.projection } : {}),
            };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      answer = { id: call.id, error: { name, message } };
    }
    port.postMessage(answer);
  });
}

/** The sink's collections, each call sent to the store at the other end of `port`. */
export function remoteSinkCollections(port: MessagePort): Required<SinkCollections> {
  const pending = new Map<number, (answer: Answer) => void>();
  let next = 0;
  port.on('message', (answer: Answer) => {
    pending.get(answer.id)?.(answer);
    pending.delete(answer.id);
  });
  const call = (message: Omit<Call, 'id'>): Promise<Answer> =>
    new Promise((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      port.postMessage({ ...message, id });
    });
  const failed = (answer: Answer): never => {
    const { name, message } = 'error' in answer ? answer.error : { name: 'Error', message: 'unexpected answer' };
    throw new MemoryStoreCallError(name, message);
  };
  const collection = <T extends Document>(name: string) => ({
    async bulkWrite(operations: AnyBulkWriteOperation<T>[], options?: { ordered?: boolean }) {
      const answer = await call({
        collection: name,
        method: 'bulkWrite',
        operations: operations as Document[],
        ordered: options?.ordered ?? true,
      } as Omit<Call, 'id'>);
      if (!('bulk' in answer)) return failed(answer);
      return settleBulkWrite(answer.bulk, operations);
    },
    find(filter: Document, options?: { projection?: Document }) {
      return {
        toArray: async () => {
          const answer = await call({
            collection: name,
            method: 'find',
            filter,
            ...(options?.projection ? { projection: options.projection } : {}),
          } as Omit<Call, 'id'>);
          if (!('documents' in answer)) return failed(answer);
          return answer.documents as never;
        },
      };
    },
  });
  return {
    readings: collection(COLLECTIONS.readings),
    devices: collection(COLLECTIONS.devices),
    quarantine: collection(COLLECTIONS.quarantine),
    readingIds: collection(COLLECTIONS.readingIds),
  };
}

/**
 * In-memory stand-ins for the sink core's ports (lambdas/sink/ports.ts): each keeps its documents in a Map and
 * does what the port promises — insert-if-absent by eventId, device state never backwards, deliveries counted — and
 * can be told to fail. What MongoDB itself does (E11000, bulk results, write concerns) is the adapters' business and
 * is tested against the driver-level fake (test/helpers/fake-mongo.ts) in test/lambdas/sink/mongo/.
 */
import {
  type DeviceStateDocument,
  isNewer,
  type QuarantineDocument,
  type ReadingDocument,
  type StoredReading,
} from '../../lambdas/sink/documents';
import type {
  DeviceStateStore,
  ParkOutcome,
  QuarantineEntry,
  QuarantineStore,
  ReadingOutcome,
  ReadingStore,
  SinkStores,
  StateOutcome,
  StoreFailure,
} from '../../lambdas/sink/ports';

/** A failure of a whole call: the first `afterDocuments` documents are applied, then every outcome is `failed`. */
export interface CallFault {
  readonly afterDocuments?: number;
  readonly error?: string;
  readonly hint?: string;
}

/** A document the store refuses: `permanent` (it can never be stored) unless said otherwise. */
interface Refusal<T> {
  readonly predicate: (document: T) => boolean;
  readonly failure: StoreFailure;
}

const failure = (kind: StoreFailure['kind'], error: string, hint?: string): StoreFailure =>
  hint === undefined ? { status: 'failed', kind, error } : { status: 'failed', kind, error, hint };

/** Documents by `_id`, the faults to inject, and the one loop every port method shares. */
class MemoryStore<T extends { readonly _id: string }> {
  public readonly docs = new Map<string, T>();
  /** Calls made to the port's write method. */
  public calls = 0;
  private readonly faults: CallFault[] = [];
  private readonly refusals: Refusal<T>[] = [];

  /** The next call fails as a whole (see {@link CallFault}); nothing is known about its outcome. */
  public failNext(fault: CallFault = {}): void {
    this.faults.push(fault);
  }

  /** Documents matching `predicate` fail: permanently (a rejection), or transiently with `kind: 'transient'`. */
  public refuse(
    predicate: (document: T) => boolean,
    error = 'refused by the store',
    kind: StoreFailure['kind'] = 'permanent',
  ): void {
    this.refusals.push({ predicate, failure: failure(kind, error) });
  }

  /** Refuses nothing any more (faults already injected stay). */
  public heal(): void {
    this.refusals.length = 0;
  }

  public get(id: string): T | undefined {
    const document = this.docs.get(id);
    return document && structuredClone(document);
  }

  public all(): T[] {
    return [...this.docs.values()].map((document) => structuredClone(document));
  }

  /** Puts a document in place directly, as another writer would. */
  public put(document: T): void {
    this.docs.set(document._id, structuredClone(document));
  }

  /** Applies `apply` to each document in order, with the faults and refusals injected. */
  protected each<I extends { readonly _id: string }, O>(
    inputs: readonly I[],
    asStored: (input: I) => T,
    apply: (input: I) => O,
  ): (O | StoreFailure)[] {
    this.calls++;
    const fault = this.faults.shift();
    const count = fault ? Math.min(fault.afterDocuments ?? 0, inputs.length) : inputs.length;
    const outcomes: (O | StoreFailure)[] = [];
    for (let i = 0; i < count; i++) {
      const input = inputs[i] as I;
      const refusal = this.refusals.find((r) => r.predicate(asStored(input)));
      outcomes.push(refusal ? refusal.failure : apply(input));
    }
    if (!fault) return outcomes;
    const lost = failure('transient', fault.error ?? 'connection reset', fault.hint);
    return inputs.map(() => lost);
  }
}

export class MemoryReadingStore extends MemoryStore<ReadingDocument> implements ReadingStore {
  private readonly readFaults: CallFault[] = [];

  /** The next `stored` call fails. */
  public failNextRead(fault: CallFault = {}): void {
    this.readFaults.push(fault);
  }

  public async write(documents: readonly ReadingDocument[]): Promise<ReadingOutcome[]> {
    return this.each(
      documents,
      (document) => document,
      (document): ReadingOutcome => {
        if (this.docs.has(document._id)) return { status: 'duplicate' };
        this.put(document);
        return { status: 'written' };
      },
    );
  }

  public async stored(eventIds: readonly string[]): Promise<StoredReading[] | StoreFailure> {
    const fault = this.readFaults.shift();
    if (fault) return failure('transient', fault.error ?? 'connection reset', fault.hint);
    return eventIds.flatMap((id) => {
      const document = this.get(id);
      return document ? [document] : [];
    });
  }
}

export class MemoryDeviceStateStore extends MemoryStore<DeviceStateDocument> implements DeviceStateStore {
  public async advance(states: readonly DeviceStateDocument[]): Promise<StateOutcome[]> {
    return this.each(
      states,
      (state) => state,
      (state): StateOutcome => {
        const current = this.docs.get(state._id);
        if (current && !isNewer(state, current)) return { status: 'stale' };
        this.put(state);
        return { status: 'advanced' };
      },
    );
  }
}

export class MemoryQuarantineStore extends MemoryStore<QuarantineDocument> implements QuarantineStore {
  public async park(entries: readonly QuarantineEntry[]): Promise<ParkOutcome[]> {
    return this.each(
      entries,
      (entry) => ({ ...entry, attempts: 1 }),
      (entry): ParkOutcome => {
        const current = this.docs.get(entry._id);
        this.put(current ? { ...current, attempts: current.attempts + 1 } : { ...entry, attempts: 1 });
        return { status: 'parked' };
      },
    );
  }
}

/** A fresh set of in-memory stores. */
export function memoryStores(): SinkStores & {
  readonly readings: MemoryReadingStore;
  readonly devices: MemoryDeviceStateStore;
  readonly quarantine: MemoryQuarantineStore;
} {
  return {
    readings: new MemoryReadingStore(),
    devices: new MemoryDeviceStateStore(),
    quarantine: new MemoryQuarantineStore(),
  };
}

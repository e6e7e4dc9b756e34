/**
 * What the sink core needs from a store, named for the sink's three jobs: keep each reading once, keep each device's
 * latest state, park what can never be stored. No database concept crosses these ports: the MongoDB adapters
 * (`./mongo/`) own operations, filters, bulk results, duplicate-key errors and error classification, and a test can
 * stand in for them with a few lines of in-memory state.
 *
 * Every method settles with one outcome per input, in order, and never rejects for a store's sake: a store that
 * cannot answer says so with a {@link StoreFailure}. `deadline` is epoch ms.
 */
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument, StoredReading } from './documents';

/**
 * What a failure means for the records it concerns. `transient`: nothing is known (was it stored?), retry the
 * records. `permanent`: this document can never be stored (the store refused it for good): quarantine the record.
 */
export type FailureKind = 'transient' | 'permanent';

/** A write or read the store could not do. */
export interface StoreFailure {
  readonly status: 'failed';
  readonly kind: FailureKind;
  /** Why, for a log line or a quarantine document: never with a credential. */
  readonly error: string;
  /** What an operator should check, when the store can tell (it cannot reach its server, say). */
  readonly hint?: string;
}

/**
 * A reading's outcome. `written`: stored by this call. `duplicate`: the store holds a reading under this eventId
 * already (which one: {@link ReadingStore.stored}).
 */
export type ReadingOutcome = { readonly status: 'written' } | { readonly status: 'duplicate' } | StoreFailure;

export interface ReadingStore {
  /** Stores each document (unique `_id`s = eventIds) unless one is stored under its eventId already. */
  write(documents: readonly ReadingDocument[], deadline: number): Promise<ReadingOutcome[]>;
  /**
   * The stored readings with these eventIds, as durable as a write's acknowledgement: what "already stored" may rest
   * on. A reading none is found for is stored nowhere.
   */
  stored(eventIds: readonly string[], deadline: number): Promise<StoredReading[] | StoreFailure>;
}

/** A device state's outcome. `stale`: the store holds a state as new as this one or newer, and keeps it. */
export type StateOutcome = { readonly status: 'advanced' } | { readonly status: 'stale' } | StoreFailure;

export interface DeviceStateStore {
  /**
   * Moves each device's state (unique `_id`s = deviceIds) to the given one if it is newer (device time, then
   * sequence number) than the stored one, or none is stored: never backwards.
   */
  advance(states: readonly DeviceStateDocument[], deadline: number): Promise<StateOutcome[]>;
}

/** A parked record's outcome. */
export type ParkOutcome = { readonly status: 'parked' } | StoreFailure;

/** A quarantine document before the store counts its deliveries. */
export type QuarantineEntry = Omit<QuarantineDocument, 'attempts'>;

export interface QuarantineStore {
  /**
   * Parks each record under its `_id` (its Kafka position): the first delivery is kept as it is, every delivery
   * counted in `attempts`.
   */
  park(entries: readonly QuarantineEntry[], deadline: number): Promise<ParkOutcome[]>;
}

/** The stores the sink core writes to. */
export interface SinkStores {
  readonly readings: ReadingStore;
  readonly devices: DeviceStateStore;
  readonly quarantine: QuarantineStore;
}

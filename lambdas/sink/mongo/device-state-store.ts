/**
 * The `DeviceStateStore` on MongoDB: a conditional upsert per device that only ever moves its state forward.
 */
import type { AnyBulkWriteOperation } from 'mongodb';
import type { DeviceStateDocument } from '../documents';
import type { DeviceStateStore, StateOutcome } from '../ports';
import { type BulkOutcome, bulkOutcomes } from './bulk-outcomes';
import type { MongoCollection } from './collections';

const ADVANCED: StateOutcome = Object.freeze({ status: 'advanced' });
const STALE: StateOutcome = Object.freeze({ status: 'stale' });

/** Every upsert that does not collide sets the state: written or matched, it advanced. */
const always = () => true;

/**
 * The filter matches an older state or none, and when a newer (or the same) state exists the upsert collides with
 * its `_id` (E11000), which means "stale, nothing to do".
 */
function advanceOperation(state: DeviceStateDocument): AnyBulkWriteOperation<DeviceStateDocument> {
  const { _id, ...fields } = state;
  return {
    updateOne: {
      filter: { _id, $or: [{ ts: { $lt: state.ts } }, { ts: state.ts, seq: { $lt: state.seq } }] },
      update: { $set: fields },
      upsert: true,
    },
  };
}

const stateOutcome = (outcome: BulkOutcome): StateOutcome =>
  outcome.status === 'written' ? ADVANCED : outcome.status === 'duplicate' ? STALE : outcome;

export class MongoDeviceStateStore implements DeviceStateStore {
  public constructor(private readonly devices: MongoCollection<DeviceStateDocument>) {}

  public async advance(states: readonly DeviceStateDocument[], deadline: number): Promise<StateOutcome[]> {
    const operations = states.map(advanceOperation);
    const first = await bulkOutcomes(this.devices, operations, deadline, always);
    // E11000 means "a state with this _id exists and is not older" — or that a concurrent first insert of the same
    // device won the race, in which case the filter may match now. One retry tells the two apart.
    const retry: number[] = [];
    for (let i = 0; i < first.length; i++) if (first[i]?.status === 'duplicate') retry.push(i);
    const second = await bulkOutcomes(
      this.devices,
      retry.map((i) => operations[i] as AnyBulkWriteOperation<DeviceStateDocument>),
      deadline,
      always,
    );
    const outcomes = first.map(stateOutcome);
    retry.forEach((index, k) => {
      const outcome = second[k];
      outcomes[index] = outcome ? stateOutcome(outcome) : { status: 'failed', kind: 'transient', error: 'no outcome' };
    });
    return outcomes;
  }
}

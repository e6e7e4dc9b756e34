/**
 * The sink's stores on MongoDB collections: the regular or the time-series readings store, the device states and
 * the quarantine.
 */
import { ConfigurationError } from '../../shared/errors';
import type { SinkStores } from '../ports';
import type { SinkCollections } from './collections';
import { MongoDeviceStateStore } from './device-state-store';
import { MongoQuarantineStore } from './quarantine-store';
import { TimeSeriesReadingStore, UpsertReadingStore } from './reading-stores';

export function mongoStores(collections: SinkCollections, timeSeries: boolean): SinkStores {
  if (timeSeries && !collections.readingIds)
    throw new ConfigurationError('A time-series readings collection needs the readingIds collection');
  return {
    readings:
      timeSeries && collections.readingIds
        ? new TimeSeriesReadingStore(collections.readings, collections.readingIds)
        : new UpsertReadingStore(collections.readings),
    devices: new MongoDeviceStateStore(collections.devices),
    quarantine: new MongoQuarantineStore(collections.quarantine),
  };
}

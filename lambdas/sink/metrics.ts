/**
 * Metric names the sink emits (EMF, one flush per invocation). A module of its own, free of dependencies, so the
 * monitoring stage (`lib/monitor`) graphs and alarms on exactly these names.
 */
export const SinkMetric = {
  BatchSize: 'RecordsReceived',
  Written: 'ReadingsWritten',
  Duplicates: 'DuplicatesSkipped',
  Stale: 'StaleStateSkipped',
  Invalid: 'RecordsQuarantined',
  /** Records whose eventId names a different stored reading (quarantined as `event_id_conflict`, also in Invalid). */
  Conflicts: 'EventIdConflicts',
  Failed: 'RecordsFailed',
  FreshnessDevice: 'FreshnessDeviceMs',
  FreshnessIngest: 'FreshnessIngestMs',
} as const;

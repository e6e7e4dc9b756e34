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
  Failed: 'RecordsFailed',
  FreshnessDevice: 'FreshnessDeviceMs',
  FreshnessIngest: 'FreshnessIngestMs',
} as const;

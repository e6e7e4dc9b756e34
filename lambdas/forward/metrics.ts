/**
 * Metric names the forwarder emits (EMF, one flush per invocation). A module of its own, free of dependencies, so
 * the monitoring stage (`lib/monitor`) graphs and alarms on exactly these names.
 */
export const ForwarderMetric = {
  Forwarded: 'RecordsForwarded',
  Invalid: 'RecordsInvalid',
  Failed: 'RecordsFailed',
  BatchSize: 'BatchSize',
  OldestRecordAge: 'OldestRecordAgeMs',
} as const;

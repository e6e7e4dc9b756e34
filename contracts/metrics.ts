/**
 * The functions' EMF metrics as every reader names them: the namespace, the two dimensions each metric carries, the
 * service names and the metric names. The functions emit them (one flush per invocation), the monitoring stage
 * (`lib/monitor`) graphs and alarms on them, and `telemetry-ops status` reads them back.
 */

/** CloudWatch namespace of the functions' EMF metrics. */
export const METRICS_NAMESPACE = 'TelemetryPipeline';

/** Powertools' own dimension: its value is the function's service name (`POWERTOOLS_SERVICE_NAME`). */
export const SERVICE_DIMENSION = 'service';

/**
 * The EMF dimension that keeps two pipelines in one account apart: every metric of a function carries
 * `pipeline = <stack name>` next to Powertools' `service`. Its value comes from the function environment's
 * `PIPELINE_NAME` (`contracts/environment.ts`), which `PipelineFunction` sets to the stack name.
 */
export const PIPELINE_DIMENSION = 'pipeline';

/** The service name of each function: the `service` of every log line and of every EMF metric. */
export const ServiceName = {
  Forwarder: 'telemetry-forwarder',
  Sink: 'telemetry-sink',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/** Metric names the forwarder emits. */
export const ForwarderMetric = {
  Forwarded: 'RecordsForwarded',
  Invalid: 'RecordsInvalid',
  Failed: 'RecordsFailed',
  BatchSize: 'BatchSize',
  OldestRecordAge: 'OldestRecordAgeMs',
} as const;

/** Metric names the sink emits. */
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

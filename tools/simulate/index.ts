/** The fleet simulator's public API; the `telemetry-ops simulate` command wires it to the command line. */
export { SimulatorConfigError, SimulatorConnectionError } from './errors';
export { type FaultRates, MALFORMED_VARIANTS, type MalformedVariant, malformedPayload } from './faults';
export {
  DEFAULT_DEVICE_ID_PREFIX,
  DEFAULT_TOPIC_TEMPLATE,
  IOT_CORE_PUBLISHES_PER_CONNECTION,
  redactUrl,
  type SimulationOptions,
  type SimulationProgress,
  type TlsOptions,
} from './options';
export { type Readings, SENSOR_BOUNDS, SensorModel } from './sensor-model';
export {
  type DeviceRecord,
  type RecordedMalformed,
  type RecordedReading,
  runSimulation,
  type SimulationSummary,
} from './simulator';

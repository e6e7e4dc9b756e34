/**
 * The fleet `local --demo` runs against the pipeline: a few simulated sensors (tools/simulate) publishing over MQTT,
 * with the faults a real fleet has — readings sent twice, readings out of order, malformed messages — so that a first
 * run shows the pipeline storing each reading once and parking what it cannot store.
 */
import { deviceTopic } from '../../lib/ingest/rule-sql';
import { runSimulation, type SimulationProgress, type SimulationSummary } from '../simulate';

/** The demo fleet: small enough for the mock cluster and the in-memory store, busy enough to show every path. */
export const DEMO_FLEET = {
  devices: 5,
  deviceIdPrefix: 'demo-sensor-',
  /** Publishes per second, fleet-wide. */
  rate: 20,
  faults: { duplicate: 0.1, outOfOrder: 0.1, malformed: 0.05 },
} as const;

export interface DemoFleetOptions {
  /** The pipeline's MQTT broker. */
  readonly url: string;
  /** The topic filter of the rule the fleet publishes to (`+` becomes each device id). */
  readonly topicFilter: string;
  /** Publish for this long; until `stop` when absent. */
  readonly publishMs?: number;
  /** Seed of readings and faults. @default a random one (the summary reports it) */
  readonly seed?: number;
}

export interface DemoFleet {
  /** What the fleet did so far. */
  progress(): SimulationProgress | undefined;
  /** Resolves with the fleet's summary (what it sent, what the broker acknowledged) once it has stopped. */
  readonly done: Promise<SimulationSummary>;
  /** Stops publishing (what is in flight is still acknowledged); `done` resolves once it has. */
  stop(): void;
}

/** A run that stops only when asked: a year of publishing. */
const UNTIL_STOPPED_MS = 365 * 24 * 3600 * 1000;

export function startDemoFleet(options: DemoFleetOptions): DemoFleet {
  const abort = new AbortController();
  let latest: SimulationProgress | undefined;
  const done = runSimulation({
    url: options.url,
    devices: DEMO_FLEET.devices,
    deviceIdPrefix: DEMO_FLEET.deviceIdPrefix,
    topicTemplate: deviceTopic(options.topicFilter, '{deviceId}'),
    rate: DEMO_FLEET.rate,
    durationMs: options.publishMs ?? UNTIL_STOPPED_MS,
    faults: DEMO_FLEET.faults,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    // The summary checks every acknowledged reading by its event id
    record: true,
    onProgress: (progress) => {
      latest = progress;
    },
    signal: abort.signal,
  });
  return {
    progress: () => latest,
    done,
    stop: () => abort.abort(),
  };
}

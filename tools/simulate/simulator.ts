/**
 * The fleet simulator: N virtual sensors publishing telemetry over MQTT at a controlled total rate.
 *
 * Phases: connect every device (a bounded number of handshakes at a time), publish (round-robin over the devices,
 * one token of the rate limiter per publish, at most `maxInFlight` publishes awaiting their callback), drain
 * (wait for outstanding PUBACKs), end every client. An abort skips to the end and still returns a summary.
 */
import type { MqttClient } from 'mqtt';
import { deriveEventId } from '../../contracts/enrichment';
import { AbortFanOut, ConnectAborted, connectDevice, connectFleet } from './connect';
import { type Outgoing, VirtualDevice } from './device';
import { MALFORMED_VARIANTS, type MalformedVariant } from './faults';
import { type ResolvedOptions, resolveOptions, type SimulationOptions, type SimulationProgress } from './options';
import type { Readings } from './sensor-model';
import { TokenBucket } from './token-bucket';

/** A valid reading that was sent, with what an end-to-end check needs to find it downstream. */
export interface RecordedReading {
  readonly seq: number;
  readonly ts: number;
  /** The id the IoT rule derives, `sha256("<deviceId>/<ts>/<seq>")`: the key the sink stores it under. */
  readonly eventId: string;
  readonly readings: Readings;
  /** At least one send of it completed: PUBACK for QoS 1, written to the socket for QoS 0. */
  readonly confirmed: boolean;
}

export interface RecordedMalformed {
  readonly variant: MalformedVariant;
  readonly payload: string;
  readonly confirmed: boolean;
}

/** Everything one device sent. */
export interface DeviceRecord {
  readonly deviceId: string;
  readonly topic: string;
  /** Every valid reading sent, once each, by `seq`. */
  readonly readings: readonly RecordedReading[];
  readonly malformed: readonly RecordedMalformed[];
  /** `seq` of each reading sent twice. */
  readonly duplicates: readonly number[];
  /** `seq` of each reading sent after a newer one. */
  readonly outOfOrder: readonly number[];
}

export interface SimulationSummary {
  /** Replays the same readings and faults (with the same devices and counts). */
  readonly seed: number;
  readonly devices: number;
  readonly connected: number;
  /** Publishes issued: readings, duplicates and malformed messages. */
  readonly sent: number;
  /** Distinct valid readings sent. */
  readonly readings: number;
  /** QoS 1 publishes the broker acknowledged (0 with QoS 0). */
  readonly acknowledged: number;
  /** QoS 1 publishes without a PUBACK or an error when the clients were ended (drain timeout, abort). */
  readonly unacknowledged: number;
  /** Failed publishes and client errors after connecting, with the first few messages. */
  readonly errors: { readonly count: number; readonly samples: readonly string[] };
  /** Connections lost mid-run (mqtt.js reconnects them). */
  readonly disconnects: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly malformed: number;
  readonly malformedByVariant: Readonly<Record<MalformedVariant, number>>;
  readonly connectMs: number;
  /** From the first publish to the last one issued. */
  readonly publishMs: number;
  /** From the last publish issued to the last acknowledgement (or the drain timeout). */
  readonly drainMs: number;
  readonly elapsedMs: number;
  /** `sent` per second of `publishMs`. */
  readonly achievedRate: number;
  readonly aborted: boolean;
  /** With `record: true`: what each device sent. */
  readonly record?: readonly DeviceRecord[];
}

/**
 * Runs a simulation to its end (count reached, duration over, or aborted) and returns the summary.
 *
 * @throws SimulatorConfigError for options that cannot work (every problem listed).
 * @throws SimulatorConnectionError when a device cannot connect (names the URL and client id, says how to fix it);
 *   every client already connected is ended first.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const resolved = await resolveOptions(options);
  return new Simulation(resolved, options.onProgress, options.signal).run();
}

const MAX_SAMPLES = 5;
/** Publishes per wake-up when the rate is unlimited, so one wake-up never starves the event loop. */
const MAX_PER_PUMP = 500;
/** How long a clean DISCONNECT may take before the socket is simply closed. */
const END_TIMEOUT_MS = 2_000;

class Simulation {
  private readonly clock: () => number;
  private readonly devices: VirtualDevice[];
  private readonly topics = new Map<string, string>();
  private readonly clients = new Map<string, MqttClient>();
  private readonly records = new Map<string, RecordBuilder>();
  /** Made when publishing starts: tokens saved up while connecting would make the first burst unrepresentative. */
  private bucket: TokenBucket | undefined;
  private active: VirtualDevice[];
  private cursor = 0;

  private phase: SimulationProgress['phase'] = 'connecting';
  private readonly startedAt: number;
  private publishStart = 0;
  private publishEnd = 0;
  private drainEnd = 0;
  private connectMs = 0;
  private stopping = false;
  private aborted = false;
  private closing = false;

  private connectedCount = 0;
  private sent = 0;
  private readings = 0;
  private acknowledged = 0;
  private publishErrors = 0;
  private errors = 0;
  private disconnects = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private malformed = 0;
  private readonly malformedByVariant = Object.fromEntries(MALFORMED_VARIANTS.map((v) => [v, 0])) as Record<
    MalformedVariant,
    number
  >;
  private readonly samples: string[] = [];

  private inFlight = 0;
  private blocked = false;
  private timer:
    | { kind: 'timeout'; handle: NodeJS.Timeout }
    | { kind: 'immediate'; handle: NodeJS.Immediate }
    | undefined;
  /** Resolves the wait of the current phase (publishing finished, drained, aborted). */
  private wake: (() => void) | undefined;

  public constructor(
    private readonly options: ResolvedOptions,
    private readonly onProgress: ((progress: SimulationProgress) => void) | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.clock = options.now;
    this.startedAt = this.clock();
    this.devices = options.devices.map(
      (plan) =>
        new VirtualDevice({
          id: plan.id,
          seed: options.seed,
          startSeq: options.startSeq,
          ...(options.messagesPerDevice !== undefined ? { readings: options.messagesPerDevice } : {}),
          faults: options.faults,
        }),
    );
    for (const plan of options.devices) {
      this.topics.set(plan.id, plan.topic);
      if (options.record) this.records.set(plan.id, new RecordBuilder(plan.id, plan.topic));
    }
    this.active = [...this.devices];
  }

  public async run(): Promise<SimulationSummary> {
    const onAbort = () => {
      this.aborted = true;
      this.cancelTimer();
      this.wakeUp();
    };
    if (this.signal?.aborted) this.aborted = true;
    this.signal?.addEventListener('abort', onAbort, { once: true });
    const ticker = setInterval(() => this.report(), this.options.progressIntervalMs);
    ticker.unref();
    try {
      if (!this.aborted) await this.connect();
      this.connectMs = this.clock() - this.startedAt;
      if (!this.aborted) {
        this.phase = 'publishing';
        this.publishStart = this.clock();
        this.bucket = new TokenBucket(this.options.rate, this.options.burst, this.clock);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.pump();
        });
      }
      this.publishEnd = this.clock();
      this.phase = 'draining';
      await this.drain();
      this.drainEnd = this.clock();
      this.phase = 'done';
      await this.endClients();
      this.report();
      return this.summary();
    } finally {
      clearInterval(ticker);
      this.cancelTimer();
      this.signal?.removeEventListener('abort', onAbort);
      await this.endClients();
    }
  }

  private async connect(): Promise<void> {
    const events = {
      onError: (deviceId: string, error: Error) => this.recordError(deviceId, error.message),
      onDisconnect: (deviceId: string) => {
        if (this.closing) return;
        this.disconnects++;
        this.sample(deviceId, 'connection lost; reconnecting');
      },
    };
    const abort = new AbortFanOut(this.signal);
    const { failure } = await connectFleet(this.options.devices, this.options.connectConcurrency, async (plan) => {
      const client = await connectDevice(plan, this.options, events, abort);
      this.clients.set(plan.id, client);
      this.connectedCount++;
      return client;
    }).finally(() => abort.dispose());
    if (failure !== undefined && !(failure instanceof ConnectAborted)) throw failure;
  }

  /** Sends what the rate limiter and the in-flight bound allow now, then sleeps until the next token. */
  private readonly pump = (): void => {
    this.timer = undefined;
    const bucket = this.bucket;
    if (this.aborted || !bucket) {
      this.finishPublishing();
      return;
    }
    const now = this.clock();
    if (this.options.durationMs !== undefined && !this.stopping && now - this.publishStart >= this.options.durationMs) {
      this.stopping = true;
      for (const device of this.active) device.stop();
    }
    let budget = Math.min(bucket.available(), this.options.maxInFlight - this.inFlight, MAX_PER_PUMP);
    while (budget > 0) {
      const next = this.nextOutgoing(now);
      if (!next) break;
      this.publish(next.device, next.message);
      bucket.take(1);
      budget--;
    }
    if (this.active.length === 0) {
      this.finishPublishing();
      return;
    }
    if (this.inFlight >= this.options.maxInFlight) {
      this.blocked = true; // a publish callback wakes the pump
      return;
    }
    let delay = bucket.msUntilNext();
    if (this.options.durationMs !== undefined && !this.stopping) {
      delay = Math.min(delay, this.publishStart + this.options.durationMs - now);
    }
    this.schedule(delay);
  };

  /** Round-robin over devices with something to send; undefined once every device is done. */
  private nextOutgoing(now: number): { device: VirtualDevice; message: Outgoing } | undefined {
    // Two rounds at most: a device that held a reading back this turn has something on its next.
    for (let visits = 0; visits < 2 * this.active.length && this.active.length > 0; visits++) {
      if (this.cursor >= this.active.length) this.cursor = 0;
      const device = this.active[this.cursor] as VirtualDevice;
      const message = device.next(now);
      if (device.done) this.active.splice(this.cursor, 1);
      else this.cursor++;
      if (message) return { device, message };
    }
    return undefined;
  }

  private publish(device: VirtualDevice, message: Outgoing): void {
    const client = this.clients.get(device.id);
    const topic = this.topics.get(device.id);
    if (!client || topic === undefined) throw new Error(`no client for ${device.id}`); // a bug, not a user error
    this.sent++;
    this.count(message);
    const record = this.records.get(device.id);
    const confirm = record?.add(device.id, message);
    this.inFlight++;
    client.publish(topic, message.payload, { qos: this.options.qos }, (error) => {
      this.inFlight--;
      // Callbacks flushed by our own end() say nothing about the broker: those publishes count as unacknowledged.
      if (!this.closing) {
        if (error) {
          this.publishErrors++;
          this.recordError(device.id, error.message);
        } else {
          if (this.options.qos === 1) this.acknowledged++;
          confirm?.();
        }
      }
      if (this.phase === 'draining' && this.inFlight === 0) this.wakeUp();
      if (this.blocked && this.phase === 'publishing') {
        this.blocked = false;
        this.schedule(0);
      }
    });
  }

  private count(message: Outgoing): void {
    if (message.kind === 'malformed') {
      this.malformed++;
      this.malformedByVariant[message.variant]++;
    } else if (message.duplicate) {
      this.duplicates++;
    } else {
      this.readings++;
      if (message.outOfOrder) this.outOfOrder++;
    }
  }

  private finishPublishing(): void {
    this.cancelTimer();
    this.wakeUp();
  }

  private async drain(): Promise<void> {
    if (this.aborted || this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timeout = setTimeout(resolve, this.options.drainTimeoutMs);
      this.wake = () => {
        clearTimeout(timeout);
        resolve();
      };
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer =
      delayMs <= 0
        ? { kind: 'immediate', handle: setImmediate(this.pump) }
        : { kind: 'timeout', handle: setTimeout(this.pump, delayMs) };
  }

  private cancelTimer(): void {
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  /** Ends every client: a clean DISCONNECT when nothing is outstanding, otherwise (or if that stalls) a hard close. */
  private async endClients(): Promise<void> {
    this.closing = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            const force = this.aborted || Object.keys(client.outgoing).length > 0;
            const fallback = setTimeout(() => client.end(true, {}, () => resolve()), END_TIMEOUT_MS);
            client.end(force, {}, () => {
              clearTimeout(fallback);
              resolve();
            });
          }),
      ),
    );
  }

  private recordError(deviceId: string, message: string): void {
    if (this.closing) return;
    this.errors++;
    this.sample(deviceId, message);
  }

  private sample(deviceId: string, message: string): void {
    const line = `${deviceId}: ${message}`;
    if (this.samples.length < MAX_SAMPLES && !this.samples.includes(line)) this.samples.push(line);
  }

  private report(): void {
    this.onProgress?.({
      phase: this.phase,
      devices: this.devices.length,
      connected: this.connectedCount,
      sent: this.sent,
      readings: this.readings,
      acknowledged: this.acknowledged,
      errors: this.errors,
      plannedReadings:
        this.options.messagesPerDevice === undefined ? undefined : this.options.messagesPerDevice * this.devices.length,
      durationMs: this.options.durationMs,
      elapsedMs: this.clock() - this.startedAt,
      publishingMs: this.bucket === undefined ? 0 : (this.publishEnd || this.clock()) - this.publishStart,
    });
  }

  private summary(): SimulationSummary {
    const publishMs = this.publishEnd - this.publishStart;
    return {
      seed: this.options.seed,
      devices: this.devices.length,
      connected: this.connectedCount,
      sent: this.sent,
      readings: this.readings,
      acknowledged: this.acknowledged,
      unacknowledged: this.options.qos === 1 ? this.sent - this.acknowledged - this.publishErrors : 0,
      errors: { count: this.errors, samples: [...this.samples] },
      disconnects: this.disconnects,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      malformed: this.malformed,
      malformedByVariant: { ...this.malformedByVariant },
      connectMs: this.connectMs,
      publishMs,
      drainMs: this.drainEnd - this.publishEnd,
      elapsedMs: this.clock() - this.startedAt,
      achievedRate: publishMs > 0 ? (this.sent * 1000) / publishMs : 0,
      aborted: this.aborted,
      ...(this.options.record ? { record: [...this.records.values()].map((r) => r.build()) } : {}),
    };
  }
}

/** Collects what one device sent, for {@link DeviceRecord}. */
class RecordBuilder {
  private readonly readings = new Map<number, { reading: Omit<RecordedReading, 'confirmed'>; confirmed: boolean }>();
  private readonly malformed: { variant: MalformedVariant; payload: string; confirmed: boolean }[] = [];
  private readonly duplicates: number[] = [];
  private readonly outOfOrder: number[] = [];

  public constructor(
    private readonly deviceId: string,
    private readonly topic: string,
  ) {}

  /** Adds a message; returns what to call once its publish completes. */
  public add(deviceId: string, message: Outgoing): () => void {
    if (message.kind === 'malformed') {
      const entry = { variant: message.variant, payload: message.payload, confirmed: false };
      this.malformed.push(entry);
      return () => {
        entry.confirmed = true;
      };
    }
    if (message.duplicate) this.duplicates.push(message.seq);
    if (message.outOfOrder) this.outOfOrder.push(message.seq);
    let entry = this.readings.get(message.seq);
    if (!entry) {
      const { seq, ts, readings } = message;
      entry = { reading: { seq, ts, readings, eventId: deriveEventId(deviceId, ts, seq) }, confirmed: false };
      this.readings.set(message.seq, entry);
    }
    const confirmed = entry;
    return () => {
      confirmed.confirmed = true;
    };
  }

  public build(): DeviceRecord {
    return {
      deviceId: this.deviceId,
      topic: this.topic,
      readings: [...this.readings.values()]
        .map(({ reading, confirmed }) => ({ ...reading, confirmed }))
        .sort((a, b) => a.seq - b.seq),
      malformed: this.malformed.map((entry) => ({ ...entry })),
      duplicates: [...this.duplicates],
      outOfOrder: [...this.outOfOrder],
    };
  }
}

/**
 * One virtual device: what it sends, in which order, on each of its turns. No I/O: the simulator gives it turns and
 * publishes what it returns, which keeps every decision (readings, faults, order) testable and seed-deterministic.
 */

import { type FaultRates, MALFORMED_VARIANTS, type MalformedVariant, malformedPayload } from './faults';
import { seededRandom } from './random';
import { type Readings, SensorModel } from './sensor-model';

/** A message a device hands to the simulator to publish. */
export type Outgoing =
  | {
      readonly kind: 'reading';
      readonly seq: number;
      readonly ts: number;
      readonly readings: Readings;
      readonly payload: string;
      /** A second send of a reading already sent. */
      readonly duplicate: boolean;
      /** Sent after a reading with a higher `seq`. */
      readonly outOfOrder: boolean;
    }
  | { readonly kind: 'malformed'; readonly variant: MalformedVariant; readonly payload: string };

type ReadingMessage = Extract<Outgoing, { kind: 'reading' }>;

/** A reading waiting in the outbox, with its fault decision still to be acted on. */
interface Pending {
  readonly message: Outgoing;
  readonly resend: boolean;
}

export interface VirtualDeviceOptions {
  readonly id: string;
  readonly seed: string | number;
  /** First `seq`. @default 0 */
  readonly startSeq?: number;
  /** Readings to send (not counting duplicates and malformed extras); undefined: until {@link VirtualDevice.stop}. */
  readonly readings?: number;
  readonly faults?: FaultRates;
}

export class VirtualDevice {
  public readonly id: string;
  private readonly model: SensorModel;
  private readonly faultRandom: () => number;
  private readonly rates: Required<FaultRates>;
  /** Last `seq` to generate, inclusive; Infinity until stopped when running for a duration. */
  private lastSeq: number;
  private nextSeq: number;
  private lastTs = Number.NEGATIVE_INFINITY;
  private readonly outbox: Pending[] = [];
  private held: Pending | undefined;

  public constructor(options: VirtualDeviceOptions) {
    this.id = options.id;
    // Separate streams: the readings of a device do not change when fault rates do.
    this.model = new SensorModel(seededRandom(options.seed, options.id, 'readings'));
    this.faultRandom = seededRandom(options.seed, options.id, 'faults');
    this.rates = {
      duplicate: options.faults?.duplicate ?? 0,
      outOfOrder: options.faults?.outOfOrder ?? 0,
      malformed: options.faults?.malformed ?? 0,
    };
    this.nextSeq = options.startSeq ?? 0;
    this.lastSeq = options.readings === undefined ? Number.POSITIVE_INFINITY : this.nextSeq + options.readings - 1;
  }

  /** True once everything this device will ever send has been handed out. */
  public get done(): boolean {
    return this.nextSeq > this.lastSeq && this.outbox.length === 0 && this.held === undefined;
  }

  /** No new readings from now on; what is queued or held back is still sent, in order. */
  public stop(): void {
    this.lastSeq = Math.min(this.lastSeq, this.nextSeq - 1);
  }

  /**
   * What to send on this turn, with `now` as the measurement time of a new reading. Undefined when the device has
   * nothing this turn: it is done, or it just held a reading back to send it after the next one.
   */
  public next(now: number): Outgoing | undefined {
    if (this.outbox.length === 0) {
      if (this.nextSeq <= this.lastSeq) this.measure(now);
      else if (this.held) {
        // Nothing newer will come: the held reading goes out in order after all.
        this.outbox.push(this.held);
        this.held = undefined;
      }
    }
    const pending = this.outbox.shift();
    if (!pending) return undefined;
    if (pending.resend && pending.message.kind === 'reading') {
      this.outbox.unshift({ message: { ...pending.message, duplicate: true, outOfOrder: false }, resend: false });
    }
    return pending.message;
  }

  private measure(now: number): void {
    const seq = this.nextSeq++;
    // Strictly increasing per device, so (deviceId, ts, seq) and the sink's "newest reading" are unambiguous.
    const ts = Math.max(now, this.lastTs + 1);
    this.lastTs = ts;
    const readings = this.model.read(ts);
    // Always four draws per reading, whatever the rates: the decisions for reading n depend only on seed and n.
    const resend = this.faultRandom() < this.rates.duplicate;
    const holdBack = this.faultRandom() < this.rates.outOfOrder;
    const malformed = this.faultRandom() < this.rates.malformed;
    const variant = MALFORMED_VARIANTS[Math.floor(this.faultRandom() * MALFORMED_VARIANTS.length)] ?? 'truncated_json';

    if (malformed) {
      this.outbox.push({
        message: { kind: 'malformed', variant, payload: malformedPayload(variant, ts, readings) },
        resend: false,
      });
    }
    const reading: Pending = { message: readingMessage(seq, ts, readings), resend };
    if (this.held) {
      const late = this.held.message as ReadingMessage;
      this.outbox.push(reading, { message: { ...late, outOfOrder: true }, resend: this.held.resend });
      this.held = undefined;
    } else if (holdBack && seq < this.lastSeq) {
      this.held = reading;
    } else {
      this.outbox.push(reading);
    }
  }
}

function readingMessage(seq: number, ts: number, readings: Readings): ReadingMessage {
  return {
    kind: 'reading',
    seq,
    ts,
    readings,
    payload: JSON.stringify({ ts, seq, readings }),
    duplicate: false,
    outOfOrder: false,
  };
}

/**
 * Fault injection: what a misbehaving device or network does to a telemetry stream. Rates are probabilities per
 * reading, decided from the device's own random stream, so a seed reproduces exactly the same faults.
 */
import type { Readings } from './sensor-model';

export interface FaultRates {
  /**
   * Probability that a reading is sent a second time, same payload and same `seq`, right after itself (a QoS 1
   * retransmission or a device resending after a lost acknowledgement). The pipeline must store it once. @default 0
   */
  readonly duplicate?: number;
  /**
   * Probability that a reading is held back and sent after the device's next reading (a device flushing a buffer,
   * or two paths through the network). A reading right after a held one is never held itself, and the last reading
   * of a run cannot be. @default 0
   */
  readonly outOfOrder?: number;
  /**
   * Probability that a malformed message is sent before a reading: one of {@link MALFORMED_VARIANTS}, chosen evenly.
   * Malformed messages are extra publishes; they never carry a `seq`, so they cannot collide with a real reading's
   * event id. The pipeline must reject each one. @default 0
   */
  readonly malformed?: number;
}

/** Every way a malformed message can be wrong; each one fails the envelope schema after the IoT rule's enrichment. */
export const MALFORMED_VARIANTS = [
  /** A payload cut short: not JSON. */
  'truncated_json',
  /** Valid JSON, but an array instead of an object. */
  'not_object',
  /** No `readings` at all. */
  'missing_readings',
  /** `readings: {}`. */
  'empty_readings',
  /** A `$`-prefixed key inside readings: an operator injection attempt on MongoDB. */
  'dollar_key',
  /** `ts` as an ISO string instead of epoch milliseconds. */
  'ts_string',
  /** A reading value as a string. */
  'reading_string',
  /** `ts` counted from boot: a device whose clock was never set (before 2020). */
  'clock_unset',
] as const;
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

/** The payload of a malformed message, built from what the device would otherwise have sent. */
export function malformedPayload(variant: MalformedVariant, ts: number, readings: Readings): string {
  switch (variant) {
    case 'truncated_json':
      return JSON.stringify({ ts, readings }).slice(0, -7);
    case 'not_object':
      return JSON.stringify([readings.temperature, readings.humidity, readings.pressure]);
    case 'missing_readings':
      return JSON.stringify({ ts });
    case 'empty_readings':
      return JSON.stringify({ ts, readings: {} });
    case 'dollar_key':
      return JSON.stringify({ ts, readings: { ...readings, $inc: 1 } });
    case 'ts_string':
      return JSON.stringify({ ts: new Date(ts).toISOString(), readings });
    case 'reading_string':
      return JSON.stringify({ ts, readings: { ...readings, temperature: String(readings.temperature) } });
    case 'clock_unset':
      // Milliseconds since boot: a few hours, i.e. early 1970 as epoch time.
      return JSON.stringify({ ts: ts % 10_000_000, readings });
  }
}

/**
 * A virtual environmental sensor: temperature, relative humidity and barometric pressure that look like a real
 * room or shelter over hours and days, not like white noise.
 *
 * Each quantity is a per-device baseline, plus a daily cycle (warmest mid-afternoon, humidity moving the other way,
 * pressure's twice-daily atmospheric tide), plus a slow mean-reverting drift (an Ornstein–Uhlenbeck process, so it
 * wanders like weather but never runs away), plus sensor noise, clamped to what the sensor can report. Drift advances
 * with the time between readings, so a fast simulation shows little drift and a slow one a lot, as a real sensor
 * would. Deterministic for a given random stream and sequence of timestamps.
 */
import { gaussian, type Random } from './random';

export interface Readings {
  /** °C, 2 decimals. */
  readonly temperature: number;
  /** % relative humidity, 2 decimals. */
  readonly humidity: number;
  /** hPa, 1 decimal. */
  readonly pressure: number;
}

/** What a typical digital environmental sensor (BME280-class) can report. */
export const SENSOR_BOUNDS = {
  temperature: { min: -40, max: 85 },
  humidity: { min: 0, max: 100 },
  pressure: { min: 300, max: 1100 },
} as const;

const HOUR_MS = 3_600_000;

/** An Ornstein–Uhlenbeck drift: reverts to 0 at `theta` per hour, with stationary standard deviation `spread`. */
interface Drift {
  readonly theta: number;
  readonly spread: number;
}
const TEMPERATURE_DRIFT: Drift = { theta: 0.1, spread: 1.2 };
const HUMIDITY_DRIFT: Drift = { theta: 0.1, spread: 4 };
/** Weather systems: days, not hours (about 1.7 hPa in 3 hours, typical away from storms). */
const PRESSURE_DRIFT: Drift = { theta: 1 / 72, spread: 6 };

export class SensorModel {
  private readonly baseTemperature: number;
  private readonly dailyAmplitude: number;
  /** Offset of the device's local solar time from UTC, in hours: a fleet spread over time zones. */
  private readonly localHourOffset: number;
  private readonly baseHumidity: number;
  private readonly basePressure: number;
  private temperatureDrift: number;
  private humidityDrift: number;
  private pressureDrift: number;
  private lastTs: number | undefined;

  public constructor(private readonly random: Random) {
    this.baseTemperature = 12 + random() * 12;
    this.dailyAmplitude = 1 + random() * 5;
    this.localHourOffset = Math.floor(random() * 24) - 12;
    this.baseHumidity = 35 + random() * 30;
    // Station pressure: sea level to about 500 m altitude.
    this.basePressure = 955 + random() * 60;
    // Start each drift in its stationary distribution, so a new fleet is already spread out.
    this.temperatureDrift = TEMPERATURE_DRIFT.spread * gaussian(random);
    this.humidityDrift = HUMIDITY_DRIFT.spread * gaussian(random);
    this.pressureDrift = PRESSURE_DRIFT.spread * gaussian(random);
  }

  /** The readings at `ts` (epoch ms). Timestamps should not go backwards; if they do, the drift stands still. */
  public read(ts: number): Readings {
    const hours = this.lastTs === undefined ? 0 : Math.max(0, (ts - this.lastTs) / HOUR_MS);
    this.lastTs = ts;
    this.temperatureDrift = step(this.temperatureDrift, TEMPERATURE_DRIFT, hours, this.random);
    this.humidityDrift = step(this.humidityDrift, HUMIDITY_DRIFT, hours, this.random);
    this.pressureDrift = step(this.pressureDrift, PRESSURE_DRIFT, hours, this.random);

    const localHour = (((ts / HOUR_MS + this.localHourOffset) % 24) + 24) % 24;
    // Coldest around 03:00, warmest around 15:00.
    const daily = this.dailyAmplitude * Math.sin((2 * Math.PI * (localHour - 9)) / 24);
    // The semi-diurnal atmospheric tide: highs near 10:00 and 22:00, about ±0.6 hPa.
    const tide = 0.6 * Math.sin((4 * Math.PI * (localHour - 7)) / 24);

    const temperature = this.baseTemperature + daily + this.temperatureDrift + 0.03 * gaussian(this.random);
    // Relative humidity falls as the same air warms: roughly 2.5 points per °C of the daily swing.
    const humidity = this.baseHumidity - 2.5 * daily + this.humidityDrift + 0.3 * gaussian(this.random);
    const pressure = this.basePressure + tide + this.pressureDrift + 0.05 * gaussian(this.random);
    return {
      temperature: bounded(temperature, SENSOR_BOUNDS.temperature, 2),
      humidity: bounded(humidity, SENSOR_BOUNDS.humidity, 2),
      pressure: bounded(pressure, SENSOR_BOUNDS.pressure, 1),
    };
  }
}

/** Exact discretisation of the OU process over `hours`: stable for any step size, from milliseconds to days. */
function step(value: number, drift: Drift, hours: number, random: Random): number {
  const decay = Math.exp(-drift.theta * hours);
  // Always draw, even for a zero step, so the stream's position depends only on the number of readings.
  const noise = gaussian(random);
  return value * decay + drift.spread * Math.sqrt(1 - decay * decay) * noise;
}

function bounded(value: number, range: { readonly min: number; readonly max: number }, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(Math.min(range.max, Math.max(range.min, value)) * factor) / factor;
}

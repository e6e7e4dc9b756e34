/** The simulator's pure parts: sensor model, per-device message plan with faults, malformed variants, rate limiter. */
import { describe, expect, it } from 'vitest';
import { enrich } from '../../../contracts/enrichment';
import { parseEnvelope } from '../../../lambdas/shared/envelope';
import { type Outgoing, VirtualDevice } from '../../../tools/simulate/device';
import { MALFORMED_VARIANTS, malformedPayload } from '../../../tools/simulate/faults';
import { seededRandom } from '../../../tools/simulate/random';
import { SENSOR_BOUNDS, SensorModel } from '../../../tools/simulate/sensor-model';
import { TokenBucket } from '../../../tools/simulate/token-bucket';
import { NOW } from '../../helpers/factories';

const MINUTE = 60_000;

/** Every message a device sends, turn by turn, with a clock that advances `stepMs` per turn. */
function drain(device: VirtualDevice, stepMs = 1_000, maxTurns = 100_000): Outgoing[] {
  const sent: Outgoing[] = [];
  for (let turn = 0; turn < maxTurns && !device.done; turn++) {
    const message = device.next(NOW + turn * stepMs);
    if (message) sent.push(message);
  }
  return sent;
}

describe('SensorModel', () => {
  it('is deterministic for a seed and different across seeds', () => {
    // Given three models, two with the same seed
    const a = new SensorModel(seededRandom(7, 'sensor-1'));
    const b = new SensorModel(seededRandom(7, 'sensor-1'));
    const c = new SensorModel(seededRandom(8, 'sensor-1'));
    // When they read at the same times
    const times = Array.from({ length: 50 }, (_, i) => NOW + i * MINUTE);
    const [ra, rb, rc] = [a, b, c].map((model) => times.map((ts) => model.read(ts)));
    // Then the same seed gives the same readings and another seed others
    expect(ra).toEqual(rb);
    expect(ra).not.toEqual(rc);
  });

  it('stays within physical bounds and drifts slowly: a week of 5-minute readings over 50 sensors', () => {
    // Given 50 sensor models of one seed
    const steps: number[] = [];
    const weeklyRanges: number[] = [];
    const seen = { temperature: [] as number[], humidity: [] as number[], pressure: [] as number[] };
    // When each reads every 5 minutes for a week
    for (let sensor = 0; sensor < 50; sensor++) {
      const model = new SensorModel(seededRandom(1, `sensor-${sensor}`));
      const week = Array.from({ length: 7 * 24 * 12 }, (_, i) => model.read(NOW + i * 5 * MINUTE));
      const temperatures = week.map((r) => r.temperature);
      for (let i = 1; i < temperatures.length; i++) {
        steps.push(Math.abs((temperatures[i] as number) - (temperatures[i - 1] as number)));
      }
      weeklyRanges.push(Math.max(...temperatures) - Math.min(...temperatures));
      seen.temperature.push(...temperatures);
      seen.humidity.push(...week.map((r) => r.humidity));
      seen.pressure.push(...week.map((r) => r.pressure));
    }
    const range = (values: number[]) => [
      values.reduce((a, b) => Math.min(a, b)),
      values.reduce((a, b) => Math.max(a, b)),
    ];
    // Then every reading is within physical bounds, steps are small and every sensor moves
    // Bounds: what the sensor can report, and what a room or shelter plausibly sees
    const [tLow, tHigh] = range(seen.temperature);
    expect(tLow).toBeGreaterThanOrEqual(-10);
    expect(tHigh).toBeLessThanOrEqual(45);
    const [hLow, hHigh] = range(seen.humidity);
    expect(hLow).toBeGreaterThanOrEqual(SENSOR_BOUNDS.humidity.min);
    expect(hHigh).toBeLessThanOrEqual(SENSOR_BOUNDS.humidity.max);
    const [pLow, pHigh] = range(seen.pressure);
    expect(pLow).toBeGreaterThanOrEqual(900);
    expect(pHigh).toBeLessThanOrEqual(1060);
    // Slow drift, not white noise: 95% of five-minute steps move the temperature by less than half a degree
    steps.sort((a, b) => a - b);
    expect(steps[Math.floor(steps.length * 0.95)]).toBeLessThan(0.5);
    // But it does move: every sensor spans more than a degree over the week
    expect(Math.min(...weeklyRanges)).toBeGreaterThan(1);
  });

  it('follows a daily cycle: afternoons are warmer than nights, on average over a fleet', () => {
    // Given 40 sensor models of one seed
    let afternoon = 0;
    let night = 0;
    // When each reads hourly over five days, its warmest hour compared with 12 hours later
    for (let sensor = 0; sensor < 40; sensor++) {
      const model = new SensorModel(seededRandom(3, `sensor-${sensor}`));
      // Find the sensor's local 15:00 and 03:00 by its own cycle: compare 12 hours apart over a day, many times
      for (let day = 0; day < 5; day++) {
        const samples = Array.from({ length: 24 }, (_, h) => model.read(NOW + (day * 24 + h) * 3_600_000));
        const temperatures = samples.map((s) => s.temperature);
        const warmest = temperatures.indexOf(Math.max(...temperatures));
        afternoon += temperatures[warmest] ?? 0;
        night += temperatures[(warmest + 12) % 24] ?? 0;
      }
    }
    // Then afternoons are more than a degree warmer on average
    expect(afternoon / 200 - night / 200).toBeGreaterThan(1);
  });
});

describe('VirtualDevice', () => {
  it('sends its readings in order, seq from startSeq, with strictly increasing ts, and nothing else without faults', () => {
    // Given a device of 20 readings from seq 5, without faults
    const device = new VirtualDevice({ id: 'sensor-1', seed: 1, startSeq: 5, readings: 20 });
    // When it sends everything on a frozen clock
    const sent = drain(device, 0); // a frozen clock: ts must still increase
    // Then the readings come in seq order with strictly increasing ts, and nothing else
    expect(sent.map((m) => (m.kind === 'reading' ? m.seq : -1))).toEqual(Array.from({ length: 20 }, (_, i) => 5 + i));
    const ts = sent.map((m) => (m.kind === 'reading' ? m.ts : 0));
    for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThan(ts[i - 1] as number);
    expect(device.done).toBe(true);
  });

  it('injects faults deterministically for a seed, near the requested rates', () => {
    // Given a device with 10% duplicates, 10% held back and 5% malformed over 2,000 readings
    const make = () =>
      new VirtualDevice({
        id: 'sensor-7',
        seed: 42,
        readings: 2_000,
        faults: { duplicate: 0.1, outOfOrder: 0.1, malformed: 0.05 },
      });
    // When it is drained twice
    const first = drain(make());
    const second = drain(make());
    // Then both runs are identical
    expect(second).toEqual(first);
    // And what arrived can be classified as a receiver would
    const seen = new Set<number>();
    let max = -1;
    let duplicates = 0;
    let late = 0;
    let malformed = 0;
    for (const message of first) {
      if (message.kind === 'malformed') {
        malformed++;
        continue;
      }
      const payload = JSON.parse(message.payload) as { seq: number };
      expect(payload.seq).toBe(message.seq);
      if (seen.has(message.seq)) {
        duplicates++;
        expect(message.duplicate).toBe(true);
      } else {
        if (message.seq < max) late++;
        expect(message.outOfOrder).toBe(message.seq < max);
        seen.add(message.seq);
        max = Math.max(max, message.seq);
      }
    }
    expect(seen.size).toBe(2_000); // every reading exactly once, besides the duplicates
    // Binomial(2000, p): ±5 standard deviations, deterministic for the seed anyway
    expect(duplicates).toBeGreaterThan(200 - 5 * 13.4);
    expect(duplicates).toBeLessThan(200 + 5 * 13.4);
    expect(malformed).toBeGreaterThan(100 - 5 * 9.7);
    expect(malformed).toBeLessThan(100 + 5 * 9.7);
    // A reading right after a held one cannot be held: the effective rate is about p / (1 + p)
    expect(late).toBeGreaterThan(182 - 5 * 13);
    expect(late).toBeLessThan(182 + 5 * 13);
  });

  it('never holds back the last reading, and when stopped sends a held one in order', () => {
    // Given a device that holds back every reading it can
    const counted = new VirtualDevice({ id: 'd', seed: 1, readings: 3, faults: { outOfOrder: 1 } });
    // Then seq 0 waits for seq 1; seq 2, the last, is never held
    expect(drain(counted).map((m) => (m.kind === 'reading' ? m.seq : -1))).toEqual([1, 0, 2]);

    // Given a device running for a duration that holds seq 0 back, then is stopped
    const timed = new VirtualDevice({ id: 'd', seed: 1, faults: { outOfOrder: 1 } });
    expect(timed.next(NOW)).toBeUndefined();
    timed.stop();
    // Then seq 0 still goes out, not marked out of order, and nothing follows
    const flushed = drain(timed);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toMatchObject({ kind: 'reading', seq: 0, outOfOrder: false });
    expect(timed.done).toBe(true);
  });

  it('does not let fault rates change the readings themselves', () => {
    // Given two devices of one seed, one with half its messages malformed
    // When each sends everything
    const clean = drain(new VirtualDevice({ id: 'd', seed: 9, readings: 50 }), 0);
    const faulty = drain(new VirtualDevice({ id: 'd', seed: 9, readings: 50, faults: { malformed: 0.5 } }), 0);
    const readings = (messages: Outgoing[]) =>
      messages.flatMap((m) => (m.kind === 'reading' ? [[m.seq, m.readings]] : [])).sort();
    // Then their readings are the same
    expect(readings(faulty)).toEqual(readings(clean));
  });
});

describe('malformed variants', () => {
  it.each(MALFORMED_VARIANTS)('%s is rejected by the pipeline after the IoT rule enrichment', (variant) => {
    // Given a malformed payload of this variant
    const text = malformedPayload(variant, NOW - 1_000, { temperature: 21.5, humidity: 40.25, pressure: 1013.2 });
    // When it goes through the IoT rule's enrichment and the forwarder's parsing
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      // Not JSON: the IoT rule cannot enrich it; the forwarder parses the body first and rejects it as not_json
      const parsed = parseEnvelope(text);
      // Then the forwarder rejects it
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.reason).toBe('not_json');
      return;
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      expect(variant).toBe('not_object');
      return;
    }
    const enriched = enrich(
      {
        topic: 'sensors/sensor-1/telemetry',
        clientId: 'sensor-1',
        payload: payload as Record<string, unknown>,
        receivedAt: NOW,
      },
      2,
    );
    const result = parseEnvelope(JSON.stringify(enriched));
    expect(result.ok).toBe(false);
    expect(enriched).not.toHaveProperty('seq');
  });
});

describe('TokenBucket', () => {
  it('never hands out more than capacity + rate × t over any interval, and says how long to wait', () => {
    // Given a bucket of 100/s with a burst of 5 on a manual clock
    let now = 0;
    const bucket = new TokenBucket(100, 5, () => now);
    const taken: number[] = [];
    // When a greedy caller takes everything it can at irregular instants for 10 seconds
    while (now < 10_000) {
      const available = bucket.available();
      for (let i = 0; i < available; i++) taken.push(now);
      bucket.take(available);
      const wait = bucket.msUntilNext();
      now += wait > 0 ? wait : 1 + (now % 7);
    }
    // Then every window holds at most 5 + 100 × its length
    for (const windowMs of [1, 10, 100, 1_000]) {
      let start = 0;
      for (let end = 0; end < taken.length; end++) {
        while ((taken[end] as number) - (taken[start] as number) > windowMs) start++;
        expect(end - start + 1).toBeLessThanOrEqual(5 + (100 * windowMs) / 1000 + 1e-9);
      }
    }
    // And the caller got about the full rate, no less
    expect(taken.length).toBeGreaterThanOrEqual(995);
  });

  it('reports no wait and no limit when unlimited', () => {
    // Given a bucket with an unlimited rate
    // When it is asked what it can hand out / Then everything, without waiting
    const bucket = new TokenBucket(Number.POSITIVE_INFINITY, 1, () => 0);
    expect(bucket.available()).toBe(Number.POSITIVE_INFINITY);
    expect(bucket.msUntilNext()).toBe(0);
  });
});

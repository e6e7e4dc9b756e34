/**
 * End to end on one machine: simulator → MQTT (aedes, loopback TCP) → IoT rule enrichment → ingest queue →
 * forwarder bundle → Kafka (librdkafka mock cluster) → Kafka event source → sink → MongoDB fake, through
 * Produce errors, a broker down and back, sink failures mid-batch, a reading given up on and redriven, and the
 * devices' duplicates, out-of-order sends and malformed messages (see scenario.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MalformedVariant } from '../../tools/simulate';
import { devicePayloadOf, EXPECTED_REASONS, runScenario, type ScenarioRun } from './scenario';

const DEVICES = 100;
const READINGS_PER_DEVICE = 200;

let run: ScenarioRun;

beforeAll(async () => {
  // Given 100 devices sending 200 readings each, with 2% duplicates, 2% out of order and 1% malformed, and faults
  // When they run through the whole local pipeline (each test below reads what the run left)
  run = await runScenario({ devices: DEVICES, readingsPerDevice: READINGS_PER_DEVICE });
}, 180_000);

describe('the local pipeline, end to end', () => {
  it('delivered what the simulator sent: every publish acknowledged, faults of every kind', () => {
    // Then the simulator's summary has every device connected, every publish acknowledged and every kind of fault sent
    expect(run.summary).toMatchObject({ devices: DEVICES, connected: DEVICES, unacknowledged: 0 });
    expect(run.summary.errors.count).toBe(0);
    expect(run.summary.readings).toBe(DEVICES * READINGS_PER_DEVICE);
    expect(run.summary.duplicates).toBeGreaterThan(0);
    expect(run.summary.outOfOrder).toBeGreaterThan(0);
    expect(run.summary.malformed).toBeGreaterThan(0);
    expect(run.sent.flatMap((device) => device.readings).every((reading) => reading.confirmed)).toBe(true);
  });

  it('stored every valid reading exactly once: the readings are exactly the event ids sent', () => {
    // When the event ids sent are compared with the readings stored
    const sent = run.sent.flatMap((device) => device.readings.map((reading) => reading.eventId));
    const stored = run.collections.readings.all().map((doc) => doc._id);
    // Then they are the same set, once each, and nothing is quarantined
    expect(stored).toHaveLength(sent.length);
    expect(new Set(stored)).toEqual(new Set(sent));
    expect(run.collections.quarantine.docs.size).toBe(0);
  });

  it('inserted every reading once: duplicates and replays took the insert-if-absent path, none a second insert', () => {
    // When the inserts per event id are counted
    const sent = run.sent.flatMap((device) => device.readings.map((reading) => reading.eventId));
    const inserts = run.collections.readings.inserts;

    // Then each event id sent was inserted exactly once
    expect([...inserts.keys()].sort()).toEqual([...sent].sort());
    expect(sent.filter((eventId) => inserts.get(eventId) !== 1)).toEqual([]);
  });

  it("holds each device's newest reading (device ts, then seq) as its latest state", () => {
    // When each device's newest reading sent is compared with its stored state
    for (const device of run.sent) {
      const newest = device.readings.reduce((a, b) => (b.ts > a.ts || (b.ts === a.ts && b.seq > a.seq) ? b : a));
      // Then every device holds exactly that one
      expect(run.collections.devices.get(device.deviceId)).toMatchObject({
        ts: new Date(newest.ts),
        seq: newest.seq,
        eventId: newest.eventId,
      });
    }
    expect(run.collections.devices.docs.size).toBe(DEVICES);
  });

  it('parked every malformed message in the ingest dead-letter queue with the reason for its variant', () => {
    // When the malformed messages sent are compared with the ingest dead-letter queue
    const expected = run.sent
      .flatMap((device) =>
        device.malformed.map((m) => `${EXPECTED_REASONS[m.variant as MalformedVariant]} ${m.payload}`),
      )
      .sort();
    const parked = run.ingestDeadLetters
      .map((envelope) => `${envelope.reason} ${devicePayloadOf(envelope.payload?.data ?? '')}`)
      .sort();
    // Then each is parked once, by the forwarder, with its variant's reason
    expect(parked).toEqual(expected);
    expect(run.ingestDeadLetters.every((envelope) => envelope.stage === 'forward' && envelope.attempts === 1)).toBe(
      true,
    );
  });

  it("gave the unstorable reading up to the sink dead-letter topic in Lambda's document, readable by `failures`", () => {
    // When the sink's dead-letter topic is read as `failures` reads it
    // Then the one reading given up is there with the retries it had, as the pipeline counted it
    expect(run.givenUp).toHaveLength(1);
    expect(run.sinkDeadLetters.length).toBeGreaterThanOrEqual(1);
    for (const envelope of run.sinkDeadLetters) {
      expect(envelope).toMatchObject({
        store: 'sink-dlt',
        stage: 'sink',
        reason: 'retry_attempts_exhausted',
        // the first invocation and 2 retries (sink.retryAttempts)
        attempts: 3,
        eventId: run.givenUp[0],
        deviceId: 'sim-sensor-0007',
      });
    }
    // The pipeline's own account of what it wrote (what `local` prints when it stops) is the topic's
    expect(run.sinkDeadLettersKept.map((envelope) => envelope.id)).toEqual(run.sinkDeadLetters.map((e) => e.id));
  });

  it('went through every injected fault, and through nothing else', () => {
    // When the fault injectors' counters are read
    const { faults } = run;
    // Then each fault was used, and nothing failed outside them
    // The broker returned every Produce error, and the forwarder failed messages meanwhile
    expect(faults.produceErrors).toEqual({ injected: 4, unreturned: 0 });
    expect(faults.failedDuringProduceErrors).toBeGreaterThan(0);
    expect(faults.failedWhileBrokerDown).toBeGreaterThan(0);
    // Both sink write faults were used up by a bulk write
    expect(faults.sinkWriteFaultsLeft).toBe(0);
    // Every redelivery came from a fault: none outside their windows, none from a visibility timeout ending mid-run
    expect(faults.failedOutsideFaults).toBe(0);
    expect(run.counters.lateAcknowledgements).toBe(0);
  });

  it('went through the faults: redeliveries from the ingest queue and retries from Kafka', () => {
    // When the pipeline's counters are read
    // Then the queue redelivered, the sink retried, and nothing is left behind or unrouted
    expect(run.counters.redelivered).toBeGreaterThan(0);
    expect(run.counters.sinkRetries).toBeGreaterThan(0);
    expect(run.counters.backlog).toBe(0);
    expect(run.counters.unrouted).toBe(0);
  });
});

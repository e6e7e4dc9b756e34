/**
 * The simulator against a real MQTT broker (aedes) on loopback: what arrives, from which client id, on which topic,
 * how fast, with which faults, and what happens when the broker is missing, refuses or the run is aborted.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enrich } from '../../../contracts/enrichment';
import type { TelemetryEnvelope } from '../../../contracts/envelope';
import { parseEnvelope } from '../../../lambdas/shared/envelope';
import { deviceSegment } from '../../../lib/ingest/rule-sql';
import {
  runSimulation,
  type SimulationOptions,
  type SimulationProgress,
  SimulatorConfigError,
  SimulatorConnectionError,
} from '../../../tools/simulate';
import { createPki, type TestPki } from './certificates';
import { closedPort, type ReceivedPublish, TestBroker } from './mqtt-broker';

const TOPIC_FILTER = 'sensors/+/telemetry';

/** What the pipeline makes of each publish: the IoT rule's enrichment, then the forwarder's validation. */
interface Classified {
  readonly valid: Map<string, TelemetryEnvelope[]>;
  readonly invalid: ReceivedPublish[];
  readonly duplicates: number;
  readonly outOfOrder: number;
}

function classify(received: readonly ReceivedPublish[]): Classified {
  const valid = new Map<string, TelemetryEnvelope[]>();
  const invalid: ReceivedPublish[] = [];
  const seen = new Map<string, { seqs: Set<number>; max: number }>();
  let duplicates = 0;
  let outOfOrder = 0;
  for (const publish of received) {
    let payload: unknown;
    try {
      payload = JSON.parse(publish.payload);
    } catch {
      invalid.push(publish);
      continue;
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      invalid.push(publish);
      continue;
    }
    const enriched = enrich(
      {
        topic: publish.topic,
        clientId: publish.clientId,
        payload: payload as Record<string, unknown>,
        receivedAt: publish.receivedAt,
      },
      deviceSegment(TOPIC_FILTER),
    );
    const result = parseEnvelope(JSON.stringify(enriched));
    if (!result.ok) {
      invalid.push(publish);
      continue;
    }
    const { envelope } = result;
    const device = seen.get(envelope.deviceId) ?? { seqs: new Set<number>(), max: -1 };
    seen.set(envelope.deviceId, device);
    const seq = envelope.seq ?? -1;
    if (device.seqs.has(seq)) {
      duplicates++;
      continue;
    }
    if (seq < device.max) outOfOrder++;
    device.seqs.add(seq);
    device.max = Math.max(device.max, seq);
    valid.set(envelope.deviceId, [...(valid.get(envelope.deviceId) ?? []), envelope]);
  }
  return { valid, invalid, duplicates, outOfOrder };
}

let broker: TestBroker;

beforeAll(async () => {
  broker = await TestBroker.start({ webSocket: true });
});
afterAll(async () => {
  await broker.stop();
});
afterEach(() => {
  broker.received.length = 0;
  broker.refused.length = 0;
});

const base = (overrides: Partial<SimulationOptions> = {}): SimulationOptions => ({
  url: broker.url,
  devices: 5,
  rate: Number.POSITIVE_INFINITY,
  seed: 1,
  ...overrides,
});

describe('runSimulation against an MQTT broker', () => {
  it('publishes every reading of every device, as its own client id on its own topic, valid after enrichment', async () => {
    // Given 5 devices with 20 readings each at QoS 1
    // When the simulation runs
    const summary = await runSimulation(base({ messagesPerDevice: 20, qos: 1, record: true }));

    // Then the broker received 100 publishes, 20 per device, none refused by the own-topic rule
    expect(broker.received).toHaveLength(100);
    expect(broker.refused).toEqual([]);
    const { valid, invalid } = classify(broker.received);
    expect(invalid).toEqual([]);
    expect([...valid.keys()].sort()).toEqual([
      'sim-sensor-0001',
      'sim-sensor-0002',
      'sim-sensor-0003',
      'sim-sensor-0004',
      'sim-sensor-0005',
    ]);
    for (const [deviceId, envelopes] of valid) {
      // Client id = thing name = the topic's device level; seq 0..19 in order
      expect(envelopes.every((e) => e.clientId === deviceId && e.sourceTopic === `sensors/${deviceId}/telemetry`)).toBe(
        true,
      );
      expect(envelopes.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(Object.keys(envelopes[0]?.readings ?? {}).sort()).toEqual(['humidity', 'pressure', 'temperature']);
    }
    // And the summary agrees: all acknowledged, nothing else
    expect(summary).toMatchObject({
      devices: 5,
      connected: 5,
      sent: 100,
      readings: 100,
      acknowledged: 100,
      unacknowledged: 0,
      errors: { count: 0, samples: [] },
      duplicates: 0,
      outOfOrder: 0,
      malformed: 0,
      aborted: false,
    });
    // And the record names each reading by the event id the IoT rule derives
    const recorded = new Map(summary.record?.flatMap((d) => d.readings.map((r) => [r.eventId, r] as const)));
    const stored = [...valid.values()].flat();
    expect(recorded.size).toBe(100);
    for (const envelope of stored) {
      expect(recorded.get(envelope.eventId)).toMatchObject({ seq: envelope.seq, ts: envelope.ts, confirmed: true });
    }
    // And every client is gone
    await expect.poll(() => broker.connectedClients).toBe(0);
  });

  it('counts no acknowledgements at QoS 0, yet delivers to a local broker', async () => {
    // Given the test broker
    // When three devices send ten readings each at QoS 0
    const summary = await runSimulation(base({ devices: 3, messagesPerDevice: 10, qos: 0 }));
    // Then nothing is counted acknowledged, and all 30 arrive at QoS 0
    expect(summary).toMatchObject({ sent: 30, acknowledged: 0, unacknowledged: 0, errors: { count: 0 } });
    await expect.poll(() => broker.received.length).toBe(30);
    expect(broker.received.every((p) => p.qos === 0)).toBe(true);
  });

  it('uses the topic template and the device ids given', async () => {
    // Given Basic Ingest topics, as the stack's BasicIngestTopic output names them
    const summary = await runSimulation(
      base({
        devices: ['lab-a', 'lab-b'],
        topicTemplate: '$aws/rules/TelemetryPipeline_dev_1/sensors/{deviceId}/telemetry',
        messagesPerDevice: 3,
      }),
    );
    // When two named devices send three readings each
    // Then each published to its own Basic Ingest topic
    expect(summary.sent).toBe(6);
    expect(new Set(broker.received.map((p) => `${p.clientId} ${p.topic}`))).toEqual(
      new Set([
        'lab-a $aws/rules/TelemetryPipeline_dev_1/sensors/lab-a/telemetry',
        'lab-b $aws/rules/TelemetryPipeline_dev_1/sensors/lab-b/telemetry',
      ]),
    );
  });

  it('injects the planned duplicates, out-of-order and malformed messages for a seed, the same on a rerun', async () => {
    // Given 4 devices × 250 readings with 10% duplicates, 10% held back and 5% malformed, on a frozen clock
    const options = base({
      devices: 4,
      messagesPerDevice: 250,
      seed: 42,
      faults: { duplicate: 0.1, outOfOrder: 0.1, malformed: 0.05 },
      now: () => Date.UTC(2026, 0, 1),
      record: true,
    });

    // When it runs
    const summary = await runSimulation(options);
    const first = classify(broker.received);
    const firstPayloads = broker.received.map((p) => `${p.clientId} ${p.payload}`);

    // Then the broker saw exactly the faults the summary reports
    expect(first.duplicates).toBe(summary.duplicates);
    expect(first.outOfOrder).toBe(summary.outOfOrder);
    expect(first.invalid).toHaveLength(summary.malformed);
    expect(summary.sent).toBe(1_000 + summary.duplicates + summary.malformed);
    // And every reading arrived, duplicates aside, exactly once
    expect([...first.valid.values()].map((envelopes) => envelopes.length)).toEqual([250, 250, 250, 250]);
    // And the counts are near the rates (binomial over 1,000 readings, ±5 standard deviations)
    expect(summary.duplicates).toBeGreaterThan(100 - 5 * 9.5);
    expect(summary.duplicates).toBeLessThan(100 + 5 * 9.5);
    expect(summary.outOfOrder).toBeGreaterThan(91 - 5 * 9.2);
    expect(summary.outOfOrder).toBeLessThan(91 + 5 * 9.2);
    expect(summary.malformed).toBeGreaterThan(50 - 5 * 6.9);
    expect(summary.malformed).toBeLessThan(50 + 5 * 6.9);
    // And the record lists the same faults
    const record = summary.record ?? [];
    expect(record.flatMap((d) => d.duplicates)).toHaveLength(summary.duplicates);
    expect(record.flatMap((d) => d.outOfOrder)).toHaveLength(summary.outOfOrder);
    expect(record.flatMap((d) => d.malformed)).toHaveLength(summary.malformed);
    expect(Object.values(summary.malformedByVariant).reduce((a, b) => a + b)).toBe(summary.malformed);

    // When it runs again with the same seed
    broker.received.length = 0;
    const again = await runSimulation(options);
    // Then each device sent exactly the same messages in the same order
    expect(again).toMatchObject({
      duplicates: summary.duplicates,
      outOfOrder: summary.outOfOrder,
      malformed: summary.malformed,
    });
    const byDevice = (lines: string[]) => lines.sort((a, b) => a.localeCompare(b));
    expect(byDevice(broker.received.map((p) => `${p.clientId} ${p.payload}`))).toEqual(byDevice(firstPayloads));
  });

  it('keeps to the rate: no window of the device timestamps holds more than burst + rate × window', async () => {
    // Given 4 devices × 40 readings at 200 messages/second with a burst of 10
    const rate = 200;
    const burst = 10;
    const summary = await runSimulation(base({ devices: 4, messagesPerDevice: 40, rate, burst, qos: 0 }));
    await expect.poll(() => broker.received.length).toBe(160);

    // Then, by the devices' own timestamps, every window respects the limit
    const stamps = broker.received.map((p) => (JSON.parse(p.payload) as { ts: number }).ts).sort((a, b) => a - b);
    for (const windowMs of [5, 50, 250]) {
      let start = 0;
      for (let end = 0; end < stamps.length; end++) {
        while ((stamps[end] as number) - (stamps[start] as number) > windowMs) start++;
        // +1 ms: a device that sends twice in one millisecond stamps the second reading 1 ms later
        expect(end - start + 1).toBeLessThanOrEqual(burst + (rate * (windowMs + 1)) / 1000);
      }
    }
    // And so 160 messages could not have taken less than (160 - burst) / rate seconds
    expect((stamps.at(-1) as number) - (stamps[0] as number)).toBeGreaterThanOrEqual(((160 - burst) / rate) * 1000 - 1);
    // And the fleet shared the rate round-robin: each device's readings are in order and evenly spread
    for (const id of ['sim-sensor-0001', 'sim-sensor-0002', 'sim-sensor-0003', 'sim-sensor-0004']) {
      expect(broker.from(id).map((p) => (JSON.parse(p.payload) as { seq: number }).seq)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
    }
    expect(summary.achievedRate).toBeGreaterThan(0);
  });

  it('saves up no tokens while connecting: the first burst is one message, not the whole bucket', async () => {
    // Given a broker that takes 100 ms per connection, and a bucket of 20 at 100 messages/second
    const slow = await TestBroker.start({
      aedes: { preConnect: (_client, _packet, done) => setTimeout(() => done(null, true), 100) },
    });
    try {
      await runSimulation(base({ url: slow.url, devices: 2, messagesPerDevice: 5, rate: 100, burst: 20, qos: 0 }));
      await expect.poll(() => slow.received.length).toBe(10);
      // Then the first 50 ms of device timestamps hold at most 1 + 100 × 0.05 messages, not 20
      const stamps = slow.received.map((p) => (JSON.parse(p.payload) as { ts: number }).ts).sort((a, b) => a - b);
      const first = stamps[0] as number;
      expect(stamps.filter((ts) => ts <= first + 50).length).toBeLessThanOrEqual(6 + 1);
    } finally {
      await slow.stop();
    }
  });

  it('runs for a duration: stops on time at the rate, every reading acknowledged', async () => {
    // Given 3 devices for 300 ms at 100 messages/second
    const summary = await runSimulation(base({ devices: 3, durationMs: 300, rate: 100, qos: 1 }));
    // Then at most burst + rate × duration publishes went out, all acknowledged, each device gap-free from seq 0
    expect(summary.sent).toBeGreaterThan(0);
    expect(summary.sent).toBeLessThanOrEqual(5 + 100 * 0.3);
    expect(summary.acknowledged).toBe(summary.sent);
    const { valid } = classify(broker.received);
    for (const envelopes of valid.values()) {
      expect(envelopes.map((e) => e.seq)).toEqual(Array.from({ length: envelopes.length }, (_, i) => i));
    }
  });

  it('sends the readings held back when the duration ends, in order, so none is lost', {
    timeout: 10_000,
  }, async () => {
    // Given a clock that advances 1 ms per read and one publish per wake-up (maxInFlight 1), so the run ends at the
    // same point every time: with seed 7 and 41 ms, sim-sensor-0001 is holding seq 13 back when it ends
    let clock = Date.UTC(2026, 0, 1);
    const summary = await runSimulation(
      base({
        devices: 3,
        durationMs: 41,
        maxInFlight: 1,
        seed: 7,
        faults: { outOfOrder: 0.5 },
        now: () => clock++,
        record: true,
      }),
    );
    // Then each device's readings arrived gap-free from seq 0, and the held ones are not counted as out of order
    const { valid, outOfOrder } = classify(broker.received);
    for (const envelopes of valid.values()) {
      const seqs = envelopes.map((e) => e.seq ?? -1).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    }
    expect([...valid.values()].flat()).toHaveLength(summary.readings);
    expect(outOfOrder).toBe(summary.outOfOrder);
    expect(summary.record?.flatMap((d) => d.readings).every((r) => r.confirmed)).toBe(true);
  });

  it('bounds concurrent handshakes: 30 devices, 3 at a time, against a slow broker', async () => {
    // Given a broker that takes 30 ms to accept each connection
    const slow = await TestBroker.start({
      aedes: { preConnect: (_client, _packet, done) => setTimeout(() => done(null, true), 30) },
    });
    try {
      // When 30 devices connect with a concurrency of 3
      const summary = await runSimulation(
        base({ url: slow.url, devices: 30, messagesPerDevice: 1, connectConcurrency: 3 }),
      );
      // Then never more than 3 sockets were waiting for their CONNACK at once, and all connected
      expect(summary.connected).toBe(30);
      expect(slow.maxHandshaking).toBeGreaterThan(0);
      expect(slow.maxHandshaking).toBeLessThanOrEqual(3);
    } finally {
      await slow.stop();
    }
  });

  it('reports progress while running and once at the end', async () => {
    // Given a run of 60 publishes reporting progress every 20 ms
    const progress: SimulationProgress[] = [];
    // When it runs
    await runSimulation(
      base({
        devices: 2,
        messagesPerDevice: 30,
        rate: 200,
        progressIntervalMs: 20,
        onProgress: (p) => progress.push(p),
      }),
    );
    // Then progress came while publishing, ended with done, and never went backwards
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', devices: 2, connected: 2, sent: 60, acknowledged: 60 });
    // Monotonic counters
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]?.sent).toBeGreaterThanOrEqual(progress[i - 1]?.sent ?? 0);
    }
    expect(progress.some((p) => p.phase === 'publishing' && p.sent > 0 && p.sent < 60)).toBe(true);
  });

  it('stops early on abort: no more publishes, every client ended, a summary that says so', async () => {
    // Given a run planned for 10 seconds
    const controller = new AbortController();
    const summary = await runSimulation(
      base({
        devices: 4,
        messagesPerDevice: 250,
        rate: 100,
        signal: controller.signal,
        progressIntervalMs: 10,
        // When it is aborted once some messages have gone out
        onProgress: (p) => {
          if (p.sent >= 10) controller.abort();
        },
      }),
    );
    // Then it returned early, having sent only part of the plan
    expect(summary.aborted).toBe(true);
    expect(summary.sent).toBeGreaterThanOrEqual(10);
    expect(summary.sent).toBeLessThan(100);
    expect(summary.acknowledged + summary.unacknowledged + summary.errors.count).toBe(summary.sent);
    // And nothing is left connected, nothing more arrives
    await expect.poll(() => broker.connectedClients).toBe(0);
    const arrived = broker.received.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(broker.received.length).toBe(arrived);
    expect(arrived).toBeLessThanOrEqual(summary.sent);
  });

  it('returns at once, connecting nothing, when the signal is already aborted', async () => {
    // Given a signal aborted already
    // When the simulation runs / Then it returns at once with nothing connected or sent
    const summary = await runSimulation(base({ signal: AbortSignal.abort() }));
    expect(summary).toMatchObject({ aborted: true, connected: 0, sent: 0 });
  });

  it('speaks MQTT over WebSocket (ws://)', async () => {
    // Given the test broker's WebSocket URL
    // When two devices send five readings each over it
    const summary = await runSimulation(base({ url: broker.wsUrl as string, devices: 2, messagesPerDevice: 5 }));
    // Then all ten are acknowledged and both devices' readings arrive
    expect(summary).toMatchObject({ sent: 10, acknowledged: 10 });
    expect(classify(broker.received).valid.size).toBe(2);
  });
});

describe('runSimulation errors', () => {
  it('names the URL and says how to fix it when the connection is refused', async () => {
    // Given a port nobody listens on
    const port = await closedPort();
    const url = `mqtt://127.0.0.1:${port}`;
    // When the simulation runs against it
    const error = await runSimulation({ url, devices: 3, messagesPerDevice: 1 }).catch((e: unknown) => e);
    // Then a SimulatorConnectionError names the URL and what to do
    expect(error).toBeInstanceOf(SimulatorConnectionError);
    expect((error as Error).name).toBe('SimulatorConnectionError');
    expect((error as Error).message).toContain(url);
    expect((error as Error).message).toMatch(/connection refused.*start the broker/s);
    expect(error).toMatchObject({ url, code: 'ECONNREFUSED' });
  });

  it('says the broker refused the client, with the CONNACK code, and ends the devices that did connect', async () => {
    // Given a broker that refuses one of the devices
    const picky = await TestBroker.start({
      aedes: {
        authenticate: (client, _user, _password, done) => {
          if (client.id === 'sim-sensor-0007')
            done(Object.assign(new Error('not authorized'), { returnCode: 5 }), null);
          else done(null, true);
        },
      },
    });
    try {
      // When ten devices connect, two at a time
      const error = await runSimulation(base({ url: picky.url, devices: 10, connectConcurrency: 2 })).catch(
        (e: unknown) => e,
      );
      // Then the error names the device and the CONNACK code, and every device that connected is ended
      expect(error).toBeInstanceOf(SimulatorConnectionError);
      expect((error as Error).message).toMatch(/"sim-sensor-0007".*refused the connection.*code 5/s);
      await expect.poll(() => picky.connectedClients).toBe(0);
      expect(picky.received).toEqual([]);
    } finally {
      await picky.stop();
    }
  });

  it('lists every invalid option at once', async () => {
    // Given options with seven problems
    // When the simulation runs
    const error = await runSimulation({
      url: 'http://localhost',
      devices: 0,
      rate: -1,
      messagesPerDevice: 5,
      durationMs: 1_000,
      faults: { duplicate: 2 },
      topicTemplate: 'sensors/+/telemetry',
    }).catch((e: unknown) => e);
    // Then one SimulatorConfigError lists them all, in order
    expect(error).toBeInstanceOf(SimulatorConfigError);
    expect((error as SimulatorConfigError).problems).toEqual([
      expect.stringMatching(/^url: http:\/\/ is not supported/),
      expect.stringMatching(/^devices: 0 must be a whole number/),
      expect.stringMatching(/^topicTemplate: .* must contain \{deviceId\}/),
      expect.stringMatching(/^topicTemplate: .* must not contain MQTT wildcards/),
      expect.stringMatching(/^rate: -1 must be a positive/),
      expect.stringMatching(/^messagesPerDevice and durationMs: give one or the other/),
      expect.stringMatching(/^faults.duplicate: 2 must be a probability/),
    ]);
  });

  it('refuses AWS IoT Core without certificates, over WebSocket, or faster than 100 publishes/s per connection', async () => {
    // Given AWS IoT Core's endpoint without certificates and too fast, and over WebSocket
    const endpoint = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
    // When the simulation runs with each
    const noCerts = await runSimulation({ url: `mqtts://${endpoint}:8883`, devices: 2, rate: 500 }).catch(
      (e: unknown) => e,
    );
    // Then each refusal names what IoT Core needs
    expect((noCerts as SimulatorConfigError).problems).toEqual([
      expect.stringMatching(/^tls: AWS IoT Core needs client certificates: credentialsDir/),
      expect.stringMatching(/^rate: 500\/s over 2 device\(s\) is 250\/s per connection; AWS IoT Core allows 100/),
    ]);
    const webSocket = await runSimulation({ url: `wss://${endpoint}/mqtt`, devices: 2 }).catch((e: unknown) => e);
    expect((webSocket as SimulatorConfigError).problems).toEqual([expect.stringMatching(/SigV4/)]);
  });

  it('names the devices whose credential files are missing', async () => {
    // Given a credentials directory without the devices' files
    // When the simulation runs
    const error = await runSimulation(
      base({ url: 'mqtts://127.0.0.1:8883', devices: ['a', 'b'], tls: { credentialsDir: '/nonexistent' } }),
    ).catch((e: unknown) => e);
    // Then the problem names the devices to provision
    expect((error as SimulatorConfigError).problems).toEqual([
      expect.stringMatching(
        /^tls.credentialsDir: no certificate.pem.crt and private.pem.key under \/nonexistent\/<id>\/ for a, b: provision them/,
      ),
    ]);
  });
});

describe('runSimulation over TLS with client certificates (as with AWS IoT Core)', () => {
  const devices = ['tls-sensor-1', 'tls-sensor-2'];
  let pki: TestPki;
  let tlsBroker: TestBroker;

  beforeAll(async () => {
    pki = createPki(devices);
    tlsBroker = await TestBroker.start({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca } });
  });
  afterAll(async () => {
    await tlsBroker.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('connects each device with its own certificate from the provisioned layout', async () => {
    // Given a TLS broker and each device's certificate in the provisioned layout, with the CA
    // When two devices send three readings each
    const summary = await runSimulation({
      url: tlsBroker.tlsUrl as string,
      devices,
      messagesPerDevice: 3,
      rate: Number.POSITIVE_INFINITY,
      tls: { credentialsDir: pki.credentialsDir, caFile: pki.caFile },
    });
    // Then all six are acknowledged and each device presented its own certificate
    expect(summary).toMatchObject({ sent: 6, acknowledged: 6 });
    // The broker saw each device present the certificate issued to it
    expect(new Set(tlsBroker.received.map((p) => `${p.clientId}=${p.certificateCn}`))).toEqual(
      new Set(['tls-sensor-1=tls-sensor-1', 'tls-sensor-2=tls-sensor-2']),
    );
  });

  it('says to pass the CA when the broker certificate is not trusted', async () => {
    // Given a TLS broker whose CA is not passed
    // When the simulation runs
    const error = await runSimulation({
      url: tlsBroker.tlsUrl as string,
      devices,
      tls: { credentialsDir: pki.credentialsDir },
    }).catch((e: unknown) => e);
    // Then the error says to pass the CA bundle
    expect(error).toBeInstanceOf(SimulatorConnectionError);
    expect((error as Error).message).toMatch(/TLS handshake failed .*pass its CA bundle as tls.caFile/s);
  });
});

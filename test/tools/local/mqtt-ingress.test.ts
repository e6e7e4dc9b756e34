/** The embedded MQTT broker's stop: no new connection, its clients closed, and no silent connection holding it open. */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { IOT_MAX_PAYLOAD_BYTES } from '../../../contracts/limits';
import { matchRules, type Publish, ruleOutput } from '../../../tools/local/iot-rule';
import { startEmbeddedBroker, subscribeToBroker } from '../../../tools/local/mqtt-ingress';
import { localSettings } from '../../../tools/local/settings';
import { devConfig } from '../../helpers/synth';

/** A TCP connection to `port` on loopback, or undefined when refused. */
const tcp = (port: number) =>
  new Promise<Socket | undefined>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });

describe('startEmbeddedBroker', () => {
  it('stops listening, closes its clients and the connections that never sent CONNECT', async () => {
    // Given the embedded broker with a connected device and a TCP connection that sent nothing
    const ingress = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, () => undefined);
    const port = Number(new URL(ingress.url).port);
    const device = await connectAsync(ingress.url, { clientId: 'sensor-1', reconnectPeriod: 0 });
    const deviceClosed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    // A connection aedes does not know yet: it has sent nothing
    const silent = await tcp(port);
    const silentClosed = new Promise<void>((resolve) => silent?.once('close', () => resolve()));

    // When the broker stops
    await ingress.stop();

    // Then both connections are closed and the port no longer accepts
    await deviceClosed;
    await silentClosed;
    expect(await tcp(port)).toBeUndefined();
  }, 10_000);
});

describe('startEmbeddedBroker: hostile publishes', () => {
  const { rules } = localSettings(devConfig({}));
  const recordingLog = () => {
    const lines: string[] = [];
    return {
      lines,
      log: { warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) },
    };
  };

  it('survives a listener that throws (a 5,000-level payload) and routes the next publish', async () => {
    // Given a broker whose listener runs the rule twin, and throws on the first publish as a bug would
    const seen: string[] = [];
    const { lines, log } = recordingLog();
    let calls = 0;
    const listener = (publish: Publish) => {
      calls++;
      if (calls === 1) throw new RangeError('Maximum call stack size exceeded');
      const [match] = matchRules(rules, publish.topic);
      if (match) seen.push(ruleOutput(match, publish));
    };
    const ingress = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, listener, log);
    const device = await connectAsync(ingress.url, { clientId: 'sensor-1', reconnectPeriod: 0 });
    // nested inside readings, a field the rule projects, so the twin cannot serialise it
    const deep = `{"ts":1,"readings":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    try {
      // When a device publishes the crashing payload, then a deep one, then a normal one
      await device.publishAsync('sensors/sensor-1/telemetry', deep, { qos: 1 });
      await device.publishAsync('sensors/sensor-1/telemetry', deep, { qos: 1 });
      await device.publishAsync('sensors/sensor-1/telemetry', '{"ts":2}', { qos: 1 });
      // Then the broker is still up, said what it dropped, and routed the others (the deep one as it is)
      await expect.poll(() => seen.length).toBe(2);
      expect(seen[0]).toBe(deep);
      expect(lines).toEqual([
        expect.stringMatching(/^error A publish on sensors\/sensor-1\/telemetry could not be routed/),
      ]);
    } finally {
      await device.endAsync();
      await ingress.stop();
    }
  }, 10_000);

  it("refuses a payload over IoT Core's 128 KB, closing the client's connection, and queues nothing", async () => {
    // Given the embedded broker and a connected device
    const seen: Publish[] = [];
    const { lines, log } = recordingLog();
    const ingress = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, (p) => seen.push(p), log);
    const device = await connectAsync(ingress.url, { clientId: 'sensor-2', reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    try {
      // When the device publishes one byte over 128 KB
      device.publish('sensors/sensor-2/telemetry', Buffer.alloc(IOT_MAX_PAYLOAD_BYTES + 1, 0x20), { qos: 1 });
      // Then its connection is closed, nothing is queued, and the refusal is logged
      await closed;
      expect(seen).toEqual([]);
      expect(lines).toEqual([
        expect.stringMatching(/^warn Refused a 131073-byte publish from sensor-2 .*PAYLOAD_LIMIT_EXCEEDED/),
      ]);
      // A payload of exactly the limit goes through
      const again = await connectAsync(ingress.url, { clientId: 'sensor-2', reconnectPeriod: 0 });
      await again.publishAsync('sensors/sensor-2/telemetry', Buffer.alloc(IOT_MAX_PAYLOAD_BYTES, 0x20), { qos: 1 });
      await expect.poll(() => seen.length).toBe(1);
      await again.endAsync();
    } finally {
      device.end(true);
      await ingress.stop();
    }
  }, 10_000);
});

describe('subscribeToBroker: hostile publishes', () => {
  it("drops a message over IoT Core's 128 KB that another broker accepted, with a warning, and routes the rest", async () => {
    // Given a plain broker with no payload limit of its own (as Mosquitto's 256 MB is none here)
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const seen: Publish[] = [];
    const lines: string[] = [];
    const log = { warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
    const ingress = await subscribeToBroker({ url, topics: ['sensors/+/telemetry'] }, (p) => seen.push(p), log);
    const device = await connectAsync(url, { clientId: 'sensor-3', reconnectPeriod: 0 });
    try {
      // When a device publishes one payload over the limit, then one at it
      await device.publishAsync('sensors/sensor-3/telemetry', Buffer.alloc(IOT_MAX_PAYLOAD_BYTES + 1, 0x20), {
        qos: 1,
      });
      await device.publishAsync('sensors/sensor-3/telemetry', Buffer.alloc(IOT_MAX_PAYLOAD_BYTES, 0x20), { qos: 1 });
      // Then only the second reaches the rules, and the first is named in a warning
      await expect.poll(() => seen.length).toBe(1);
      expect(seen[0]?.payload.length).toBe(IOT_MAX_PAYLOAD_BYTES);
      expect(lines).toEqual([
        expect.stringMatching(/^warn Dropped a 131073-byte message on sensors\/sensor-3\/telemetry/),
      ]);
    } finally {
      await device.endAsync();
      await ingress.stop();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      server.close();
    }
  }, 10_000);
});

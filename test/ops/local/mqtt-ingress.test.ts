/** The embedded MQTT broker's stop: no new connection, its clients closed, and no silent connection holding it open. */
import { connect, type Socket } from 'node:net';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../../ops/local/mqtt-ingress';

/** A TCP connection to `port` on loopback, or undefined when refused. */
const tcp = (port: number) =>
  new Promise<Socket | undefined>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });

describe('startEmbeddedBroker', () => {
  it('stops listening, closes its clients and the connections that never sent CONNECT', async () => {
    const ingress = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, () => undefined);
    const port = Number(new URL(ingress.url).port);
    const device = await connectAsync(ingress.url, { clientId: 'sensor-1', reconnectPeriod: 0 });
    const deviceClosed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    // A connection aedes does not know yet: it has sent nothing
    const silent = await tcp(port);
    const silentClosed = new Promise<void>((resolve) => silent?.once('close', () => resolve()));

    await ingress.stop();

    await deviceClosed;
    await silentClosed;
    expect(await tcp(port)).toBeUndefined();
  }, 10_000);
});

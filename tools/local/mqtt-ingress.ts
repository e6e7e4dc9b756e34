/**
 * Where device messages enter on one machine: an embedded MQTT broker (aedes), which knows each publisher's client
 * id as IoT Core does, or a subscription to a broker already running (Mosquitto, HiveMQ), which does not.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { UserError } from '../../contracts/errors';
import { failureDetail } from '../../contracts/failure';
import { IOT_MAX_PAYLOAD_BYTES } from '../../contracts/limits';
import { describeError } from '../../lambdas/shared/errors';
import type { Publish } from './iot-rule';
import type { LocalLog } from './ports';

export interface MqttIngress {
  /** Where devices publish. */
  readonly url: string;
  stop(): Promise<void>;
}

export type PublishListener = (publish: Publish) => void;

const payloadBytes = (payload: Buffer | string): number =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;

/**
 * Hands a publish to the listener, refusing what IoT Core refuses and keeping whatever the listener throws away from
 * the broker's hooks: no device payload may end the process (and with it the in-memory queues).
 */
function deliver(listener: PublishListener, publish: Publish, log: LocalLog | undefined): void {
  try {
    listener(publish);
  } catch (error) {
    log?.error(
      `A publish on ${publish.topic.slice(0, 256)} could not be routed and was dropped: ${failureDetail(describeError(error))}`,
    );
  }
}

/** An MQTT broker on `host:port` (port 0: any free port) that hands every client publish to `listener`. */
export async function startEmbeddedBroker(
  options: { readonly host: string; readonly port: number },
  listener: PublishListener,
  log?: LocalLog,
): Promise<MqttIngress> {
  const aedes = await Aedes.createBroker({
    // As IoT Core does, refuse an oversized PUBLISH: the error closes the client's connection (MQTT 3.1.1 has no
    // reason code to carry), so the device learns of it, and nothing is queued
    authorizePublish: (client, packet, callback) => {
      const bytes = payloadBytes(packet.payload);
      if (bytes <= IOT_MAX_PAYLOAD_BYTES) return callback(null);
      log?.warn(
        `Refused a ${bytes}-byte publish from ${String(client?.id).slice(0, 128)} on ${packet.topic.slice(0, 256)}: over IoT Core's ${IOT_MAX_PAYLOAD_BYTES}-byte payload limit (PAYLOAD_LIMIT_EXCEEDED)`,
      );
      callback(new Error(`PAYLOAD_LIMIT_EXCEEDED: ${bytes} bytes exceeds ${IOT_MAX_PAYLOAD_BYTES}`));
    },
    // Runs for every publish, QoS 0 and 1 alike; the broker's own ($SYS) messages have no client
    published: (packet, client, callback) => {
      if (client)
        deliver(
          listener,
          {
            topic: packet.topic,
            clientId: client.id,
            payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            receivedAt: Date.now(),
          },
          log,
        );
      callback(null);
    },
  });
  const server = createServer(aedes.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await listen(server, options.host, options.port);
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UserError(
        `Port ${options.port} on ${options.host} is in use (another MQTT broker?): pass --mqtt-port <port>, or --mqtt-url mqtt://localhost:${options.port} to take messages from that broker`,
        { cause: error },
      );
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `mqtt://${host}:${port}`,
    stop: async () => {
      // Stop listening first: a device reconnecting must not reach a broker that is closing
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      // aedes closes its clients; a connection that has not sent CONNECT yet is none, and would hold the server open
      // for aedes' connect timeout (30 s)
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      server.off('error', settle);
      server.off('listening', settle);
      if (error) reject(error);
      else resolve();
    };
    server.once('error', settle);
    server.once('listening', settle);
    server.listen(port, host);
  });
}

/** Waits for the client's first CONNACK; rejects on its first error or after `timeoutMs`. */
function connected(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onConnect = () => settle();
    const timer = setTimeout(() => settle(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
    client.once('connect', onConnect);
    client.once('error', settle);
  });
}

/** Subscribes to `topics` on an existing broker (QoS 1) and hands every message to `listener`. */
export async function subscribeToBroker(
  options: { readonly url: string; readonly topics: readonly string[]; readonly connectTimeoutMs?: number },
  listener: PublishListener,
  log: LocalLog,
): Promise<MqttIngress> {
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  const client: MqttClient = connect(options.url, {
    clientId: `telemetry-local-${process.pid}`,
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 1_000,
  });
  try {
    await connected(client, timeoutMs);
    await client.subscribeAsync([...options.topics], { qos: 1 });
  } catch (error) {
    client.end(true);
    throw new UserError(
      `Cannot subscribe at ${options.url} (${(error as Error).message}): start the broker (\`docker compose --profile mqtt up -d mosquitto\`), or leave out --mqtt-url to use the embedded one`,
      { cause: error },
    );
  }
  // mqtt.js reconnects (and subscribes again: clean session, resubscribe on); say so rather than crash on 'error'
  client.on('error', (error) => log.warn(`MQTT ${options.url}: ${error.message}`));
  client.on('offline', () => log.warn(`MQTT ${options.url}: connection lost, reconnecting`));
  client.on('message', (topic, payload) => {
    // Another broker has its own limit (Mosquitto: 256 MB): apply IoT Core's here, where the message would enter
    if (payload.length > IOT_MAX_PAYLOAD_BYTES) {
      log.warn(
        `Dropped a ${payload.length}-byte message on ${topic.slice(0, 256)}: over IoT Core's ${IOT_MAX_PAYLOAD_BYTES}-byte payload limit, which IoT Core refuses (PAYLOAD_LIMIT_EXCEEDED)`,
      );
      return;
    }
    deliver(listener, { topic, clientId: undefined, payload, receivedAt: Date.now() }, log);
  });
  return {
    url: options.url,
    stop: async () => {
      await client.endAsync();
    },
  };
}

/**
 * An embedded MQTT broker (aedes) on loopback with ephemeral ports, recording every publish with the client id
 * that sent it, as IoT Core's rule sees `clientid()` and `topic()`. Plain TCP, optionally WebSocket and TLS.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AedesOptions } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

export interface ReceivedPublish {
  readonly clientId: string;
  readonly topic: string;
  readonly payload: string;
  readonly qos: number;
  /** Broker receive time, epoch ms (IoT's `timestamp()`). */
  readonly receivedAt: number;
  /** Common name of the client certificate, for TLS connections that presented one. */
  readonly certificateCn: string | undefined;
}

export interface BrokerOptions {
  /** aedes hooks: authenticate, preConnect… */
  readonly aedes?: AedesOptions;
  /** Also listen for MQTT over WebSocket. */
  readonly webSocket?: boolean;
  /** Also listen for MQTT over TLS with this server identity; clients must present a certificate signed by `ca`. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly ca: Buffer };
}

export class TestBroker {
  public readonly received: ReceivedPublish[] = [];
  /** Publishes refused by the IoT-Core-like rule: a device may publish only to topics naming itself. */
  public readonly refused: { clientId: string; topic: string }[] = [];
  /** Sockets opened whose client has not completed its CONNECT yet, and the most there ever were at once. */
  public handshaking = 0;
  public maxHandshaking = 0;

  private constructor(
    public readonly aedes: Aedes,
    private readonly servers: (Server | HttpServer)[],
    public readonly url: string,
    public readonly wsUrl: string | undefined,
    public readonly tlsUrl: string | undefined,
  ) {}

  public static async start(options: BrokerOptions = {}): Promise<TestBroker> {
    const aedes = await Aedes.createBroker({
      ...options.aedes,
      // Like the pipeline's IoT policy: publish only to your own topics.
      authorizePublish: (client, packet, callback) => {
        const own = client !== null && packet.topic.split('/').includes(client.id);
        if (!own) broker?.refused.push({ clientId: client?.id ?? '', topic: packet.topic });
        callback(own ? null : new Error('not your topic'));
      },
    });
    let broker: TestBroker | undefined;
    const track = (socket: { once(event: 'close', listener: () => void): unknown }) => {
      if (!broker) return;
      broker.handshaking++;
      broker.maxHandshaking = Math.max(broker.maxHandshaking, broker.handshaking);
      let ready = false;
      const done = () => {
        if (!ready && broker) broker.handshaking--;
        ready = true;
      };
      socket.once('close', done);
      return done;
    };
    const pending = new WeakMap<object, () => void>();
    const tcp = createServer((socket) => {
      const done = track(socket);
      const client = aedes.handle(socket);
      if (done) pending.set(client, done);
    });
    aedes.on('clientReady', (client) => pending.get(client)?.());
    aedes.on('publish', (packet, client) => {
      if (!client) return; // the broker's own $SYS messages
      const socket = (client as unknown as { conn?: TLSSocket }).conn;
      const peer = typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      broker?.received.push({
        clientId: client.id,
        topic: packet.topic,
        payload: packet.payload.toString(),
        qos: packet.qos,
        receivedAt: Date.now(),
        certificateCn: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined,
      });
    });
    const servers: (Server | HttpServer)[] = [tcp];
    const url = `mqtt://127.0.0.1:${await listen(tcp)}`;

    let wsUrl: string | undefined;
    if (options.webSocket) {
      const http = createHttpServer();
      const wss = new WebSocketServer({ server: http });
      wss.on('connection', (socket, request) => aedes.handle(createWebSocketStream(socket), request));
      servers.push(http);
      wsUrl = `ws://127.0.0.1:${await listen(http)}/mqtt`;
    }

    let tlsUrl: string | undefined;
    if (options.tls) {
      const tls = createTlsServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: true,
          rejectUnauthorized: true,
        },
        (socket) => aedes.handle(socket),
      );
      servers.push(tls);
      tlsUrl = `mqtts://127.0.0.1:${await listen(tls)}`;
    }
    broker = new TestBroker(aedes, servers, url, wsUrl, tlsUrl);
    return broker;
  }

  public get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  /** Publishes received from one client, in arrival order. */
  public from(clientId: string): ReceivedPublish[] {
    return this.received.filter((publish) => publish.clientId === clientId);
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

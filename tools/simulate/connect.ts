/**
 * Connecting devices: one mqtt.js client per device, client id = device id (AWS IoT Core's policy only lets a
 * certificate connect as the thing it is attached to), a bounded number of handshakes at a time, and connection
 * failures turned into errors that say what is wrong and how to fix it.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { PipelineError } from '../../contracts/errors';
import { isIotCoreHost } from '../../ops/devices/endpoint';
import { SimulatorConnectionError } from './errors';
import type { DevicePlan, ResolvedOptions } from './options';

/** Thrown inside the connect phase when the run was aborted; never escapes the simulator. */
export class ConnectAborted extends PipelineError {
  public override readonly name = 'ConnectAborted';
}

/**
 * The run's abort signal, seen by every handshake in flight through one listener. A listener per handshake would
 * put `connectConcurrency` (20) listeners on one signal, past Node's limit of 10 per event, which prints a
 * MaxListenersExceededWarning into the progress line.
 */
export class AbortFanOut {
  private readonly callbacks = new Set<() => void>();
  private readonly fire = () => {
    for (const callback of [...this.callbacks]) callback();
  };

  public constructor(private readonly signal: AbortSignal | undefined) {
    signal?.addEventListener('abort', this.fire, { once: true });
  }

  public get aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  /** Calls `callback` on abort; returns the function that unregisters it. */
  public onAbort(callback: () => void): () => void {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }

  public dispose(): void {
    this.signal?.removeEventListener('abort', this.fire);
    this.callbacks.clear();
  }
}

/** What a connected client reports after the handshake (errors, lost connections); set by the simulator. */
export interface ClientEvents {
  onError(deviceId: string, error: Error): void;
  onDisconnect(deviceId: string): void;
}

/**
 * Connects one device. No automatic reconnect during the handshake, so a refused connection fails at once; once
 * connected, mqtt.js reconnects after `reconnectPeriodMs` and re-sends unacknowledged QoS 1 publishes.
 */
export function connectDevice(
  device: DevicePlan,
  options: ResolvedOptions,
  events: ClientEvents,
  abort?: AbortFanOut,
): Promise<MqttClient> {
  const started = Date.now();
  const clientOptions: IClientOptions = {
    clientId: device.id,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: options.connectTimeoutMs,
    keepalive: options.keepaliveSeconds,
    protocolVersion: options.protocolVersion,
    rejectUnauthorized: options.rejectUnauthorized,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(device.cert ? { cert: device.cert } : {}),
    ...(device.key ? { key: device.key } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  };
  return new Promise((resolve, reject) => {
    if (abort?.aborted) {
      reject(new ConnectAborted());
      return;
    }
    const client = connect(options.url, clientOptions);
    let connected = false;
    let lastError: Error | undefined;
    // mqtt.js emits 'error' for socket, TLS and CONNACK failures; an emitter without a listener would throw.
    client.on('error', (error) => {
      if (connected) events.onError(device.id, error);
      else lastError = error;
    });
    const onAbort = () => {
      settle();
      client.end(true);
      reject(new ConnectAborted());
    };
    const settle = () => {
      client.removeListener('connect', onConnect);
      client.removeListener('close', onClose);
      stopWatchingAbort();
    };
    const onConnect = () => {
      settle();
      connected = true;
      // Read by mqtt.js on every close: from now on a lost connection is retried.
      client.options.reconnectPeriod = options.reconnectPeriodMs;
      client.on('close', () => {
        if (!client.disconnecting) events.onDisconnect(device.id);
      });
      resolve(client);
    };
    const onClose = () => {
      settle();
      client.end(true);
      reject(connectionError(options, device.id, lastError, Date.now() - started));
    };
    client.once('connect', onConnect);
    client.once('close', onClose);
    const stopWatchingAbort = abort?.onAbort(onAbort) ?? (() => {});
  });
}

/**
 * Connects every device, at most `concurrency` handshakes at a time. Stops starting new ones at the first failure
 * or on abort; returns the clients that did connect (for the caller to end) and the first failure.
 */
export async function connectFleet(
  devices: readonly DevicePlan[],
  concurrency: number,
  connectOne: (device: DevicePlan) => Promise<MqttClient>,
): Promise<{ clients: MqttClient[]; failure: unknown }> {
  const clients: MqttClient[] = [];
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < devices.length) {
      const device = devices[next++] as DevicePlan;
      try {
        clients.push(await connectOne(device));
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  return { clients, failure };
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** CONNACK return codes (MQTT 3.1.1) and reason codes (MQTT 5) that mean "your credentials or client id". */
const AUTH_CODES = new Set([2, 4, 5, 133, 134, 135, 138, 140]);

function connectionError(
  options: ResolvedOptions,
  clientId: string,
  cause: Error | undefined,
  elapsedMs: number,
): SimulatorConnectionError {
  const url = options.redactedUrl;
  const parsed = new URL(options.url);
  const port = parsed.port || defaultPort(parsed.protocol);
  const iotCore = isIotCoreHost(parsed.hostname);
  const code = (cause as { code?: string | number } | undefined)?.code;
  const prefix = `Cannot connect to ${url} as client "${clientId}"`;
  const iotHint = iotCore
    ? ` With AWS IoT Core this means the certificate is not ACTIVE, has no policy attached that allows iot:Connect for client id "${clientId}", or is not attached to a thing named "${clientId}" (the client id must equal the thing name): check with \`npx telemetry-ops devices list\`, or provision the device again.`
    : '';

  let message: string;
  if (code === 'ECONNREFUSED') {
    message = `${prefix}: connection refused. Nothing listens on ${parsed.hostname}:${port}: start the broker (e.g. \`mosquitto -p ${port}\`) or fix the URL. For AWS IoT Core use mqtts://<endpoint>:8883; \`npx telemetry-ops devices provision\` prints the endpoint.`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    message = `${prefix}: host "${parsed.hostname}" not found (DNS ${code}). Check the host name in the URL${iotCore ? '' : ' (AWS IoT Core: `aws iot describe-endpoint --endpoint-type iot:Data-ATS`)'}.`;
  } else if (typeof code === 'string' && TLS_CODES.test(code)) {
    message = `${prefix}: TLS handshake failed (${code}: ${cause?.message}). ${
      code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')
        ? 'Check that the certificate and key files belong together and that the URL is a TLS port.'
        : "The broker's certificate is not trusted: pass its CA bundle as tls.caFile (AWS IoT Core's ATS endpoint needs none)."
    }`;
  } else if (typeof code === 'number') {
    message = `${prefix}: the broker refused the connection: ${cause?.message} (code ${code}).${
      AUTH_CODES.has(code) ? ' Check the client id, username/password or certificate.' : ''
    }${iotHint}`;
  } else if (code === 'ECONNRESET' || code === 'EPIPE' || cause === undefined) {
    message =
      elapsedMs >= options.connectTimeoutMs
        ? `${prefix}: no CONNACK within ${options.connectTimeoutMs} ms. Is a firewall dropping port ${port}, or is this not an MQTT port?`
        : `${prefix}: the broker closed the connection before accepting it.${iotHint || ' Check the client id and credentials, and that the URL names an MQTT port.'}`;
  } else {
    message = `${prefix}: ${cause.message}${code !== undefined ? ` (${code})` : ''}.`;
  }
  return new SimulatorConnectionError(message, url, clientId, code, { cause });
}

function defaultPort(protocol: string): string {
  return { 'mqtt:': '1883', 'mqtts:': '8883', 'ws:': '80', 'wss:': '443' }[protocol] ?? '?';
}

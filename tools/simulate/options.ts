/**
 * The simulator's options: what a caller may set, the defaults, and one validation that lists every problem.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIotCoreHost } from '../../ops/devices/endpoint';
import { CREDENTIAL_FILES } from '../../ops/devices/files';
import { SimulatorConfigError } from './errors';
import type { FaultRates } from './faults';

/** How devices authenticate over TLS. Files are PEM, as `npx telemetry-ops devices provision` writes them. */
export interface TlsOptions {
  /** CA bundle for a private broker. AWS IoT Core's ATS endpoint is trusted by Node's default store. */
  readonly caFile?: string;
  /** One client certificate for every device (its key in `keyFile`). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /**
   * One certificate per device: `<dir>/<deviceId>/certificate.pem.crt` and `private.pem.key`, the layout that
   * `provisionDevice` writes. Excludes `certFile`/`keyFile`.
   */
  readonly credentialsDir?: string;
  /** Verify the broker's certificate. Turn off only for a throwaway local broker. @default true */
  readonly rejectUnauthorized?: boolean;
}

/** A progress snapshot, handed to {@link SimulationOptions.onProgress}. */
export interface SimulationProgress {
  readonly phase: 'connecting' | 'publishing' | 'draining' | 'done';
  readonly devices: number;
  readonly connected: number;
  /** Publishes issued. */
  readonly sent: number;
  /** Distinct valid readings sent (what `plannedReadings` counts; duplicates and malformed messages are not). */
  readonly readings: number;
  /** QoS 1 publishes the broker acknowledged (PUBACK). */
  readonly acknowledged: number;
  readonly errors: number;
  /** Planned publishes when running for a count (readings only, without fault extras); undefined for a duration. */
  readonly plannedReadings: number | undefined;
  /** How long publishing runs when running for a duration; undefined for a count. */
  readonly durationMs: number | undefined;
  readonly elapsedMs: number;
  /** Since the first publish (0 while connecting). */
  readonly publishingMs: number;
}

export interface SimulationOptions {
  /**
   * Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. AWS IoT Core: `mqtts://<endpoint>:8883` with
   * certificates (see `iotCoreUrl` in ops/devices/endpoint.ts).
   */
  readonly url: string;
  /** A number of devices (ids `<deviceIdPrefix><n>`, n from 1, zero-padded to 4) or the device ids themselves. */
  readonly devices: number | readonly string[];
  /** @default 'sim-sensor-' */
  readonly deviceIdPrefix?: string;
  /** Topic for each device; `{deviceId}` is replaced. @default 'sensors/{deviceId}/telemetry' */
  readonly topicTemplate?: string;
  /** @default 1 */
  readonly qos?: 0 | 1;
  /** Publishes per second across the whole fleet, faults included; `Infinity` for as fast as acks allow. @default 10 */
  readonly rate?: number;
  /** Burst the rate limiter allows after a pause. @default max(2, 5% of a second's messages) */
  readonly burst?: number;
  /** Readings per device (duplicates and malformed messages come on top). Excludes `durationMs`. @default 10 */
  readonly messagesPerDevice?: number;
  /** Publish for this long instead of a count. */
  readonly durationMs?: number;
  /** First `seq` of every device. @default 0 */
  readonly startSeq?: number;
  /** Seed of readings and faults; the summary reports the one used. @default a random one */
  readonly seed?: number;
  readonly faults?: FaultRates;
  readonly tls?: TlsOptions;
  /** For brokers with password authentication (not AWS IoT Core). */
  readonly username?: string;
  readonly password?: string;
  /** @default 4 (MQTT 3.1.1; IoT Core also speaks 5) */
  readonly protocolVersion?: 4 | 5;
  /** Connection attempts in flight at once. @default 20 */
  readonly connectConcurrency?: number;
  /** @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** @default 60 */
  readonly keepaliveSeconds?: number;
  /** Publishes awaiting their callback (PUBACK for QoS 1), fleet-wide, before sending pauses. @default 1_000 */
  readonly maxInFlight?: number;
  /** How long to wait for outstanding acknowledgements at the end. @default 10_000 */
  readonly drainTimeoutMs?: number;
  /** Delay before reconnecting a device that lost its connection mid-run. @default 1_000 */
  readonly reconnectPeriodMs?: number;
  /** Called every `progressIntervalMs` and once at the end. */
  readonly onProgress?: (progress: SimulationProgress) => void;
  /** @default 500 */
  readonly progressIntervalMs?: number;
  /** Stops the run (Ctrl-C): no new publishes, every client ended, a summary with `aborted: true`. */
  readonly signal?: AbortSignal;
  /** Keep a record of everything sent, per device, in the summary (for end-to-end checks). @default false */
  readonly record?: boolean;
  /** Clock for timestamps and rate control. @default Date.now */
  readonly now?: () => number;
}

/** A device as the simulator runs it. */
export interface DevicePlan {
  readonly id: string;
  readonly topic: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The options after validation, with defaults filled and credential files read. */
export interface ResolvedOptions {
  readonly url: string;
  readonly redactedUrl: string;
  readonly devices: readonly DevicePlan[];
  readonly qos: 0 | 1;
  readonly rate: number;
  readonly burst: number;
  readonly messagesPerDevice: number | undefined;
  readonly durationMs: number | undefined;
  readonly startSeq: number;
  readonly seed: number;
  readonly faults: Required<FaultRates>;
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion: 4 | 5;
  readonly connectConcurrency: number;
  readonly connectTimeoutMs: number;
  readonly keepaliveSeconds: number;
  readonly maxInFlight: number;
  readonly drainTimeoutMs: number;
  readonly reconnectPeriodMs: number;
  readonly progressIntervalMs: number;
  readonly record: boolean;
  readonly now: () => number;
}

export const DEFAULT_TOPIC_TEMPLATE = 'sensors/{deviceId}/telemetry';
export const DEFAULT_DEVICE_ID_PREFIX = 'sim-sensor-';

/** AWS IoT Core allows 100 publishes per second per connection. */
export const IOT_CORE_PUBLISHES_PER_CONNECTION = 100;

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const THING_NAME = /^[A-Za-z0-9:_-]{1,128}$/;
const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);

/** Validates, fills defaults, reads certificate files. Throws one {@link SimulatorConfigError} listing every problem. */
export async function resolveOptions(options: SimulationOptions): Promise<ResolvedOptions> {
  const problems: string[] = [];
  const url = parseUrl(options.url, problems);
  const iotCore = url !== undefined && isIotCoreHost(url.hostname);

  const ids = deviceIds(options, problems);
  const topicTemplate = options.topicTemplate ?? DEFAULT_TOPIC_TEMPLATE;
  if (!topicTemplate.includes('{deviceId}')) {
    problems.push(`topicTemplate: "${topicTemplate}" must contain {deviceId}: each device publishes to its own topic`);
  }
  if (/[+#]/.test(topicTemplate)) problems.push(`topicTemplate: "${topicTemplate}" must not contain MQTT wildcards`);

  const qos = options.qos ?? 1;
  if (qos !== 0 && qos !== 1) problems.push(`qos: ${String(qos)} must be 0 or 1`);
  const rate = options.rate ?? 10;
  if (!(rate > 0)) problems.push(`rate: ${rate} must be a positive number of messages per second (or Infinity)`);
  const burst = options.burst ?? Math.max(2, Math.ceil(rate * 0.05));
  if (!(burst >= 1)) problems.push(`burst: ${burst} must be at least 1`);

  if (options.messagesPerDevice !== undefined && options.durationMs !== undefined) {
    problems.push('messagesPerDevice and durationMs: give one or the other');
  }
  const messagesPerDevice = options.durationMs === undefined ? (options.messagesPerDevice ?? 10) : undefined;
  if (messagesPerDevice !== undefined) wholeNumber('messagesPerDevice', messagesPerDevice, 1, problems);
  if (options.durationMs !== undefined && !(options.durationMs > 0)) {
    problems.push(`durationMs: ${options.durationMs} must be positive`);
  }
  const startSeq = options.startSeq ?? 0;
  wholeNumber('startSeq', startSeq, 0, problems);

  const faults = {
    duplicate: options.faults?.duplicate ?? 0,
    outOfOrder: options.faults?.outOfOrder ?? 0,
    malformed: options.faults?.malformed ?? 0,
  };
  for (const [name, value] of Object.entries(faults)) {
    if (!(value >= 0 && value <= 1)) problems.push(`faults.${name}: ${value} must be a probability between 0 and 1`);
  }

  const numbers = {
    connectConcurrency: options.connectConcurrency ?? 20,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    keepaliveSeconds: options.keepaliveSeconds ?? 60,
    maxInFlight: options.maxInFlight ?? 1_000,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    reconnectPeriodMs: options.reconnectPeriodMs ?? 1_000,
    progressIntervalMs: options.progressIntervalMs ?? 500,
  };
  for (const [name, value] of Object.entries(numbers))
    wholeNumber(name, value, name === 'keepaliveSeconds' ? 0 : 1, problems);
  const protocolVersion = options.protocolVersion ?? 4;
  if (protocolVersion !== 4 && protocolVersion !== 5)
    problems.push(`protocolVersion: ${String(protocolVersion)} must be 4 or 5`);

  const tls = options.tls ?? {};
  if (tls.credentialsDir !== undefined && (tls.certFile !== undefined || tls.keyFile !== undefined)) {
    problems.push(
      'tls: give credentialsDir (one certificate per device) or certFile and keyFile (one for all), not both',
    );
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push('tls: certFile and keyFile go together');
  }
  const clientCertificates = tls.credentialsDir !== undefined || tls.certFile !== undefined;
  if (url && clientCertificates && !['mqtts:', 'wss:'].includes(url.protocol)) {
    problems.push(`tls: client certificates need a TLS URL (mqtts://), not ${url.protocol}//`);
  }
  if (iotCore) {
    if (url?.protocol !== 'mqtts:') {
      problems.push(
        `url: AWS IoT Core takes X.509 client certificates over mqtts://<endpoint>:8883 (WebSockets there need SigV4 signing, which the simulator does not do); got ${url?.protocol}//`,
      );
    } else if (!clientCertificates) {
      problems.push(
        'tls: AWS IoT Core needs client certificates: credentialsDir (from `npx telemetry-ops devices provision`) or certFile and keyFile',
      );
    }
    const fleet = ids.length;
    if (fleet > 0 && Number.isFinite(rate) && rate / fleet > IOT_CORE_PUBLISHES_PER_CONNECTION) {
      problems.push(
        `rate: ${rate}/s over ${fleet} device(s) is ${Math.ceil(rate / fleet)}/s per connection; AWS IoT Core allows ${IOT_CORE_PUBLISHES_PER_CONNECTION}: use more devices or a lower rate`,
      );
    }
  }

  // Files last: their problems join the others, so one run shows everything to fix.
  const files = await readCredentials(tls, ids, problems);
  if (problems.length > 0) throw new SimulatorConfigError(problems);

  const devices = ids.map((id, index): DevicePlan => {
    const perDevice = files.perDevice[index];
    const cert = perDevice?.cert ?? files.cert;
    const key = perDevice?.key ?? files.key;
    return {
      id,
      topic: topicTemplate.replaceAll('{deviceId}', id),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    };
  });
  return {
    url: options.url,
    redactedUrl: redactUrl(options.url),
    devices,
    qos,
    rate,
    burst,
    messagesPerDevice,
    durationMs: options.durationMs,
    startSeq,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
    faults,
    ...(files.ca ? { ca: files.ca } : {}),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    protocolVersion,
    ...numbers,
    record: options.record ?? false,
    now: options.now ?? Date.now,
  };
}

function parseUrl(text: string, problems: string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`url: "${text}" is not a URL; expected e.g. mqtt://localhost:1883 or mqtts://<endpoint>:8883`);
    return undefined;
  }
  if (!PROTOCOLS.has(url.protocol)) {
    problems.push(`url: ${url.protocol}// is not supported; use mqtt://, mqtts://, ws:// or wss://`);
    return undefined;
  }
  return url;
}

function deviceIds(options: SimulationOptions, problems: string[]): string[] {
  let ids: string[];
  if (typeof options.devices === 'number') {
    if (!wholeNumber('devices', options.devices, 1, problems)) return [];
    const prefix = options.deviceIdPrefix ?? DEFAULT_DEVICE_ID_PREFIX;
    const width = Math.max(4, String(options.devices).length);
    ids = Array.from({ length: options.devices }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
  } else {
    ids = [...options.devices];
    if (ids.length === 0) problems.push('devices: at least one device id is required');
  }
  const invalid = ids.filter((id) => !THING_NAME.test(id));
  if (invalid.length > 0) {
    problems.push(
      `devices: ${invalid.slice(0, 3).join(', ')}${invalid.length > 3 ? ', …' : ''} not a valid client id / IoT thing name ([A-Za-z0-9:_-], 1–128)`,
    );
  }
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicates.length > 0) {
    problems.push(
      `devices: ${[...new Set(duplicates)].slice(0, 3).join(', ')} listed twice: client ids must be unique`,
    );
  }
  return ids;
}

function wholeNumber(name: string, value: number, min: number, problems: string[]): boolean {
  if (Number.isInteger(value) && value >= min) return true;
  problems.push(`${name}: ${value} must be a whole number ≥ ${min}`);
  return false;
}

interface CredentialFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  perDevice: ({ cert: Buffer; key: Buffer } | undefined)[];
}

async function readCredentials(tls: TlsOptions, ids: readonly string[], problems: string[]): Promise<CredentialFiles> {
  const read = async (what: string, path: string): Promise<Buffer | undefined> => {
    try {
      return await readFile(path);
    } catch (error) {
      problems.push(
        `${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
      return undefined;
    }
  };
  const files: CredentialFiles = { perDevice: [] };
  if (tls.caFile !== undefined) files.ca = await read('tls.caFile', tls.caFile);
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    files.cert = await read('tls.certFile', tls.certFile);
    files.key = await read('tls.keyFile', tls.keyFile);
  }
  const dir = tls.credentialsDir;
  if (dir !== undefined && tls.certFile === undefined) {
    const missing: string[] = [];
    files.perDevice = await Promise.all(
      ids.map(async (id) => {
        try {
          const [cert, key] = await Promise.all([
            readFile(join(dir, id, CREDENTIAL_FILES.certificate)),
            readFile(join(dir, id, CREDENTIAL_FILES.privateKey)),
          ]);
          return { cert, key };
        } catch {
          missing.push(id);
          return undefined;
        }
      }),
    );
    if (missing.length > 0) {
      problems.push(
        `tls.credentialsDir: no ${CREDENTIAL_FILES.certificate} and ${CREDENTIAL_FILES.privateKey} under ${dir}/<id>/ for ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: provision them with \`npx telemetry-ops devices provision <name>\``,
      );
    }
  }
  return files;
}

/**
 * `resolveOptions` (tools/simulate/options.ts): the defaults it fills, the files it reads, and every refusal, one row
 * each. AWS IoT Core's limits the rows check: "Publish requests per second per connection: 100" (AWS IoT Core
 * endpoints and quotas, message broker limits, https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits)
 * and thing names "Length Constraints: Minimum length of 1. Maximum length of 128. Pattern: [a-zA-Z0-9:_-]+" (AWS IoT
 * API Reference, CreateThing, https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_FILES } from '../../../ops/devices/files';
import { SimulatorConfigError } from '../../../tools/simulate/errors';
import { redactUrl, resolveOptions, type SimulationOptions } from '../../../tools/simulate/options';

const LOCAL = 'mqtt://localhost:1883';
const IOT_CORE = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';

let dir: string;
/** A file under the temporary directory, which holds `ca.pem`, `cert.pem`, `key.pem` and `creds/<id>/…`. */
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'simulate-options-'));
  writeFileSync(file('ca.pem'), 'CA');
  writeFileSync(file('cert.pem'), 'CERT');
  writeFileSync(file('key.pem'), 'KEY');
  for (const id of ['dev-1', 'dev-2']) {
    mkdirSync(join(dir, 'creds', id), { recursive: true });
    writeFileSync(join(dir, 'creds', id, CREDENTIAL_FILES.certificate), `CERT ${id}`);
    writeFileSync(join(dir, 'creds', id, CREDENTIAL_FILES.privateKey), `KEY ${id}`);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems `resolveOptions` lists, or [] when it accepts. */
async function problems(options: SimulationOptions): Promise<readonly string[]> {
  try {
    await resolveOptions(options);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(SimulatorConfigError);
    return (error as SimulatorConfigError).problems;
  }
}

describe('resolveOptions fills the defaults', () => {
  it('for a number of devices on a local broker', async () => {
    // Given only a URL and a fleet size
    // When the options are resolved
    const resolved = await resolveOptions({ url: LOCAL, devices: 2 });
    // Then every default is filled in, devices numbered from 1 and zero-padded to 4
    expect(resolved).toEqual({
      url: LOCAL,
      redactedUrl: LOCAL,
      devices: [
        { id: 'sim-sensor-0001', topic: 'sensors/sim-sensor-0001/telemetry' },
        { id: 'sim-sensor-0002', topic: 'sensors/sim-sensor-0002/telemetry' },
      ],
      qos: 1,
      rate: 10,
      burst: 2,
      messagesPerDevice: 10,
      durationMs: undefined,
      startSeq: 0,
      seed: expect.any(Number),
      faults: { duplicate: 0, outOfOrder: 0, malformed: 0 },
      rejectUnauthorized: true,
      protocolVersion: 4,
      connectConcurrency: 20,
      connectTimeoutMs: 10_000,
      keepaliveSeconds: 60,
      maxInFlight: 1_000,
      drainTimeoutMs: 10_000,
      reconnectPeriodMs: 1_000,
      progressIntervalMs: 500,
      record: false,
      now: Date.now,
    });
  });

  it.each<{ name: string; options: Partial<SimulationOptions>; expected: Record<string, unknown> }>([
    { name: 'a burst of 5% of a second at high rates', options: { rate: 1_000 }, expected: { burst: 50 } },
    { name: 'a burst of at least 2 at low rates', options: { rate: 1 }, expected: { burst: 2 } },
    { name: 'an unlimited rate', options: { rate: Number.POSITIVE_INFINITY }, expected: { burst: Infinity } },
    {
      name: 'a duration instead of a count',
      options: { durationMs: 5_000 },
      expected: { messagesPerDevice: undefined, durationMs: 5_000 },
    },
    { name: 'a zero keepalive (off)', options: { keepaliveSeconds: 0 }, expected: { keepaliveSeconds: 0 } },
    { name: 'a fixed seed', options: { seed: 42 }, expected: { seed: 42 } },
    {
      name: 'the password hidden in the URL for messages',
      options: { url: 'mqtt://user:secret@localhost:1883' },
      expected: { url: 'mqtt://user:secret@localhost:1883', redactedUrl: 'mqtt://user:***@localhost:1883' },
    },
    {
      name: 'wider numbers for a fleet over 9999',
      options: { devices: 10_000, deviceIdPrefix: 'd-' },
      expected: { devices: expect.arrayContaining([{ id: 'd-00001', topic: 'sensors/d-00001/telemetry' }]) },
    },
    {
      name: 'every {deviceId} of the template replaced',
      options: { devices: ['a'], topicTemplate: 'fleet/{deviceId}/x/{deviceId}' },
      expected: { devices: [{ id: 'a', topic: 'fleet/a/x/a' }] },
    },
    {
      name: 'IoT Core at exactly 100 publishes/s per connection',
      options: {
        url: `mqtts://${IOT_CORE}:8883`,
        devices: ['dev-1', 'dev-2'],
        rate: 200,
        tls: { credentialsDir: 'creds' },
      },
      expected: { rate: 200 },
    },
    {
      name: 'IoT Core with an unlimited rate (acknowledgements pace it)',
      options: {
        url: `mqtts://${IOT_CORE}:8883`,
        devices: ['dev-1'],
        rate: Number.POSITIVE_INFINITY,
        tls: { credentialsDir: 'creds' },
      },
      expected: { rate: Infinity },
    },
  ])('with $name', async ({ options, expected }) => {
    // Given a local broker and one device, changed by the row (a credentials dir under the temporary directory)
    const tls = options.tls?.credentialsDir ? { tls: { credentialsDir: file(options.tls.credentialsDir) } } : {};
    // When the options are resolved
    const resolved = await resolveOptions({ url: LOCAL, devices: 1, ...options, ...tls });
    // Then the row's fields come out as expected
    expect(resolved).toMatchObject(expected);
  });
});

describe('resolveOptions reads the credential files', () => {
  it('one certificate for every device, and a CA', async () => {
    // Given a TLS broker, a CA bundle and one client certificate and key
    const tls = { caFile: file('ca.pem'), certFile: file('cert.pem'), keyFile: file('key.pem') };
    // When the options are resolved for two devices
    const resolved = await resolveOptions({ url: 'mqtts://localhost:8883', devices: 2, tls });
    // Then both devices carry the same certificate and key, and the CA is read
    expect(resolved.ca?.toString()).toBe('CA');
    expect(resolved.devices.map((d) => [d.cert?.toString(), d.key?.toString()])).toEqual([
      ['CERT', 'KEY'],
      ['CERT', 'KEY'],
    ]);
  });

  it('one certificate per device from a credentials directory', async () => {
    // Given the layout `devices provision` writes, for two devices
    const tls = { credentialsDir: file('creds'), rejectUnauthorized: false };
    // When the options are resolved for them
    const resolved = await resolveOptions({ url: 'wss://localhost:8443', devices: ['dev-1', 'dev-2'], tls });
    // Then each device carries its own certificate and key, and the verification switch is kept
    expect(resolved.devices.map((d) => [d.id, d.cert?.toString(), d.key?.toString()])).toEqual([
      ['dev-1', 'CERT dev-1', 'KEY dev-1'],
      ['dev-2', 'CERT dev-2', 'KEY dev-2'],
    ]);
    expect(resolved.rejectUnauthorized).toBe(false);
  });
});

describe('resolveOptions refuses', () => {
  const iotCoreSigV4 = (protocol: string) =>
    `url: AWS IoT Core takes X.509 client certificates over mqtts://<endpoint>:8883 (WebSockets there need SigV4 signing, which the simulator does not do); got ${protocol}//`;
  const iotCoreCertificates =
    'tls: AWS IoT Core needs client certificates: credentialsDir (from `npx telemetry-ops devices provision`) or certFile and keyFile';

  it.each<{ name: string; options: Partial<SimulationOptions>; problems: unknown[] }>([
    // The broker URL
    {
      name: 'a URL that does not parse',
      options: { url: '//localhost:1883' },
      problems: [
        'url: "//localhost:1883" is not a URL; expected e.g. mqtt://localhost:1883 or mqtts://<endpoint>:8883',
      ],
    },
    {
      name: 'a protocol that is not MQTT',
      options: { url: 'http://localhost:1883' },
      problems: ['url: http:// is not supported; use mqtt://, mqtts://, ws:// or wss://'],
    },
    // The fleet
    { name: 'no devices', options: { devices: 0 }, problems: ['devices: 0 must be a whole number ≥ 1'] },
    { name: 'a fractional fleet', options: { devices: 1.5 }, problems: ['devices: 1.5 must be a whole number ≥ 1'] },
    { name: 'an empty id list', options: { devices: [] }, problems: ['devices: at least one device id is required'] },
    {
      name: 'an id that is no thing name',
      options: { devices: ['ok', 'has space'] },
      problems: ['devices: has space not a valid client id / IoT thing name ([A-Za-z0-9:_-], 1–128)'],
    },
    {
      name: 'an id of 129 characters',
      options: { devices: ['x'.repeat(129)] },
      problems: [`devices: ${'x'.repeat(129)} not a valid client id / IoT thing name ([A-Za-z0-9:_-], 1–128)`],
    },
    {
      name: 'more than three bad ids (three named)',
      options: { devices: ['a/1', 'a/2', 'a/3', 'a/4'] },
      problems: ['devices: a/1, a/2, a/3, … not a valid client id / IoT thing name ([A-Za-z0-9:_-], 1–128)'],
    },
    {
      name: 'a prefix that makes bad ids',
      options: { devices: 1, deviceIdPrefix: 'sim sensor ' },
      problems: ['devices: sim sensor 0001 not a valid client id / IoT thing name ([A-Za-z0-9:_-], 1–128)'],
    },
    {
      name: 'an id listed twice',
      options: { devices: ['a', 'b', 'a'] },
      problems: ['devices: a listed twice: client ids must be unique'],
    },
    // The topic
    {
      name: 'a template without {deviceId}',
      options: { topicTemplate: 'sensors/telemetry' },
      problems: ['topicTemplate: "sensors/telemetry" must contain {deviceId}: each device publishes to its own topic'],
    },
    {
      name: 'a template with a wildcard',
      options: { topicTemplate: 'sensors/{deviceId}/#' },
      problems: ['topicTemplate: "sensors/{deviceId}/#" must not contain MQTT wildcards'],
    },
    // Rates and counts
    { name: 'QoS 2', options: { qos: 2 as 1 }, problems: ['qos: 2 must be 0 or 1'] },
    {
      name: 'a zero rate',
      options: { rate: 0 },
      problems: ['rate: 0 must be a positive number of messages per second (or Infinity)'],
    },
    {
      name: 'a rate that is not a number',
      options: { rate: Number.NaN },
      // The default burst is derived from the rate, so it is refused too
      problems: [
        'rate: NaN must be a positive number of messages per second (or Infinity)',
        'burst: NaN must be at least 1',
      ],
    },
    { name: 'a burst under 1', options: { burst: 0.5 }, problems: ['burst: 0.5 must be at least 1'] },
    {
      name: 'a count and a duration',
      options: { messagesPerDevice: 5, durationMs: 1_000 },
      problems: ['messagesPerDevice and durationMs: give one or the other'],
    },
    {
      name: 'no readings per device',
      options: { messagesPerDevice: 0 },
      problems: ['messagesPerDevice: 0 must be a whole number ≥ 1'],
    },
    { name: 'a zero duration', options: { durationMs: 0 }, problems: ['durationMs: 0 must be positive'] },
    { name: 'a negative first seq', options: { startSeq: -1 }, problems: ['startSeq: -1 must be a whole number ≥ 0'] },
    {
      name: 'fault rates outside 0–1',
      options: { faults: { duplicate: 1.5, outOfOrder: -0.1, malformed: Number.NaN } },
      problems: [
        'faults.duplicate: 1.5 must be a probability between 0 and 1',
        'faults.outOfOrder: -0.1 must be a probability between 0 and 1',
        'faults.malformed: NaN must be a probability between 0 and 1',
      ],
    },
    // Connection tuning
    {
      name: 'a zero connect concurrency',
      options: { connectConcurrency: 0 },
      problems: ['connectConcurrency: 0 must be a whole number ≥ 1'],
    },
    {
      name: 'a negative keepalive',
      options: { keepaliveSeconds: -1 },
      problems: ['keepaliveSeconds: -1 must be a whole number ≥ 0'],
    },
    {
      name: 'a fractional in-flight window',
      options: { maxInFlight: 1.5 },
      problems: ['maxInFlight: 1.5 must be a whole number ≥ 1'],
    },
    {
      name: 'zero timeouts and periods',
      options: { connectTimeoutMs: 0, drainTimeoutMs: 0, reconnectPeriodMs: 0, progressIntervalMs: 0 },
      problems: [
        'connectTimeoutMs: 0 must be a whole number ≥ 1',
        'drainTimeoutMs: 0 must be a whole number ≥ 1',
        'reconnectPeriodMs: 0 must be a whole number ≥ 1',
        'progressIntervalMs: 0 must be a whole number ≥ 1',
      ],
    },
    { name: 'MQTT 3.1', options: { protocolVersion: 3 as 4 }, problems: ['protocolVersion: 3 must be 4 or 5'] },
    // TLS and credentials
    {
      name: 'a credentials dir and one certificate',
      options: {
        url: 'mqtts://localhost:8883',
        tls: { credentialsDir: 'creds', certFile: 'cert.pem', keyFile: 'key.pem' },
      },
      problems: [
        'tls: give credentialsDir (one certificate per device) or certFile and keyFile (one for all), not both',
      ],
    },
    {
      name: 'a certificate without its key',
      options: { url: 'mqtts://localhost:8883', tls: { certFile: 'cert.pem' } },
      problems: ['tls: certFile and keyFile go together'],
    },
    {
      name: 'a key without its certificate',
      options: { url: 'mqtts://localhost:8883', tls: { keyFile: 'key.pem' } },
      problems: ['tls: certFile and keyFile go together'],
    },
    {
      name: 'client certificates over plain MQTT',
      options: { tls: { certFile: 'cert.pem', keyFile: 'key.pem' } },
      problems: ['tls: client certificates need a TLS URL (mqtts://), not mqtt://'],
    },
    {
      name: 'a credentials dir over plain WebSocket',
      options: { url: 'ws://localhost:8080', devices: ['dev-1'], tls: { credentialsDir: 'creds' } },
      problems: ['tls: client certificates need a TLS URL (mqtts://), not ws://'],
    },
    {
      name: 'a CA file that cannot be read',
      options: { url: 'mqtts://localhost:8883', tls: { caFile: 'missing-ca.pem' } },
      problems: ['tls.caFile: cannot read <dir>/missing-ca.pem (ENOENT)'],
    },
    {
      name: 'certificate and key files that cannot be read',
      options: { url: 'mqtts://localhost:8883', tls: { certFile: 'missing.crt', keyFile: 'missing.key' } },
      problems: [
        'tls.certFile: cannot read <dir>/missing.crt (ENOENT)',
        'tls.keyFile: cannot read <dir>/missing.key (ENOENT)',
      ],
    },
    {
      name: 'devices missing from the credentials dir',
      options: { url: 'mqtts://localhost:8883', devices: ['dev-1', 'dev-3'], tls: { credentialsDir: 'creds' } },
      problems: [
        'tls.credentialsDir: no certificate.pem.crt and private.pem.key under <dir>/creds/<id>/ for dev-3: provision them with `npx telemetry-ops devices provision <name>`',
      ],
    },
    {
      name: 'more than three devices missing (three named, the rest counted)',
      options: { url: 'mqtts://localhost:8883', devices: 5, tls: { credentialsDir: 'creds' } },
      // Which three come first depends on which reads fail first
      problems: [
        expect.stringMatching(
          /^tls\.credentialsDir: no certificate\.pem\.crt and private\.pem\.key under <dir>\/creds\/<id>\/ for (sim-sensor-000[1-5], ){2}sim-sensor-000[1-5] and 2 more: provision them with `npx telemetry-ops devices provision <name>`$/,
        ),
      ],
    },
    // AWS IoT Core
    {
      name: 'IoT Core without client certificates',
      options: { url: `mqtts://${IOT_CORE}:8883` },
      problems: [iotCoreCertificates],
    },
    { name: 'IoT Core over WebSocket', options: { url: `wss://${IOT_CORE}/mqtt` }, problems: [iotCoreSigV4('wss:')] },
    {
      name: 'IoT Core over plain MQTT',
      options: { url: `mqtt://${IOT_CORE}:1883` },
      problems: [iotCoreSigV4('mqtt:')],
    },
    {
      name: 'IoT Core one publish/s over 100 per connection',
      options: {
        url: `mqtts://${IOT_CORE}:8883`,
        devices: ['dev-1', 'dev-2'],
        rate: 201,
        tls: { credentialsDir: 'creds' },
      },
      problems: [
        'rate: 201/s over 2 device(s) is 101/s per connection; AWS IoT Core allows 100: use more devices or a lower rate',
      ],
    },
    // Everything at once
    {
      name: 'every problem in one run',
      options: { url: 'http://localhost', devices: 0, rate: -1, qos: 2 as 1, tls: { caFile: 'missing-ca.pem' } },
      problems: [
        'url: http:// is not supported; use mqtt://, mqtts://, ws:// or wss://',
        'devices: 0 must be a whole number ≥ 1',
        'qos: 2 must be 0 or 1',
        'rate: -1 must be a positive number of messages per second (or Infinity)',
        'tls.caFile: cannot read <dir>/missing-ca.pem (ENOENT)',
      ],
    },
  ])('$name', async ({ options, problems: expected }) => {
    // Given a local broker and one device, changed by the row (file names under the temporary directory)
    const tls = options.tls && {
      tls: Object.fromEntries(
        Object.entries(options.tls).map(([key, value]) => [key, typeof value === 'string' ? file(value) : value]),
      ),
    };
    // When the options are resolved
    const listed = await problems({ url: LOCAL, devices: 1, ...options, ...tls });
    // Then one SimulatorConfigError lists exactly the row's problems, in order
    expect(listed.map((problem) => problem.replaceAll(dir, '<dir>'))).toEqual(expected);
  });
});

describe('redactUrl', () => {
  it.each([
    ['mqtt://localhost:1883', 'mqtt://localhost:1883'],
    ['mqtt://user:secret@localhost:1883', 'mqtt://user:***@localhost:1883'],
    ['mqtt://user@localhost:1883', 'mqtt://user@localhost:1883'],
    ['wss://broker.example/mqtt', 'wss://broker.example/mqtt'],
    ['not a url', 'not a url'],
  ])('%s reads as %s', (url, shown) => {
    // Given a broker URL as the user gave it
    // When it is prepared for a message
    // Then any password is hidden and nothing else changes
    expect(redactUrl(url)).toBe(shown);
  });
});

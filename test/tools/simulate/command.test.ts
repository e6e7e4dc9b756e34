/**
 * `simulate` as a command (tools/simulate/command.ts): on a terminal, what the progress line shows in each phase;
 * options that cannot go together; a topic the pipeline would not pick up; no process warnings with a fleet larger
 * than ten; a JSON summary, and one line when the broker is not there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from '../../helpers/cli';
import { TestBroker } from './mqtt-broker';

/** What a terminal would show last on each line: cli-progress redraws a line from its first column (`ESC [1G`). */
const screen = (stderr: string) =>
  stderr
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what is read here
    .replace(/\u001b\[\d*G/g, '\r')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what is stripped here
    .replace(/\u001b(\[[0-9;?]*[A-Za-z]|[78])/g, '')
    .split('\n')
    .map((line) => line.split('\r').filter(Boolean).at(-1) ?? '')
    .filter(Boolean);

let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start();
});
afterAll(() => broker.stop());
afterEach(() => vi.restoreAllMocks());

describe('simulate on a terminal', () => {
  it('connects 40 devices, 20 handshakes at a time: shows devices connected of 40, and no process warning', async () => {
    // Given a broker slow to accept connections (so many handshakes are in flight, and the connecting line shows)
    const slow = await TestBroker.start({
      aedes: { preConnect: (_client, _packet, done) => setTimeout(() => done(null, true), 400) },
    });
    const emitWarning = vi.spyOn(process, 'emitWarning');
    try {
      // When 40 devices connect, with Ctrl-C wired (the abort signal every handshake watches)
      const result = await cli(
        ['simulate', '--url', slow.url, '--devices', '40', '--messages', '1', '--rate', 'Infinity'],
        { signal: new AbortController().signal, tty: true },
      );

      // Then no MaxListenersExceededWarning (or any other) garbles the line, which counts devices of the fleet
      expect(result.code).toBe(0);
      expect(emitWarning.mock.calls.map(([warning]) => String(warning))).toEqual([]);
      expect(screen(result.stderr)[0]).toMatch(/^connecting \[[^\]]+\] \d+\/40 devices \d+% \| /);
      expect(result.stdout).toMatch(/devices: +40\/40 connected/);
    } finally {
      await slow.stop();
    }
  });

  it('shows devices connected, then readings against the planned total, never a bar over 0', async () => {
    // Given the test broker and a terminal
    // When four devices send five readings each, with duplicates on top
    const result = await cli(
      ['simulate', '--url', broker.url, '--devices', '4', '--messages', '5', '--rate', '20', '--duplicates', '0.5'],
      { tty: true },
    );

    // Then the progress line never shows a total of 0 and ends at 20 of 20 readings
    expect(result.code).toBe(0);
    const lines = screen(result.stderr);
    expect(lines.join('\n')).not.toMatch(/\/0\b/);
    expect(lines.at(-1)).toMatch(/^publishing \[[^\]]+\] 20\/20 readings 100% \| sent \d+, acknowledged \d+ \| /);
  });

  it('shows the time published against --duration, not a count against an unknown total', async () => {
    // Given the test broker and a terminal
    // When two devices publish for 1.2 s
    const result = await cli(['simulate', '--url', broker.url, '--devices', '2', '--duration', '1.2', '--rate', '10'], {
      tty: true,
    });

    // Then the progress line counts seconds against the duration, not readings against a total
    expect(result.code).toBe(0);
    const lines = screen(result.stderr);
    expect(lines.join('\n')).not.toMatch(/\/0\b/);
    expect(lines.at(-1)).toMatch(/^publishing \[[^\]]+\] 1\.2\/1\.2 s 100% \| sent 1\d, acknowledged 1\d \| /);
  });
});

describe('simulate refuses options that cannot go together, in one line, before connecting', () => {
  it.each([
    [
      ['--messages', '5', '--duration', '10'],
      "error: option '--duration <seconds>' cannot be used with option '-n, --messages <n>'",
    ],
    [
      ['--devices', '3', '--device-ids', 'a,b'],
      "error: option '--device-ids <ids>' cannot be used with option '-d, --devices <n>'",
    ],
  ])('%j', async (options, message) => {
    // Given options that exclude each other
    const before = broker.received.length;

    // When simulate runs with them
    const result = await cli(['simulate', '--url', broker.url, ...options]);

    // Then commander refuses them in one line and nothing was published
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(message);
    expect(broker.received.length).toBe(before);
  });
});

describe('simulate --topic', () => {
  const oneReadingTo = (topic: string) =>
    cli(['simulate', '--url', broker.url, '--devices', '1', '--messages', '1', '--topic', topic]);

  it('warns when the topic matches none of the configured topic filters, and still publishes', async () => {
    // Given a topic template no configured filter matches
    // When one reading is sent to it
    const result = await oneReadingTo('devices/{deviceId}/data');

    // Then it is published, with one note that the pipeline will not pick it up
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/acknowledged: +1/);
    expect(result.stderr).toBe(
      'note: topic devices/sim-sensor-0001/data matches no topic filter of iot.topicFilters (sensors/+/telemetry), directly or through Basic Ingest: the pipeline will not pick these readings up\n',
    );
  });

  it('says nothing for a topic a filter matches, directly or through Basic Ingest', async () => {
    // Given topics a configured filter matches, directly and through Basic Ingest
    // When one reading is sent to each
    const direct = await oneReadingTo('sensors/{deviceId}/telemetry');
    const basicIngest = await oneReadingTo('$aws/rules/TelemetryPipeline_dev_1/sensors/{deviceId}/telemetry');

    // Then no note is printed
    expect(direct.stderr).toBe('');
    expect(basicIngest.stderr).toBe('');
  });
});

describe('simulate', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start();
  });
  afterAll(() => broker.stop());

  it('publishes every device’s readings to its topic from the configured filter and prints a summary', async () => {
    // Given a broker of its own
    // When three devices send four readings each as fast as acknowledgements allow
    const result = await cli([
      'simulate',
      '--url',
      broker.url,
      '--devices',
      '3',
      '--messages',
      '4',
      '--rate',
      'Infinity',
      '--seed',
      '7',
      '--json',
    ]);

    // Then the JSON summary counts them, and each device published to its own topic
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ devices: 3, connected: 3, sent: 12, readings: 12, acknowledged: 12, seed: 7 });
    const topics = new Set(broker.received.map((publish) => `${publish.clientId} ${publish.topic}`));
    expect([...topics].sort()).toEqual([
      'sim-sensor-0001 sensors/sim-sensor-0001/telemetry',
      'sim-sensor-0002 sensors/sim-sensor-0002/telemetry',
      'sim-sensor-0003 sensors/sim-sensor-0003/telemetry',
    ]);
  });

  it('says in one line when the broker is not there', async () => {
    // Given a broker URL nobody listens on
    // When simulate runs
    const result = await cli(['simulate', '--url', 'mqtt://127.0.0.1:1', '--devices', '1', '--messages', '1']);
    // Then it fails with one line naming the address, no stack trace
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*127\.0\.0\.1:1/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

/**
 * `telemetry-ops local` as a newcomer runs it, in-process: no MONGODB_URI (the in-memory store), no KAFKA_BROKERS
 * (the mock cluster), the bundled functions in worker threads. `--demo --duration` runs the built-in fleet and ends
 * with an accounted summary; a running `local` shows every dead letter to `failures list --local`, and serves the
 * sensor-data dashboard over its in-memory store.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '../../../contracts/failure';
import { DEMO_FLEET } from '../../../tools/local/demo-fleet';
import type { ServeSummary } from '../../../tools/local/serve';
import { cli, configDir, Recorder } from '../../helpers/cli';
import { devicePayload } from '../../helpers/factories';

const logFileIn = () => join(mkdtempSync(join(tmpdir(), 'local-demo-')), 'functions.log');

describe('telemetry-ops local --demo --duration', () => {
  it('runs the fleet through the bundled functions and the in-memory store, accounts for every acknowledged reading, exits 0', async () => {
    // Given the demo fleet with a seed, the functions' logs to a file, no dashboard
    const logFile = logFileIn();

    // When `local --demo --duration 3` runs
    const run = await cli(
      [
        'local',
        '--demo',
        '--duration',
        '3',
        '--seed',
        '7',
        '--mqtt-port',
        '0',
        '--log-file',
        logFile,
        '--no-dashboard',
        '--json',
      ],
      { environment: {}, configDir: configDir({ stackName: 'DemoDuration' }) },
    );

    // Then it exits 0 with every acknowledged reading accounted for, every fault sent and every malformed message parked
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as ServeSummary;
    const { fleet, counters, stored } = summary;
    expect(summary.store).toBe('in-memory');
    expect(summary.accounting).toEqual({ complete: true, problems: [] });
    // The seed gives a fleet with every fault in it
    expect(fleet?.duplicates).toBeGreaterThan(0);
    expect(fleet?.outOfOrder).toBeGreaterThan(0);
    expect(fleet?.malformed).toBeGreaterThan(0);
    // Published = acknowledged = what the broker passed on; each reading stored once, each duplicate collapsed
    expect(fleet?.acknowledged).toBe(fleet?.published);
    expect(counters.published).toBe(fleet?.acknowledged);
    expect(stored.readings).toBe(fleet?.readings);
    expect(stored.duplicates).toBe(fleet?.duplicates);
    // Every malformed message is dead-lettered, with a reason
    const parked = Object.values(summary.deadLetteredByReason).reduce((sum, n) => sum + n, 0);
    expect(parked).toBe(fleet?.malformed);
    expect(counters.forwarded + counters.deadLettered.ingest).toBe(counters.received);
    expect(summary.droppedFromIngestQueue).toBe(0);
    // The banner names the store as in-memory; the functions' logs went to the file, not to the screen
    expect(run.stderr).toContain('in-memory document store, database telemetry: NOT persistent');
    expect(run.stderr).toContain(`the functions' logs go to ${logFile}`);
    expect(run.stderr).not.toContain('"level":');
    // --no-dashboard: no dashboard line
    expect(run.stderr).not.toMatch(/ {2}dashboard {1}http/);
    expect(readFileSync(logFile, 'utf8')).toContain('"message":"Invalid records sent to the dead-letter queue"');
  }, 90_000);
});

describe('telemetry-ops local while it runs', () => {
  it('lists every dead letter to `failures list --local`, beyond the 20 the summary shows', async () => {
    const config = configDir({ stackName: 'DemoFailures' });
    // Given no `local` running
    // When `failures list --local` runs / Then it says none is running
    // Before it runs, there is nothing to read, and the command says so
    const before = await cli(['failures', 'list', '--local'], { configDir: config });
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('No `npx telemetry-ops local` of DemoFailures is running');

    // Given `local` running
    const abort = new AbortController();
    const port = await freePort();
    const served = cli(['local', '--mqtt-port', String(port), '--log-file', logFileIn()], {
      environment: {},
      configDir: config,
      signal: abort.signal,
    });
    const list = () => cli(['failures', 'list', '--local', '--limit', '1000', '--json'], { configDir: config });
    try {
      // Started once its endpoint answers (the broker is up by then)
      await expect.poll(async () => (await list()).code, { timeout: 30_000, interval: 250 }).toBe(0);
      const url = `mqtt://127.0.0.1:${port}`;
      const device = await connectAsync(url, { clientId: 'sensor-1' });
      // When a device publishes 25 malformed messages and one reading
      for (let i = 0; i < 25; i++)
        await device.publishAsync('sensors/sensor-1/telemetry', `{"broken": ${i}`, { qos: 1 });
      await device.publishAsync('sensors/sensor-1/telemetry', JSON.stringify(devicePayload({ ts: Date.now() })), {
        qos: 1,
      });
      await device.endAsync();

      // Then `failures list --local` lists all 25 and `failures show --local` shows one
      let failures: FailureEnvelope[] = [];
      await expect
        .poll(
          async () => {
            const running = await list();
            failures = running.code === 0 ? (JSON.parse(running.stdout).failures as FailureEnvelope[]) : [];
            return failures.length;
          },
          { timeout: 20_000, interval: 250 },
        )
        .toBe(25);
      expect(new Set(failures.map((failure) => failure.id)).size).toBe(25);
      expect(failures.every((failure) => failure.store === 'ingest-dlq' && failure.reason === 'not_json')).toBe(true);
      const shown = await cli(['failures', 'show', failures[24]?.id ?? '', '--local'], { configDir: config });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('{"broken":');
    } finally {
      abort.abort();
    }
    // And once stopped, its summary shows the first 20, and nothing answers any more
    const run = await served;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('dead letters (first 20 of 25; all of them with --json');
    // Once it stopped, nothing answers for it any more
    expect((await list()).stderr).toContain('No `npx telemetry-ops local` of DemoFailures is running');
  }, 90_000);
});

describe('telemetry-ops local --demo: the sensor-data dashboard', () => {
  it("serves the demo fleet's devices from the in-memory store while it runs, on a free port when asked for a taken one", async () => {
    // Given a port another process holds
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const stderr = new Recorder();
    const abort = new AbortController();

    // When `local --demo` is asked to serve the dashboard there
    const served = cli(
      ['local', '--demo', '--mqtt-port', '0', '--dashboard-port', String(taken), '--log-file', logFileIn()],
      { environment: {}, configDir: configDir({ stackName: 'DemoDashboard' }), signal: abort.signal, stderr },
    );
    let url = '';
    try {
      await expect.poll(() => stderr.text, { timeout: 60_000, interval: 100 }).toContain('Ctrl-C stops it.');
      // Then the banner prints the dashboard's URL (another port) and says why
      url = / {2}dashboard (http:\/\/127\.0\.0\.1:\d+\/) /.exec(stderr.text)?.[1] ?? '';
      expect(url, stderr.text).not.toBe('');
      expect(url).not.toBe(`http://127.0.0.1:${taken}/`);
      expect(stderr.text).toContain(`port ${taken} is in use: a free one serves it`);
      expect(stderr.text).toContain('(sensor data from the in-memory store; this machine only)');

      // And its API answers with every demo sensor, as the sink stored them in the in-memory store
      let devices: string[] = [];
      await expect
        .poll(
          async () => {
            const fleet = (await (await fetch(`${url}api/fleet`)).json()) as { devices: { deviceId: string }[] };
            devices = fleet.devices.map((device) => device.deviceId);
            return devices.length;
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBe(DEMO_FLEET.devices);
      expect(devices.every((id) => id.startsWith(DEMO_FLEET.deviceIdPrefix))).toBe(true);
      const device = (await (await fetch(`${url}api/device?id=${devices[0]}`)).json()) as { device?: unknown };
      expect(device.device).toMatchObject({ deviceId: devices[0] });
    } finally {
      abort.abort();
      await new Promise((resolve) => holder.close(resolve));
    }
    const run = await served;
    expect(run.code, run.stderr).toBe(0);
    // And once it stopped, the dashboard is gone with it
    await expect(fetch(`${url}api/fleet`)).rejects.toThrow();
  }, 120_000);
});

/** A port nothing listens on now, for the embedded broker (the test connects to it while `local` runs). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `telemetry-ops dashboard` in-process, over a seeded store instead of MongoDB; and once as `npx telemetry-ops` starts
 * it, through the launcher, whose module loading vitest's differs from.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli';
import { knownFleet, memoryDbWith } from '../../helpers/dashboard-data';

const seeded = () => memoryDbWith(knownFleet(new Date()));

/** A port nothing listens on right now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

/** Runs the command, calls `whileUp` once it answers, then stops it as Ctrl-C would. */
async function serving(args: string[], whileUp: (port: number) => Promise<void>) {
  const port = await freePort();
  const stop = new AbortController();
  const run = cli(['dashboard', '--port', String(port), ...args], {
    clients: { readableDb: await seeded() },
    signal: stop.signal,
  });
  try {
    await expect
      .poll(
        () =>
          fetch(`http://127.0.0.1:${port}/favicon.ico`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 10_000 },
      )
      .not.toBe(0);
    await whileUp(port);
  } finally {
    stop.abort();
  }
  return run;
}

/** Runs `node bin/telemetry-ops.cjs …args` as a child process, to its exit. */
function launch(args: string[], environment: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'telemetry-ops.cjs'), ...args], {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx telemetry-ops dashboard, as a child process', () => {
  it('loads the dashboard and reaches MongoDB, so an unreachable one is a clean error, not a missing module', async () => {
    // Given MONGODB_URI naming a port nothing listens on (the CLI's client gives up on it after 10 s)
    const port = await freePort();
    const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;

    // When the launcher runs the command, as `npx telemetry-ops dashboard` does
    const run = await launch(['dashboard', '--port', '0'], { MONGODB_URI: uri });

    // Then it got past loading its modules to the connection, and says what to fix
    expect(run.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(run.stderr).toMatch(/^error: Cannot reach MongoDB \(MongoServerSelectionError\): check MONGODB_URI/);
    expect(run.code).toBe(1);
  }, 30_000);
});

describe('telemetry-ops dashboard', () => {
  it('serves the fleet on 127.0.0.1 until stopped, and prints where', async () => {
    // Given `dashboard` over the seeded fleet, on its default address
    let devices = 0;
    // When the fleet is fetched while it serves
    const run = await serving([], async (port) => {
      const answer = (await (await fetch(`http://127.0.0.1:${port}/api/fleet`)).json()) as { devices: unknown[] };
      devices = answer.devices.length;
    });
    // Then the three devices come back, it stops cleanly, and it printed its loopback URL
    expect(devices).toBe(3);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Dashboard at http:\/\/127\.0\.0\.1:\d+\/ \(this machine only\); Ctrl-C stops it\.$/m);
  });

  it('makes up and prints an access token for any other address, and requires it', async () => {
    // Given `dashboard` on a non-loopback address
    let without = 0;
    // When the fleet is fetched without a token
    const run = await serving(['--host', '0.0.0.0', '--json'], async (port) => {
      without = (await fetch(`http://127.0.0.1:${port}/api/fleet`)).status;
    });
    // Then it is refused, and the printed URL carries the token made up for it
    expect(without).toBe(401);
    const printed = JSON.parse(run.stdout);
    expect(printed.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(printed.url).toBe(`http://0.0.0.0:${new URL(printed.url).port}/?token=${printed.token}`);
  });

  it('refuses thresholds where silent comes before late, and ports out of range', async () => {
    // Given a silent threshold shorter than the late one, and a port over 65535
    // When `dashboard` runs with each
    const thresholds = await cli(['dashboard', '--late-after', '600', '--silent-after', '60'], {
      clients: { readableDb: await seeded() },
    });
    // Then each is refused in one line naming the option
    expect(thresholds).toMatchObject({ code: 1 });
    expect(thresholds.stderr).toBe('error: --silent-after (60 s) must be longer than --late-after (600 s)\n');
    const port = await cli(['dashboard', '--port', '70000'], { clients: { readableDb: await seeded() } });
    expect(port.code).toBe(1);
    expect(port.stderr).toContain("option '--port <port>' argument '70000' is invalid");
  });
});

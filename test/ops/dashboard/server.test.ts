/** The dashboard's HTTP server and JSON API over a seeded store: answers, bad parameters, and the security model. */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../../lambdas/sink/mongo/collections';
import type { DeviceAnswer, FleetAnswer, QualityAnswer } from '../../../ops/dashboard/api-types';
import type { ReadableDb } from '../../../ops/dashboard/readable-db';
import { type DashboardOptions, type RunningDashboard, serveDashboard } from '../../../ops/dashboard/server';
import { HOUR, knownFleet, MINUTE, memoryDbWith } from '../../helpers/dashboard-data';

const NOW = new Date('2026-12-01T09:00:00Z');
const running: RunningDashboard[] = [];

const seeded = () => memoryDbWith(knownFleet(NOW));

async function start(options: Partial<DashboardOptions> = {}) {
  const dashboard = await serveDashboard({
    db: await seeded(),
    port: 0,
    freshness: { lateAfterMs: MINUTE, silentAfterMs: 15 * MINUTE },
    collections: COLLECTIONS,
    clock: () => NOW,
    log: () => {},
    ...options,
  });
  running.push(dashboard);
  return dashboard;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
});

const get = async (base: string, path: string, init?: RequestInit) => {
  const response = await fetch(new URL(path, base), { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, body: await response.text() };
};

describe('dashboard API', () => {
  it("answers a fleet page with the freshness counts and each device's reading count", async () => {
    // Given the dashboard over the seeded fleet
    const { url } = await start();
    // When a fleet page by last seen is asked for
    const answer = JSON.parse((await get(url, '/api/fleet?sort=lastSeen&order=desc&pageSize=2')).body) as FleetAnswer;
    // Then it carries the freshness counts, the match count and each device's reading count
    expect(answer.counts).toEqual({ all: 3, fresh: 1, late: 1, silent: 1 });
    expect(answer.matched).toBe(3);
    expect(answer.devices.map((d) => [d.deviceId, d.freshness, d.count])).toEqual([
      ['sensor-a', 'fresh', 331],
      ['sensor-b', 'late', 3],
    ]);
  });

  it("puts a device's buckets on a full axis, null where no reading arrived, within the points a chart draws", async () => {
    // Given the dashboard over the seeded fleet
    const { url } = await start();
    // When sensor-a's hour, week and a custom hour are asked for
    const hour = JSON.parse((await get(url, '/api/device?id=sensor-a&range=hour')).body) as DeviceAnswer;
    const temperature = hour.series.find((s) => s.kind === 'temperature');
    // Then the hour has 360 buckets of 10 s with null in the gaps, the week at most 500 points, the custom hour 360
    expect(hour.bucket).toEqual({ unit: 'second', binSize: 10, ms: 10_000 });
    expect(hour.times).toHaveLength(360);
    expect(temperature?.avg.filter((v) => v === null)).toHaveLength(30);
    // seq 100 would be at 100 × 10 s into the hour: that bucket is a gap
    expect(temperature?.avg[100]).toBeNull();
    expect(temperature?.avg[99]).toBe(99);
    const week = JSON.parse((await get(url, '/api/device?id=sensor-a&range=week')).body) as DeviceAnswer;
    expect(week.times.length).toBeLessThanOrEqual(500);
    expect(week.bucket.ms).toBe(30 * MINUTE);
    const custom = await get(
      url,
      `/api/device?id=sensor-a&range=custom&from=${new Date(NOW.getTime() - HOUR).toISOString()}&to=${NOW.getTime()}`,
    );
    expect((JSON.parse(custom.body) as DeviceAnswer).times).toHaveLength(360);
  });

  it('answers the data quality panel', async () => {
    // Given the dashboard over the seeded fleet
    const { url } = await start();
    // When the data quality panel is asked for over a day
    const answer = JSON.parse((await get(url, '/api/quality?range=day')).body) as QualityAnswer;
    // Then it carries the quarantine reasons, the gaps, the late arrivals and the quarantine over time
    expect(answer.reasons.map((r) => [r.reason, r.count])).toEqual([
      ['invalid_json', 3],
      ['schema', 2],
    ]);
    expect(answer.gaps).toEqual([{ deviceId: 'sensor-a', first: 0, last: 359, missing: 30, resent: 1 }]);
    expect(answer.late.devices).toEqual([{ deviceId: 'sensor-b', count: 3, maxDelayMs: 10 * MINUTE }]);
    expect(answer.quarantineOverTime.series.map((s) => [s.reason, s.counts.reduce((a, b) => a + b, 0)])).toEqual([
      ['invalid_json', 3],
      ['schema', 2],
    ]);
  });

  it('rejects bad query parameters with a 400 naming every problem', async () => {
    // Given the dashboard
    const { url } = await start();
    // When queries with bad, unknown, missing, conflicting and repeated parameters are asked for
    const fleet = await get(url, '/api/fleet?page=0&sort=colour&pageSize=5000&bogus=1');
    // Then each answer is a 400 listing every problem
    expect(fleet.status).toBe(400);
    expect(JSON.parse(fleet.body).problems).toEqual([
      'unknown parameter "bogus" (expected: search, freshness, sort, order, page, pageSize)',
      'sort: "colour" is not one of deviceId, lastSeen',
      'page: "0" is not a whole number from 1 to 1000000',
      'pageSize: "5000" is not a whole number from 1 to 200',
    ]);
    const problems = async (path: string) => JSON.parse((await get(url, path)).body).problems as string[];
    expect(await problems('/api/trends?range=custom&from=yesterday')).toEqual([
      'from: "yesterday" is not a date (ISO 8601 or epoch milliseconds)',
      'from: required with range=custom',
      'to: required with range=custom',
    ]);
    expect(await problems('/api/trends?range=custom&from=2026-12-02&to=2026-12-01')).toEqual([
      'from: must be before to',
    ]);
    expect(await problems('/api/trends?range=custom&from=2020-01-01&to=2026-12-01')).toEqual([
      'from, to: a range of more than 500 days cannot be drawn; choose a shorter one',
    ]);
    expect(await problems('/api/device?range=hour&from=2026-12-01')).toEqual([
      'id: required',
      'from, to: only with range=custom (range is hour)',
    ]);
    expect(await problems('/api/device?id=sensor-a&id=zz&range=hour&range=day&range=week')).toEqual([
      'id: given 2 times; give it once',
      'range: given 3 times; give it once',
    ]);
  });

  it('answers 404 for an unknown device or route, and 405 for anything but reading', async () => {
    // Given the dashboard
    const { url } = await start();
    // When an unknown device, an unknown route, and a write are asked for / Then they answer 404, 404 and 405
    expect(await get(url, '/api/device?id=nobody')).toMatchObject({ status: 404 });
    expect(JSON.parse((await get(url, '/api/device?id=nobody')).body).error).toBe('no device "nobody" in devices');
    expect(await get(url, '/api/drop')).toMatchObject({ status: 404 });
    expect(await get(url, '/api/fleet', { method: 'POST' })).toMatchObject({ status: 405 });
    expect(await get(url, '/api/fleet', { method: 'DELETE' })).toMatchObject({ status: 405 });
  });
});

describe('dashboard security', () => {
  it("answers a failed query with a generic 500, the error only in the operator's log", async () => {
    // Given a dashboard whose store fails with a message holding a password
    const log: string[] = [];
    const failing: ReadableDb = {
      collection: () => {
        throw new Error('connection to mongodb://reader:s3cret@cluster0 refused');
      },
    };
    const { url } = await start({ db: failing, log: (line) => log.push(line) });
    // When a query is asked for
    const answer = await get(url, '/api/fleet');
    // Then the answer is a generic 500 without the password, and the log has the cause
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('s3cret');
    expect(JSON.parse(answer.body)).toEqual({ error: 'the query failed; the dashboard log says why' });
    expect(log.join('\n')).toContain('refused');
  });

  it('refuses a non-loopback address without an access token', async () => {
    // Given a non-loopback address and no token
    // When the dashboard starts / Then it refuses with a configuration error
    await expect(start({ host: '0.0.0.0' })).rejects.toMatchObject({ name: 'DashboardConfigurationError' });
  });

  it('with a token, answers only requests that carry it, and hands the page a strict cookie', async () => {
    // Given a dashboard with an access token
    const { url } = await start({ token: 'right-token' });
    expect(url).toMatch(/\/\?token=right-token$/);
    const base = url.replace(/\?.*/, '');
    // When requests come without it, with a wrong one, and with the page opened by it
    // Then those without it are refused, the page sets a strict cookie, and the cookie or a bearer token is let in
    expect((await get(base, '/api/config')).status).toBe(401);
    expect((await get(base, '/app.js?token=wrong-token')).status).toBe(401);
    const opened = await get(base, '/?token=right-token');
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/');
    const cookie = opened.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
    const withCookie = { headers: { cookie: cookie.split(';')[0] ?? '' } };
    expect((await get(base, '/api/config', withCookie)).status).toBe(200);
    expect((await get(base, '/api/config', { headers: { authorization: 'Bearer right-token' } })).status).toBe(200);
  });

  it('names its cookie after its port, so two dashboards on one machine keep their own tokens', async () => {
    // Given two dashboards on one host, each with its token (the browser sends both cookies to both)
    const first = await start({ token: 'first-token' });
    const second = await start({ token: 'second-token' });
    const cookieOf = async (url: string) => ((await get(url, url)).headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    // When the page of each is opened
    const cookies = [await cookieOf(first.url), await cookieOf(second.url)];

    // Then each cookie names its dashboard's port, and each dashboard takes its own from the pair
    expect(cookies).toEqual([
      `telemetry_dashboard_token_${new URL(first.url).port}=first-token`,
      `telemetry_dashboard_token_${new URL(second.url).port}=second-token`,
    ]);
    const both = { headers: { cookie: cookies.join('; ') } };
    expect((await get(first.url.replace(/\?.*/, ''), '/api/config', both)).status).toBe(200);
    expect((await get(second.url.replace(/\?.*/, ''), '/api/config', both)).status).toBe(200);
  });

  it('treats a token cookie that is not URI-encoded as no token: 401, nothing in the log', async () => {
    // Given a dashboard with an access token, and a cookie of that name that is not URI-encoded
    const log: string[] = [];
    const { url } = await start({ token: 'right-token', log: (line) => log.push(line) });
    const base = url.replace(/\?.*/, '');
    const name = (await get(url, url)).headers.get('set-cookie')?.split('=')[0];
    const cookie = `${name}=%E0%A4%A`;

    // When a request carries that cookie
    const answer = await get(base, '/api/config', { headers: { cookie } });

    // Then it is refused as without a token, and nothing is logged
    expect(answer.status).toBe(401);
    expect(log).toEqual([]);
  });

  it('without a token, answers only requests addressed to the loopback name (no DNS rebinding)', async () => {
    // Given a dashboard without a token, on loopback
    const { url } = await start();
    const { port } = new URL(url);
    // When requests come addressed to localhost and to another name
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/api/config', headers: { host } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    // Then localhost is answered and the other name refused
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`attacker.example:${port}`)).toBe(403);
  });

  it('serves the page from this process, with a policy that allows only its own script and style', async () => {
    // Given the dashboard
    const { url } = await start();
    // When its page and script are fetched
    const page = await get(url, '/');
    // Then the page loads its own script under a strict policy, and the script calls out to nowhere
    expect(page.body).toContain('<script src="app.js" defer></script>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const script = await get(url, '/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/);
  });
});

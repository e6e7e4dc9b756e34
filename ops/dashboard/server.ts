/**
 * The sensor-data dashboard's HTTP server (node:http): the page, its bundle, and the read-only JSON API, all from this
 * process, so it works offline and nothing is fetched from a CDN.
 *
 * Security model:
 * - Read-only: GET and HEAD only; the API runs the fixed queries of `queries.ts`, with parameters checked and
 *   passed as values, never as query operators.
 * - No credentials reach the browser: the server holds the MongoDB connection; answers carry readings and device
 *   states only, and a failed query answers 500 with a generic message (the error goes to the operator's log).
 * - Binds 127.0.0.1 by default. Any other host requires an access token (the `dashboard` command makes one and prints
 *   it in the URL): every request must carry it, as `?token=`, `Authorization: Bearer` or the HttpOnly, SameSite=Strict
 *   cookie the page gets when opened with `?token=`; compared in constant time.
 * - Without a token, only requests whose `Host` names the loopback address are answered, so a web page elsewhere
 *   cannot reach the dashboard through DNS rebinding.
 * - The page may load only its own script and style (Content-Security-Policy), and sends no referrer (the token in
 *   its URL stays on this machine).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../contracts/errors';
import { addressedToLoopback, isLoopback } from '../loopback';
import { type ApiDependencies, BadRequestError, DashboardApi, type DashboardCollections, NotFoundError } from './api';
import { buildPage, type PageBundle } from './page-bundle';
import type { FreshnessThresholds } from './queries';
import type { ReadableDb } from './readable-db';

export interface DashboardOptions {
  /** Where the readings are: the driver's `Db`, or `local`'s in-memory store. */
  readonly db: ReadableDb;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 8080 */
  readonly port?: number;
  /** Access token every request must carry; required when `host` is not a loopback address. @default none */
  readonly token?: string;
  /** When a device counts as late or silent (and a reading as a late arrival). */
  readonly freshness: FreshnessThresholds;
  /** Collection names (the sink's `COLLECTIONS`). */
  readonly collections: DashboardCollections;
  /** How often the page refreshes its views, in ms. @default 5000 */
  readonly refreshMs?: number;
  /** The current time. @default () => new Date() */
  readonly clock?: () => Date;
  /** Where failed queries are reported. @default stderr */
  readonly log?: (line: string) => void;
}

export interface RunningDashboard {
  /** The page's address, with the token when there is one. */
  readonly url: string;
  close(): Promise<void>;
}

/** The dashboard's options cannot work (a non-loopback host without a token). */
export class DashboardConfigurationError extends UserError {
  public override readonly name = 'DashboardConfigurationError';
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

function send(response: ServerResponse, status: number, type: string, body: string, head: boolean) {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(head ? undefined : body);
}

const json = (response: ServerResponse, status: number, value: unknown, head: boolean) =>
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value), head);

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}

/**
 * The token cookie of the dashboard on `port`. Browsers keep cookies per host name, not per port ("Cookies do not
 * provide isolation by port", RFC 6265 §8.5, https://datatracker.ietf.org/doc/html/rfc6265#section-8.5): two
 * dashboards on one machine, with a cookie of one name, would overwrite each other's token.
 */
const cookieName = (port: number) => `telemetry_dashboard_token_${port}`;

/** The value of cookie `wanted`; undefined when missing or not URI-encoded (the request then has no token). */
function cookie(request: IncomingMessage, wanted: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== wanted) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Starts the dashboard; resolves once it listens. */
export async function serveDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const { token } = options;
  if (!isLoopback(host) && !token)
    throw new DashboardConfigurationError(
      `Listening on ${host} (not a loopback address) needs an access token: pass one, or listen on 127.0.0.1`,
    );
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const deps: ApiDependencies = {
    db: options.db,
    collections: options.collections,
    freshness: options.freshness,
    refreshMs: options.refreshMs ?? 5_000,
    clock: options.clock ?? (() => new Date()),
  };
  const api = new DashboardApi(deps);
  let page: Promise<PageBundle> | undefined;
  const bundle = () => {
    page ??= buildPage();
    page.catch(() => {
      page = undefined;
    });
    return page;
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`dashboard: ${request.method} ${request.url?.split('?')[0]} failed: ${(error as Error).stack ?? error}`);
      if (!response.headersSent) json(response, 500, { error: 'the query failed; the dashboard log says why' }, false);
      else response.destroy();
    });
  });

  let port = 0;
  async function handle(request: IncomingMessage, response: ServerResponse) {
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) {
      response.setHeader('Allow', 'GET, HEAD');
      return json(response, 405, { error: 'read-only: only GET and HEAD' }, head);
    }
    const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
    if (token) {
      const inUrl = url.searchParams.get('token') ?? undefined;
      if (!sameToken(inUrl ?? bearer(request) ?? cookie(request, cookieName(port)), token))
        return json(response, 401, { error: 'an access token is required: open the URL the dashboard printed' }, head);
      if (inUrl !== undefined && url.pathname === '/') {
        // The page's script, style and API calls then carry the token as a cookie, and the address bar drops it
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          Location: '/',
          'Set-Cookie': `${cookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          'Cache-Control': 'no-store',
        });
        return response.end();
      }
      url.searchParams.delete('token');
    } else {
      if (!addressedToLoopback(request.headers.host, host, port))
        return json(response, 403, { error: `unexpected Host header; open http://${host}:${port}/` }, head);
    }
    if (url.pathname.startsWith('/api/')) {
      try {
        return json(response, 200, await api.get(url.pathname.slice('/api/'.length), url.searchParams), head);
      } catch (error) {
        if (error instanceof BadRequestError)
          return json(response, 400, { error: error.message, problems: error.problems }, head);
        if (error instanceof NotFoundError) return json(response, 404, { error: error.message }, head);
        throw error;
      }
    }
    if (url.pathname === '/') return send(response, 200, 'text/html; charset=utf-8', (await bundle()).html, head);
    if (url.pathname === '/app.js')
      return send(response, 200, 'text/javascript; charset=utf-8', (await bundle()).script, head);
    if (url.pathname === '/app.css')
      return send(response, 200, 'text/css; charset=utf-8', (await bundle()).style, head);
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204, SECURITY_HEADERS);
      return response.end();
    }
    return json(response, 404, { error: `nothing at ${url.pathname}` }, head);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The failure stores of a running `npx telemetry-ops local`, readable from another terminal while it runs:
 * `telemetry-ops failures list --local`. The pipeline's stores live in its process (the ingest dead-letter queue in
 * memory, the sink dead-letter topic in the mock cluster, the quarantine in the in-memory store or MongoDB), so
 * `local` serves them on a loopback HTTP endpoint and records its address in a file named after the stack, where
 * `failures --local` finds it. Both sides use this module: the path, the file and the answer are defined once.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../contracts/errors';
import { FAILURE_STORES, type FailureEnvelope, type FailureStore } from '../../lambdas/shared/failure';
import { addressedToLoopback } from '../loopback';

/** What a running `local` answers for one store. */
export interface LocalFailuresAnswer {
  readonly store: FailureStore;
  /** Failures the store holds, all of them (`failures` is at most `limit` of them, oldest first). */
  readonly total: number;
  readonly failures: readonly FailureEnvelope[];
}

/** A store `local` does not have, and why. */
export interface LocalStoreMissing {
  readonly store: FailureStore;
  readonly error: string;
}

/** The stores of the running pipeline; a store it does not have answers `{ missing }`, saying why. */
export type LocalFailureStores = (store: FailureStore) => Promise<readonly FailureEnvelope[] | { missing: string }>;

const PATH = '/failures';
const HOST = '127.0.0.1';

/** Where a running `local` of this stack records its endpoint. */
export const localStateFile = (stackName: string): string => join(tmpdir(), `telemetry-ops-local-${stackName}.json`);

export interface FailuresEndpoint {
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves `stores` on 127.0.0.1 (any free port) and records the address for `stackName`. */
export async function startFailuresEndpoint(stackName: string, stores: LocalFailureStores): Promise<FailuresEndpoint> {
  let port = 0;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const reply = (status: number, body: LocalFailuresAnswer | LocalStoreMissing | { error: string }) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const store = url.searchParams.get('store') as FailureStore;
    const limit = Number(url.searchParams.get('limit') ?? Number.POSITIVE_INFINITY);
    // Every dead letter goes out with its raw payload: not to a web page that reached 127.0.0.1 by DNS rebinding
    if (!addressedToLoopback(request.headers.host, HOST, port))
      return reply(403, { error: `unexpected Host header; use http://${HOST}:${port}${PATH}` });
    if (request.method !== 'GET' || url.pathname !== PATH) return reply(404, { error: `only GET ${PATH}` });
    if (!FAILURE_STORES.includes(store))
      return reply(400, { error: `store must be one of ${FAILURE_STORES.join(', ')}` });
    stores(store).then(
      (found) => {
        if ('missing' in found) return reply(404, { store, error: found.missing });
        const sorted = [...found].sort((a, b) => (a.firstFailedAt ?? '').localeCompare(b.firstFailedAt ?? ''));
        reply(200, { store, total: found.length, failures: sorted.slice(0, limit > 0 ? limit : undefined) });
      },
      (error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}${PATH}`;
  const file = localStateFile(stackName);
  writeFileSync(file, JSON.stringify({ url, pid: process.pid }));
  return {
    url,
    stop: async () => {
      rmSync(file, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The endpoint of the running `local` of `stackName`: `given`, or what it recorded; a UserError when none runs. */
export function localFailuresUrl(stackName: string, given?: string): string {
  if (given) return given;
  const file = localStateFile(stackName);
  let state: { url: string; pid: number };
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
  } catch {
    throw new UserError(
      `No \`npx telemetry-ops local\` of ${stackName} is running (${file} is missing): start one, or pass --local <url> as its banner shows`,
    );
  }
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new UserError(
      `No \`npx telemetry-ops local\` of ${stackName} is running (pid ${state.pid}, which wrote ${file}, is gone): start one, or pass --local <url> as its banner shows`,
    );
  }
  return state.url;
}

/** One store of a running `local`; a UserError when it does not have the store or cannot be reached. */
export async function readLocalFailures(url: string, store: FailureStore, limit: number): Promise<LocalFailuresAnswer> {
  let response: Response;
  try {
    response = await fetch(`${url}?store=${encodeURIComponent(store)}&limit=${limit}`);
  } catch (error) {
    throw new UserError(`Cannot reach the running \`npx telemetry-ops local\` at ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const body = (await response.json()) as LocalFailuresAnswer | { error: string };
  if ('error' in body) throw new UserError(`${store}: ${body.error}`);
  return body;
}

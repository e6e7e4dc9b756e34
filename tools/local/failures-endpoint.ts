/**
 * The failure stores of a running `npx telemetry-ops local`, readable from another terminal while it runs:
 * `telemetry-ops failures list --local`. The pipeline's stores live in its process (the ingest dead-letter queue in
 * memory, the sink dead-letter topic in the mock cluster, the quarantine in the in-memory store or MongoDB), so
 * `local` serves them on a loopback HTTP endpoint and records its address in a file named after the stack, where
 * `failures --local` finds it. The protocol (path, state file, answer) is ops/failures/local-endpoint.ts, which `failures --local` reads with.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAILURE_STORES, type FailureEnvelope, type FailureStore } from '../../contracts/failure';
import {
  type LocalFailuresAnswer,
  type LocalStoreMissing,
  localStateFile,
  LOCAL_FAILURES_PATH as PATH,
} from '../../ops/failures/local-endpoint';
import { addressedToLoopback } from '../../ops/loopback';

/** The stores of the running pipeline; a store it does not have answers `{ missing }`, saying why. */
export type LocalFailureStores = (store: FailureStore) => Promise<readonly FailureEnvelope[] | { missing: string }>;

const HOST = '127.0.0.1';

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

/**
 * The client side of the failures endpoint a running `npx telemetry-ops local` serves on loopback, for
 * `telemetry-ops failures list --local`: where the running pipeline records its address, the path, and the answer.
 * The server (tools/local/failures-endpoint.ts) imports these, so the protocol is defined once and the operator CLI
 * imports nothing of the local tools.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../contracts/errors';
import type { FailureEnvelope, FailureStore } from '../../contracts/failure';

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

/** The endpoint's path: `GET /failures?store=<store>&limit=<n>`. */
export const LOCAL_FAILURES_PATH = '/failures';

/** Where a running `local` of this stack records its endpoint. */
export const localStateFile = (stackName: string): string => join(tmpdir(), `telemetry-ops-local-${stackName}.json`);

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

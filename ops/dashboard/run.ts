/** `dashboard`: serves the sensor-data dashboard over the sink's MongoDB until Ctrl-C. */
import { randomBytes } from 'node:crypto';
import { UserError } from '../../contracts/errors';
import { COLLECTIONS } from '../../lambdas/sink/mongo/collections';
import type { OpsContext } from '../context';
import { isLoopback } from '../loopback';
import { serveDashboard } from './server';

export interface DashboardCommandOptions {
  readonly host: string;
  readonly port: number;
  /** Seconds. */
  readonly lateAfter: number;
  /** Seconds. */
  readonly silentAfter: number;
  /** Seconds. */
  readonly refresh: number;
}

/** Resolves when `signal` aborts; never without one. */
const aborted = (signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });

export async function runDashboard(
  context: OpsContext,
  options: DashboardCommandOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (options.silentAfter <= options.lateAfter)
    throw new UserError(
      `--silent-after (${options.silentAfter} s) must be longer than --late-after (${options.lateAfter} s)`,
    );
  // Anyone who can reach a non-loopback address could read the fleet's data: such a dashboard needs a token
  const token = isLoopback(options.host) ? undefined : randomBytes(24).toString('base64url');
  const db = await context.readableDb();
  let dashboard: Awaited<ReturnType<typeof serveDashboard>>;
  try {
    dashboard = await serveDashboard({
      db,
      host: options.host,
      port: options.port,
      ...(token ? { token } : {}),
      freshness: { lateAfterMs: options.lateAfter * 1000, silentAfterMs: options.silentAfter * 1000 },
      collections: COLLECTIONS,
      refreshMs: options.refresh * 1000,
      log: (line) => context.out.io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new UserError(`Cannot listen on ${options.host}:${options.port} (${code}): pick another --host or --port`, {
        cause: error,
      });
    throw error;
  }
  context.out.result({ url: dashboard.url, host: options.host, token: token ?? null }, ({ url }) =>
    token
      ? `Dashboard at ${url}\nAnyone with this URL (it holds the access token) can read the fleet's data; Ctrl-C stops it.`
      : `Dashboard at ${url} (this machine only); Ctrl-C stops it.`,
  );
  await aborted(signal);
  await dashboard.close();
}

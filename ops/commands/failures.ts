/** `failures list | show | redrive`: every failure store, read through one envelope. */
import { type Command, Option } from 'commander';
import { isUserError, UserError } from '../../contracts/errors';
import { FAILURE_STORES, type FailureEnvelope, type FailureStore } from '../../contracts/failure';
import type { OpsContext } from '../context';
import { localFailuresUrl, readLocalFailures } from '../failures/local-endpoint';
import type { RedriveReport } from '../failures/stores';
import { collect, wholeNumber } from '../options';
import { fields, table } from '../output';
import type { CommandGroup } from '../program';

const storeOption = () =>
  new Option('-s, --store <store>', `only this store (repeatable): ${FAILURE_STORES.join(', ')}`).argParser(collect);

const localOption = () =>
  new Option(
    '--local [url]',
    'read the stores of a running `npx telemetry-ops local` instead of AWS (default: the one of this config)',
  );

/** The failure sources (SQS, Kafka and MongoDB clients behind them) load only when a failures command runs. */
const sources = () => import('../failures/sources');

/** The failures of one store, from AWS or from a running `local` (`--local`). */
async function listStore(
  context: OpsContext,
  local: string | true | undefined,
  store: FailureStore,
  limit: number,
): Promise<FailureEnvelope[]> {
  if (local === undefined) return (await (await sources()).failureSource(context, store)).list(limit);
  const url = localFailuresUrl(context.config.stackName, local === true ? undefined : local);
  return [...(await readLocalFailures(url, store, limit)).failures];
}

const short = (text: string, max = 70) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

interface Unavailable {
  readonly store: FailureStore;
  readonly error: string;
}

/** Runs `work` per store; a store that cannot be read is reported, and the others still are. */
async function perStore<T>(
  stores: readonly FailureStore[],
  work: (store: FailureStore) => Promise<T>,
): Promise<{ results: T[]; unavailable: Unavailable[] }> {
  const results: T[] = [];
  const unavailable: Unavailable[] = [];
  for (const store of stores) {
    try {
      results.push(await work(store));
    } catch (error) {
      if (stores.length === 1 || !isUserError(error)) throw error;
      unavailable.push({ store, error: (error as Error).message });
    }
  }
  // Nothing readable usually has one cause (credentials, a stack not deployed): say it once.
  if (results.length === 0 && unavailable[0]) throw new UserError(unavailable[0].error);
  return { results, unavailable };
}

function failIfUnavailable(unavailable: readonly Unavailable[]): void {
  if (unavailable.length > 0)
    throw new UserError(
      `${unavailable.length} store(s) could not be read: ${unavailable.map((u) => u.store).join(', ')}`,
    );
}

export const failuresCommands: CommandGroup = (program, kit) => {
  const failures = program
    .command('failures')
    .description('Inspect and redrive failed messages in every failure store')
    .addHelpText(
      'after',
      `
Stores, in flow order:
  ingest-errors  IoT rule error-action queue (the rule could not send to the ingest queue)
  ingest-dlq     ingest dead-letter queue (invalid envelopes; messages past ingest.maxReceiveCount)
  sink-dlt       the sink's Kafka dead-letter topic (batches its event source gave up on)
  quarantine     MongoDB collection of records the sink can never store`,
    );

  failures
    .command('list')
    .description('List failed messages, oldest first, as failure envelopes')
    .addOption(storeOption())
    .option('-n, --limit <n>', 'at most this many per store', wholeNumber(1), 50)
    .addOption(localOption())
    .addHelpText(
      'after',
      `
Queues are read without consuming: messages are hidden for up to 30 s while being read, then released.
With --local, the stores of a running \`npx telemetry-ops local\` (its ingest dead-letter queue, sink dead-letter topic
and quarantine), read while it runs; it has no ingest-errors queue.

Examples:
  $ npx telemetry-ops failures list
  $ npx telemetry-ops failures list --store ingest-dlq --limit 200 --json
  $ npx telemetry-ops failures list --local --limit 1000`,
    )
    .action(
      kit.action(async (context, options: { store?: string[]; limit: number; local?: string | true }) => {
        const { parseStores } = await sources();
        // A local run has no ingest-errors queue (its rules send straight to the ingest queue)
        const stores = parseStores(options.store).filter(
          (store) => options.local === undefined || options.store !== undefined || store !== 'ingest-errors',
        );
        const { results, unavailable } = await perStore(stores, (store) =>
          listStore(context, options.local, store, options.limit),
        );
        const list = results.flat();
        context.out.result({ failures: list, unavailable }, ({ failures: rows }) =>
          [
            table(rows, [
              ['ID', (row) => row.id],
              ['STAGE', (row) => row.stage],
              ['REASON', (row) => row.reason],
              ['FIRST FAILED', (row) => row.firstFailedAt],
              ['ATTEMPTS', (row) => row.attempts],
              ['DEVICE', (row) => row.deviceId],
              ['ERROR', (row) => short(row.error)],
            ]),
            ...unavailable.map((u) => `! ${u.store}: ${u.error}`),
          ].join('\n'),
        );
        failIfUnavailable(unavailable);
      }),
    );

  failures
    .command('show')
    .description('Show one failed message: its envelope and original payload')
    .argument('<id>', 'failure id from `failures list` (<store>:<id>)')
    .option('-n, --limit <n>', 'look at most this many messages of the store for it', wholeNumber(1), 1000)
    .addOption(localOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx telemetry-ops failures show ingest-dlq:0b6f3c1e-…\n  $ npx telemetry-ops failures show ingest-dlq:0b6f3c1e-… --local',
    )
    .action(
      kit.action(async (context, id: string, options: { limit: number; local?: string | true }) => {
        const { storeOfId } = await sources();
        const store = storeOfId(id);
        const found = (await listStore(context, options.local, store, options.limit)).find(
          (envelope) => envelope.id === id,
        );
        if (!found)
          throw new UserError(
            `No failure ${id} among the first ${options.limit} of ${store} (redriven already, expired, or further in: raise --limit)`,
          );
        context.out.result(found, showEnvelope);
      }),
    );

  failures
    .command('redrive')
    .description('Send failed messages back to the start of the pipeline (the ingest queue)')
    .addOption(storeOption())
    .option('--id <id>', 'only this failure id (repeatable)', collect)
    .option('--dry-run', 'say what would be redriven, change nothing')
    .option('-n, --limit <n>', 'at most this many messages per store', wholeNumber(1), 1000)
    .option('--max-per-second <n>', 'rate of the SQS move task (ingest-dlq)', wholeNumber(1))
    .addHelpText(
      'after',
      `
How each store is redriven:
  ingest-errors  the original payload, enriched as the IoT rule would, sent to the ingest queue; then deleted
  ingest-dlq     everything: SQS StartMessageMoveTask back to the ingest queue; with --id/--limit/--dry-run: one by one
  sink-dlt       each failed record's value sent to the ingest queue; the redrive group's offsets then advance
                 up to the first record not redriven (records that are not Lambda's document: only by --id)
  quarantine     each record's value sent to the ingest queue; then removed from the collection
Safe to repeat: every message keeps (or is given again) its event id, and the sink stores each event id once.
Fix the cause first: a message that failed validation fails again and is parked again.

Examples:
  $ npx telemetry-ops failures redrive --store ingest-dlq --dry-run
  $ npx telemetry-ops failures redrive --store ingest-errors
  $ npx telemetry-ops failures redrive --id quarantine:telemetry.readings.v1-3@1842`,
    )
    .action(
      kit.action(
        async (
          context,
          options: { store?: string[]; id?: string[]; dryRun?: boolean; limit: number; maxPerSecond?: number },
          command: Command,
        ) => {
          const { failureSource, parseStores, storeOfId } = await sources();
          const ids = options.id ? new Set(options.id) : undefined;
          const stores = ids && !options.store ? [...new Set([...ids].map(storeOfId))] : parseStores(options.store);
          const { results, unavailable } = await perStore(stores, async (store) => {
            const source = await failureSource(context, store);
            const progress = context.out.progress(`redrive ${store}`, options.dryRun ? 0 : await source.count());
            try {
              return await source.redrive({
                dryRun: Boolean(options.dryRun),
                limit: options.limit,
                limitGiven: command.getOptionValueSource('limit') === 'cli',
                ...(ids ? { ids } : {}),
                ...(options.maxPerSecond ? { maxPerSecond: options.maxPerSecond } : {}),
                onProgress: (done) => progress.increment(done),
              });
            } finally {
              progress.stop();
            }
          });
          context.out.result({ dryRun: Boolean(options.dryRun), reports: results, unavailable }, (data) =>
            [...data.reports.map(showReport), ...unavailable.map((u) => `! ${u.store}: ${u.error}`)].join('\n'),
          );
          failIfUnavailable(unavailable);
          const failed = results.flatMap((report) => report.items.filter((item) => item.outcome === 'failed'));
          if (failed.length > 0)
            throw new UserError(`${failed.length} message(s) could not be redriven; they stay in their store`);
          if (ids) {
            const matched = new Set(results.flatMap((report) => report.items.map((item) => item.id)));
            const missing = [...ids].filter((id) => !matched.has(id));
            if (missing.length > 0)
              throw new UserError(`Not found (already redriven, or beyond --limit): ${missing.join(', ')}`);
          }
        },
      ),
    );
};

function showEnvelope(envelope: FailureEnvelope): string {
  const { payload, ...rest } = envelope;
  return `${fields(rest)}\npayload (${payload?.encoding ?? 'none'}):\n${payload ? prettyPayload(payload) : '-'}`;
}

function prettyPayload(payload: NonNullable<FailureEnvelope['payload']>): string {
  if (payload.encoding !== 'utf8') return payload.data;
  try {
    return JSON.stringify(JSON.parse(payload.data), null, 2);
  } catch {
    return payload.data;
  }
}

function showReport(report: RedriveReport): string {
  const counts = new Map<string, number>();
  for (const item of report.items) counts.set(item.outcome, (counts.get(item.outcome) ?? 0) + 1);
  const lines = [
    `${report.store}: ${[...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ') || (report.moveTask ? 'move task started' : 'nothing to redrive')}`,
  ];
  if (report.warning) lines.push(`  ! ${report.warning}`);
  if (report.moveTask)
    lines.push(
      `  SQS move task ${report.moveTask.taskHandle} started for ~${report.moveTask.approximateMessages} message(s) (aws sqs list-message-move-tasks shows its progress)`,
    );
  for (const item of report.items.filter((i) => i.outcome === 'skipped' || i.outcome === 'failed').slice(0, 20))
    lines.push(`  ${item.outcome} ${item.id}: ${item.detail ?? ''}`);
  return lines.join('\n');
}

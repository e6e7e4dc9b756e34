/**
 * What `local` shows on stderr while it runs, and the summary it prints when it stops. The functions' own logs never
 * come here (they go to the log file the banner names), so the redrawn counters line has stderr to itself; notes
 * and the event sources' warnings clear it first and it is drawn again at the next refresh.
 */
import type { FailureEnvelope } from '../../contracts/failure';
import { table } from '../../ops/output';
import type { SimulationSummary } from '../simulate';
import type { LocalCounters } from './pipeline';
import type { LocalLog } from './ports';
import type { LocalSettings } from './settings';

/** What the document store holds that this run wrote. */
export interface StoredCounts {
  /** Readings this run inserted. */
  readonly readings: number;
  /** Records this run put in the quarantine collection. */
  readonly quarantined: number;
}

/** How the records the sink acknowledged split: new readings, readings the store held already, quarantined. */
export function storedSplit(counters: LocalCounters, stored: StoredCounts) {
  return {
    readings: stored.readings,
    // What the sink acknowledged without adding a document: the store held that event id (or record) already
    duplicates: Math.max(0, counters.stored - stored.readings - stored.quarantined),
    quarantined: stored.quarantined,
  };
}

export function countersLine(
  counters: LocalCounters,
  stored: StoredCounts,
  fleet?: { readonly sent: number; readonly acknowledged: number },
): string {
  const split = storedSplit(counters, stored);
  return [
    ...(fleet ? [`fleet sent ${fleet.sent}, acknowledged ${fleet.acknowledged}`] : []),
    `published ${counters.published} (${counters.received} queued, ${counters.unrouted} on topics no rule selects)`,
    `forwarded ${counters.forwarded}`,
    `stored ${split.readings} new + ${split.duplicates} duplicates + ${split.quarantined} quarantined`,
    `dead-lettered ${counters.deadLettered.ingest + counters.deadLettered.sink}`,
    `backlog ${counters.backlog}`,
    `retried ${counters.redelivered + counters.sinkRetries}`,
  ].join(' | ');
}

/** The demo fleet's part of the summary. */
export interface FleetSummary {
  readonly seed: number;
  readonly devices: number;
  /** Publishes, readings, duplicates and malformed messages together. */
  readonly published: number;
  /** Publishes the broker acknowledged (PUBACK). */
  readonly acknowledged: number;
  readonly readings: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly malformed: number;
}

export const fleetSummary = (summary: SimulationSummary): FleetSummary => ({
  seed: summary.seed,
  devices: summary.devices,
  published: summary.sent,
  acknowledged: summary.acknowledged,
  readings: summary.readings,
  duplicates: summary.duplicates,
  outOfOrder: summary.outOfOrder,
  malformed: summary.malformed,
});

/** What `local` prints when it stops. */
export interface ServeSummary {
  /** Where the sink wrote. */
  readonly store: 'in-memory' | 'MongoDB';
  readonly counters: LocalCounters;
  /** What the sink's acknowledged records became in the store. */
  readonly stored: { readonly readings: number; readonly duplicates: number; readonly quarantined: number };
  /** Ingest-queue messages not yet forwarded when it stopped (the queue lives in memory). */
  readonly droppedFromIngestQueue: number;
  /** Failures of this run per store and reason (`ingest-dlq not_json`). */
  readonly deadLetteredByReason: Readonly<Record<string, number>>;
  /** The ingest dead-letter queue, as `failures` shows it. */
  readonly ingestDeadLetters: readonly FailureEnvelope[];
  /** What the sink event source wrote to its dead-letter topic. */
  readonly sinkDeadLetters: readonly FailureEnvelope[];
  /** What the sink quarantined this run. */
  readonly quarantine: readonly FailureEnvelope[];
  /** The demo fleet, with --demo. */
  readonly fleet?: FleetSummary;
  /** With --duration: whether every acknowledged reading is stored or in a failure store. */
  readonly accounting?: { readonly complete: boolean; readonly problems: readonly string[] };
}

const MAX_LISTED = 20;

export function byReason(envelopes: readonly FailureEnvelope[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const envelope of envelopes) {
    const key = `${envelope.store} ${envelope.reason}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function showSummary(summary: ServeSummary, settings: LocalSettings): string {
  const { counters, stored, fleet } = summary;
  const lines = [
    ...(fleet
      ? [
          `fleet: ${fleet.devices} devices (seed ${fleet.seed}) published ${fleet.published}, acknowledged ${fleet.acknowledged}: ${fleet.readings} readings, ${fleet.duplicates} sent twice, ${fleet.outOfOrder} out of order, ${fleet.malformed} malformed`,
        ]
      : []),
    `published ${counters.published} (${counters.received} queued, ${counters.unrouted} on topics no rule selects), forwarded ${counters.forwarded}, sink acknowledged ${counters.stored}`,
    `stored (${summary.store}): ${stored.readings} new readings, ${stored.duplicates} duplicates collapsed, ${stored.quarantined} quarantined`,
    `retried: ${counters.redelivered} ingest redeliveries, ${counters.sinkRetries} sink re-invocations${counters.lateAcknowledgements > 0 ? `; ${counters.lateAcknowledgements} messages delivered twice, acknowledged after their visibility timeout ended` : ''}`,
    `dead-lettered: ${counters.deadLettered.ingest} in the ingest dead-letter queue, ${counters.deadLettered.sink} to ${settings.sink.deadLetterTopic ?? 'no dead-letter topic'}`,
  ];
  const reasons = Object.entries(summary.deadLetteredByReason);
  if (reasons.length > 0)
    lines.push(`failures by reason: ${reasons.map(([reason, count]) => `${count} ${reason}`).join(', ')}`);
  const inKafka = counters.forwarded - counters.stored - counters.deadLettered.sink;
  if (inKafka > 0)
    lines.push(
      `in Kafka: ${inKafka} records forwarded but not through the sink yet (KAFKA_BROKERS keeps them for the next start; the mock cluster drops them)`,
    );
  if (summary.droppedFromIngestQueue > 0)
    lines.push(`dropped: ${summary.droppedFromIngestQueue} messages still in the ingest queue (it lives in memory)`);
  const parked = [...summary.ingestDeadLetters, ...summary.sinkDeadLetters, ...summary.quarantine];
  if (parked.length > 0) {
    lines.push(
      '',
      `dead letters${parked.length > MAX_LISTED ? ` (first ${MAX_LISTED} of ${parked.length}; all of them with --json, or \`failures list --local\` while it runs)` : ''}:`,
    );
    lines.push(
      table(parked.slice(0, MAX_LISTED), [
        ['STORE', (row) => row.store],
        ['REASON', (row) => row.reason],
        ['DEVICE', (row) => row.deviceId],
        ['ERROR', (row) => (row.error.length > 80 ? `${row.error.slice(0, 79)}…` : row.error)],
      ]),
    );
  }
  if (summary.accounting)
    lines.push(
      '',
      summary.accounting.complete
        ? 'every acknowledged reading is stored or in a failure store'
        : `NOT every acknowledged reading is accounted for:\n${summary.accounting.problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  return lines.join('\n');
}

/**
 * The counters line on stderr: redrawn in place on a terminal, printed as a plain line otherwise; notes and the
 * event sources' warnings go above it. Silent with --json (scripts read stdout).
 */
export class StatusLine implements LocalLog {
  private shown = false;

  public constructor(
    private readonly stderr: { write(chunk: string): unknown; isTTY?: boolean; columns?: number },
    private readonly quiet: boolean,
  ) {}

  public show(line: string): void {
    if (this.quiet) return;
    if (this.stderr.isTTY) {
      // A line longer than the terminal wraps, and erasing the line would then leave its first rows behind
      const width = this.stderr.columns ?? Number.POSITIVE_INFINITY;
      this.stderr.write(`\r\x1b[2K${line.length < width ? line : `${line.slice(0, Math.max(0, width - 2))}…`}`);
      this.shown = true;
    } else this.stderr.write(`${line}\n`);
  }

  public note(message: string): void {
    this.clear();
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  public warn(message: string): void {
    this.clear();
    this.stderr.write(`warning: ${message}\n`);
  }

  public error(message: string): void {
    this.clear();
    this.stderr.write(`error: ${message}\n`);
  }

  private clear(): void {
    if (this.shown) this.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}

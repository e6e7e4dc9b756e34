/**
 * Whether a `local --duration` run lost anything: every message the pipeline took is forwarded or parked, every record
 * forwarded to Kafka is acknowledged by the sink or dead-lettered, and — with the demo fleet, which knows what it
 * sent — every reading the broker acknowledged is in the readings collection or in a failure store, and every
 * acknowledged malformed message is in a failure store.
 */
import type { FailureEnvelope } from '../../contracts/failure';
import type { SimulationSummary } from '../simulate';
import type { LocalCounters } from './pipeline';

export interface AccountingInput {
  readonly counters: LocalCounters;
  readonly droppedFromIngestQueue: number;
  /** Every failure of this run: ingest dead-letter queue, sink dead-letter topic, quarantine. */
  readonly failures: readonly FailureEnvelope[];
  /** The demo fleet's summary, with its record of what it sent; none when it stopped early. */
  readonly fleet?: SimulationSummary;
  /**
   * Whether the run was given `--demo`: its fleet's record is then required, since without it the checks of what the
   * fleet sent cannot run, and a run that published nothing would pass. @default false
   */
  readonly demo?: boolean;
  /** Which of these event ids the readings collection holds. */
  readonly storedIds: (eventIds: readonly string[]) => Promise<ReadonlySet<string>>;
}

export interface Accounting {
  readonly complete: boolean;
  readonly problems: readonly string[];
}

const sample = (ids: readonly string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;

export async function accountFor(input: AccountingInput): Promise<Accounting> {
  const { counters } = input;
  const problems: string[] = [];
  if (input.droppedFromIngestQueue > 0)
    problems.push(
      `${input.droppedFromIngestQueue} messages were still in the ingest queue, neither forwarded nor parked`,
    );
  const handled = counters.stored + counters.deadLettered.sink;
  if (handled < counters.forwarded)
    problems.push(
      `${counters.forwarded - handled} records forwarded to Kafka were neither acknowledged by the sink nor dead-lettered`,
    );
  if (input.demo && !input.fleet?.record)
    problems.push(
      'the demo fleet (--demo) stopped without its record of what it sent (see its error above): its readings cannot be accounted for',
    );
  if (input.fleet) {
    const record = input.fleet.record ?? [];
    const acknowledged = [
      ...new Set(record.flatMap((device) => device.readings.filter((r) => r.confirmed).map((r) => r.eventId))),
    ];
    const stored = await input.storedIds(acknowledged);
    const parked = new Set(input.failures.flatMap((failure) => (failure.eventId ? [failure.eventId] : [])));
    const missing = acknowledged.filter((id) => !stored.has(id) && !parked.has(id));
    if (missing.length > 0)
      problems.push(
        `${missing.length} acknowledged readings are neither stored nor in a failure store: ${sample(missing)}`,
      );
    const malformed = record.reduce((sum, device) => sum + device.malformed.filter((m) => m.confirmed).length, 0);
    const fleetIds = new Set(acknowledged);
    const otherFailures = input.failures.filter((failure) => !failure.eventId || !fleetIds.has(failure.eventId));
    if (otherFailures.length < malformed)
      problems.push(
        `${malformed} acknowledged malformed messages, but only ${otherFailures.length} of them in a failure store`,
      );
  }
  return { complete: problems.length === 0, problems };
}

/**
 * The sink's pure core: decodes a Kafka event, stores each reading exactly once, moves each device's latest state
 * forward only, quarantines what can never be stored, and reports what must be retried.
 */
import { isUtf8 } from 'node:buffer';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvalidReason } from '../../contracts/envelope';
import { failureDetail } from '../../contracts/failure';
import { SinkMetric } from '../../contracts/metrics';
import { parseEnvelope } from '../shared/envelope';
import { boundedFields, type LoggerPort, type MetricsPort } from '../shared/observability';
import {
  type DeviceStateDocument,
  deviceStateDocument,
  isNewer,
  type ReadingDocument,
  readingDocument,
  type StoredReading,
  sameReading,
} from './documents';
import {
  decodeBase64,
  failureOf,
  flattenRecords,
  headerList,
  type KafkaBatchResponse,
  type KafkaEvent,
  type KafkaEventRecord,
  type RecordSource,
  sourceId,
} from './kafka-event';
import type { QuarantineEntry, ReadingOutcome, SinkStores, StoreFailure } from './ports';

/** Reasons the sink adds to the envelope's own (see `InvalidReason`). */
export const SinkInvalidReason = {
  MissingValue: 'missing_value',
  BadBase64: 'bad_base64',
  NotUtf8: InvalidReason.NotUtf8,
  WriteRejected: 'write_rejected',
  /** The eventId names a different reading (device, time, sequence or values differ): forged or reused. */
  EventIdConflict: 'event_id_conflict',
} as const;

/** The other candidates of an eventId when there is only one (the usual case): shared, never written to. */
const NONE: readonly Candidate[] = [];

/** Freshness values recorded per invocation at most (EMF keeps up to 100 values per metric). */
const MAX_FRESHNESS_SAMPLES = 100;

export interface SinkDeps extends SinkStores {
  readonly logger: LoggerPort;
  readonly metrics: MetricsPort;
  readonly maxMessageBytes: number;
  /** Epoch ms by which the batch must be handled. */
  readonly deadline: number;
  readonly now?: () => number;
}

/** A record as delivered; its topic, partition and offset are what a batch item failure names. */
interface Decoded {
  readonly record: KafkaEventRecord;
}

interface Valid extends Decoded {
  readonly document: ReadingDocument;
}

/** One distinct reading under an eventId within a batch, with every record that carries it (a replay shares one). */
interface Candidate {
  readonly document: ReadingDocument;
  readonly items: Valid[];
}

/** The distinct readings under one eventId, in batch order: the first is what the batch writes. */
type Candidates = [Candidate, ...Candidate[]];

interface Invalid extends Decoded {
  /** Where it came from, as the quarantine stores it (built for invalid records only: valid ones need none). */
  readonly source: RecordSource;
  readonly reason: string;
  readonly detail: string;
  /** `event_id_conflict`: the reading that holds the eventId. */
  readonly conflictsWith?: StoredReading;
}

/** Invalid records are rare: built by a module-level function, not a closure created for every record. */
function invalidRecord(
  record: KafkaEventRecord,
  reason: string,
  detail: string,
  conflictsWith?: StoredReading,
): Invalid {
  const source: RecordSource = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
  };
  return conflictsWith ? { record, source, reason, detail, conflictsWith } : { record, source, reason, detail };
}

function decode(record: KafkaEventRecord, maxBytes: number, now: Date): Valid | Invalid {
  if (typeof record.value !== 'string') {
    return invalidRecord(record, SinkInvalidReason.MissingValue, 'record has no value (tombstone?)');
  }
  if (record.value.length > Math.ceil((maxBytes * 4) / 3) + 4) {
    return invalidRecord(record, InvalidReason.TooLarge, `value exceeds the ${maxBytes}-byte limit`);
  }
  const bytes = decodeBase64(record.value);
  if (!bytes) return invalidRecord(record, SinkInvalidReason.BadBase64, 'value is not valid base64');
  // Validated first (simdutf, what TextDecoder's fatal mode rejects: overlong forms, surrogates, beyond U+10FFFF),
  // then decoded as it is: Buffer's UTF-8 decoding keeps a leading byte order mark, so the envelope's one rule (not
  // JSON) applies here as in the forwarder instead of a decoder silently dropping it
  if (!isUtf8(bytes)) return invalidRecord(record, SinkInvalidReason.NotUtf8, 'value is not valid UTF-8');
  const parsed = parseEnvelope(bytes.toString('utf8'), maxBytes);
  if (!parsed.ok) return invalidRecord(record, parsed.reason, parsed.detail);
  return { record, document: readingDocument(parsed.envelope, record, now) };
}

/** Handles one Kafka batch. Never throws for a record's sake; infrastructure failures become batch item failures. */
export async function sinkBatch(event: KafkaEvent, deps: SinkDeps): Promise<KafkaBatchResponse> {
  const now = deps.now ?? Date.now;
  const started = new Date(now());
  const records = flattenRecords(event);
  const valid: Valid[] = [];
  const invalid: Invalid[] = [];
  for (const record of records) {
    const decoded = decode(record, deps.maxMessageBytes, started);
    if ('document' in decoded) valid.push(decoded);
    else invalid.push(decoded);
  }

  // 1. Readings, once per eventId. The records of one eventId are grouped by reading (a replay may share a batch with
  // its original), and every distinct reading is resolved against the one stored under the eventId: the same reading
  // is a duplicate, another a conflict, never a duplicate (it would vanish silently). Only when nothing was stored
  // does the batch's first reading win, and the others conflict with it.
  const byEventId = new Map<string, Candidates>();
  for (const item of valid) {
    const candidates = byEventId.get(item.document._id);
    const same = candidates?.find((candidate) => sameReading(candidate.document, item.document));
    if (same) same.items.push(item);
    else if (candidates) candidates.push({ document: item.document, items: [item] });
    else byEventId.set(item.document._id, [{ document: item.document, items: [item] }]);
  }
  const documents = [...byEventId.values()].map(([first]) => first.document);
  const outcomes = await deps.readings.write(documents, deps.deadline);
  // Loops, not `new Map(documents.map(…))` or destructuring with a rest: no tuple or array per record
  const outcomeOf = new Map<string, ReadingOutcome>();
  for (let i = 0; i < documents.length; i++)
    outcomeOf.set((documents[i] as ReadingDocument)._id, outcomes[i] as ReadingOutcome);
  const existing = await storedDuplicates(documents, outcomeOf, deps);

  const failed: Decoded[] = [];
  const stored: Valid[] = [];
  /** Stored by this batch's write (not duplicates): what freshness is sampled from. */
  const fresh: Valid[] = [];
  const missing: string[] = [];
  let conflicts = 0;
  const conflicting = ({ items }: Candidate, holder: StoredReading) => {
    invalid.push(...items.map((item) => conflict(item, holder)));
    conflicts += items.length;
  };
  for (const [eventId, candidates] of byEventId) {
    const outcome = outcomeOf.get(eventId);
    const first = candidates[0];
    const others = candidates.length > 1 ? candidates.slice(1) : NONE;
    if (outcome?.status === 'duplicate') {
      const holder = existing.readings.get(eventId);
      // "Already stored" with no stored reading to show (a time-series mark outliving its reading, a document deleted
      // since the write, or the read failed): not acknowledged, never moves state; the retry writes it again
      if (!holder) {
        for (const candidate of candidates) failed.push(...candidate.items);
        if (!existing.failed) missing.push(`eventId ${eventId} reported stored, but no reading holds it: retried`);
        continue;
      }
      for (const candidate of candidates) {
        if (sameReading(holder, candidate.document)) stored.push(...candidate.items);
        else conflicting(candidate, holder);
      }
    } else if (outcome?.status === 'written') {
      for (const item of first.items) {
        stored.push(item);
        fresh.push(item);
      }
      for (const candidate of others) conflicting(candidate, storedReading(first.document));
    } else if (outcome?.status === 'failed' && outcome.kind === 'permanent') {
      const detail = outcome.error;
      invalid.push(...first.items.map((item) => invalidRecord(item.record, SinkInvalidReason.WriteRejected, detail)));
      // Not conflicts: the reading they would conflict with was never stored. Parked with the rejection they share
      // (never written, so they move no state), where a replay after the fix writes them
      for (const { items } of others) invalid.push(...items.map((item) => rejectedWith(item, first.document, detail)));
    } else {
      // A transient failure decides nothing (was the eventId stored before?): every reading of it is retried
      for (const candidate of candidates) failed.push(...candidate.items);
    }
  }

  // 2. Latest state, only ever forward; 3. quarantine — independent, so in parallel
  const [state, parked] = await Promise.all([updateLatestState(stored, deps), quarantine(invalid, deps, started)]);
  failed.push(...state.failed, ...parked.failed);

  // Metrics and logs: one flush per invocation, no per-record line at INFO
  const written = outcomes.filter((o) => o.status === 'written').length;
  deps.metrics.addMetric(SinkMetric.BatchSize, MetricUnit.Count, records.length);
  deps.metrics.addMetric(SinkMetric.Written, MetricUnit.Count, written);
  deps.metrics.addMetric(SinkMetric.Duplicates, MetricUnit.Count, stored.length - written);
  deps.metrics.addMetric(SinkMetric.Stale, MetricUnit.Count, state.stale);
  deps.metrics.addMetric(SinkMetric.Invalid, MetricUnit.Count, invalid.length - parked.failed.length);
  deps.metrics.addMetric(SinkMetric.Conflicts, MetricUnit.Count, conflicts);
  deps.metrics.addMetric(SinkMetric.Failed, MetricUnit.Count, failed.length);
  recordFreshness(fresh, deps, now());

  if (failed.length > 0) {
    const readingFailures = outcomes.filter(isFailure);
    const all = [
      ...errorsOf(readingFailures),
      ...errorsOf(existing.failures),
      ...missing,
      ...errorsOf(state.failures),
      ...errorsOf(parked.failures),
    ];
    const hint = [readingFailures, existing.failures, state.failures, parked.failures]
      .flat()
      .find((f) => f.hint !== undefined)?.hint;
    deps.logger.error(
      'Records not stored; the event source will deliver them again',
      boundedFields({
        count: failed.length,
        errors: all.slice(0, 5).map(failureDetail),
        ...(hint ? { hint } : {}),
      }),
    );
  }
  if (invalid.length > 0) {
    deps.logger.warn(
      'Records quarantined',
      boundedFields({
        count: invalid.length,
        examples: invalid.slice(0, 5).map((i) => ({
          source: failureDetail(sourceId(i.source)),
          reason: i.reason,
          detail: failureDetail(i.detail),
        })),
      }),
    );
  }

  const seen = new Set<string>();
  const batchItemFailures = failed
    .filter((item) => {
      const id = sourceId(item.record);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .map((item) => failureOf(item.record));
  return { batchItemFailures };
}

const describeReading = (reading: StoredReading): string =>
  `${reading.deviceId} ts ${reading.ts.toISOString()} seq ${reading.seq}`;

/** The fields of a reading that `conflictsWith` shows, whether it was read back or won within the batch. */
const storedReading = ({ _id, deviceId, ts, seq, readings, receivedAt, kafka }: ReadingDocument): StoredReading => ({
  _id,
  deviceId,
  ts,
  seq,
  readings,
  receivedAt,
  kafka,
});

function conflict(item: Valid, holder: StoredReading): Invalid {
  const detail = `eventId ${item.document._id} belongs to ${describeReading(holder)}; this record is ${describeReading(item.document)}`;
  return invalidRecord(item.record, SinkInvalidReason.EventIdConflict, detail, holder);
}

/** A reading not written because the batch's first reading with its eventId was rejected by MongoDB. */
function rejectedWith(item: Valid, sibling: ReadingDocument, error: string): Invalid {
  const detail = `not written: the batch's first reading with eventId ${item.document._id} (${describeReading(sibling)}) was rejected (${error}); this record is ${describeReading(item.document)}`;
  return invalidRecord(item.record, SinkInvalidReason.WriteRejected, detail);
}

const isFailure = (outcome: { readonly status: string }): outcome is StoreFailure => outcome.status === 'failed';

/** The distinct errors of some failures, in order. */
const errorsOf = (failures: readonly StoreFailure[]): string[] => [...new Set(failures.map((f) => f.error))];

/**
 * The stored readings behind "already stored" outcomes, to tell a replay from a reading that reuses the eventId.
 * Read only when there are duplicates (replays), so a clean batch costs no extra round trip. When the read fails the
 * duplicates are retried: acknowledging them unchecked could drop a conflicting reading silently.
 */
async function storedDuplicates(
  documents: readonly ReadingDocument[],
  outcomeOf: ReadonlyMap<string, ReadingOutcome>,
  deps: SinkDeps,
): Promise<{ readings: Map<string, StoredReading>; failed: boolean; failures: StoreFailure[] }> {
  const ids = documents.filter((d) => outcomeOf.get(d._id)?.status === 'duplicate').map((d) => d._id);
  if (ids.length === 0) return { readings: new Map(), failed: false, failures: [] };
  const found = await deps.readings.stored(ids, deps.deadline);
  if (!Array.isArray(found)) return { readings: new Map(), failed: true, failures: [found] };
  return { readings: new Map(found.map((reading) => [reading._id, reading])), failed: false, failures: [] };
}

interface StepResult {
  readonly failed: Decoded[];
  readonly failures: StoreFailure[];
}

/**
 * Moves each device's state to its newest stored reading of the batch; the store keeps it where it is when it holds
 * a state as new or newer (`stale`).
 */
async function updateLatestState(stored: readonly Valid[], deps: SinkDeps): Promise<StepResult & { stale: number }> {
  const newest = new Map<string, Valid>();
  for (const item of stored) {
    const current = newest.get(item.document.deviceId);
    if (!current || isNewer(item.document, current.document)) newest.set(item.document.deviceId, item);
  }
  const now = new Date((deps.now ?? Date.now)());
  const states: DeviceStateDocument[] = [];
  for (const { document } of newest.values()) states.push(deviceStateDocument(document, now));
  const outcomes = states.length === 0 ? [] : await deps.devices.advance(states, deps.deadline);
  const failedDevices = new Set<string>();
  const failures: StoreFailure[] = [];
  let stale = 0;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'stale') stale++;
    if (outcome.status === 'failed') {
      failedDevices.add(states[i]?._id ?? '');
      failures.push(outcome);
    }
  });
  return {
    // Every record of a device whose state did not move is retried: its reading write is idempotent
    failed: failedDevices.size === 0 ? [] : stored.filter((item) => failedDevices.has(item.document.deviceId)),
    failures,
    stale,
  };
}

/** Parks records in the quarantine, keyed by source (the store counts deliveries on replays). */
async function quarantine(items: readonly Invalid[], deps: SinkDeps, now: Date): Promise<StepResult> {
  if (items.length === 0) return { failed: [], failures: [] };
  const entries = items.map(
    (item): QuarantineEntry => ({
      _id: sourceId(item.source),
      stage: 'sink',
      reason: item.reason,
      error: failureDetail(item.detail),
      firstFailedAt: now,
      source: item.source,
      key: item.record.key ?? null,
      value: item.record.value ?? null,
      headers: headerList(item.record.headers),
      ...(item.conflictsWith ? { conflictsWith: item.conflictsWith } : {}),
    }),
  );
  const outcomes = await deps.quarantine.park(entries, deps.deadline);
  const failed = items.filter((_, i) => outcomes[i]?.status === 'failed');
  return { failed, failures: outcomes.filter(isFailure) };
}

/** Freshness of newly written readings: now − device time, now − IoT receive time (sampled). */
function recordFreshness(fresh: readonly Valid[], deps: SinkDeps, at: number): void {
  const step = Math.max(1, Math.ceil(fresh.length / MAX_FRESHNESS_SAMPLES));
  for (let i = 0; i < fresh.length; i += step) {
    const { document } = fresh[i] as Valid;
    deps.metrics.addMetric(SinkMetric.FreshnessDevice, MetricUnit.Milliseconds, at - document.ts.getTime());
    deps.metrics.addMetric(SinkMetric.FreshnessIngest, MetricUnit.Milliseconds, at - document.receivedAt.getTime());
  }
}

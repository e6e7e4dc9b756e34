/**
 * Sink benchmark (a script, not a test): `npm run bench:sink`.
 *
 * CPU per record of the sink core (base64 decode, UTF-8 decode, JSON parse, validation, unsafe-key scan, building
 * the readings / device-state writes, through the MongoDB adapters) at batch 100 and 1,000, against the floor of base64 decode + JSON.parse alone.
 * MongoDB is replaced by a collection that acknowledges every operation without storing it, so the figure is the
 * sink's own work, not the database's. Median of 5 runs after a warm-up. `--profile-windows` prints when the sink
 * core was measured, for `npm run bench:profile -- --windows` (profiling with `node --cpu-prof`).
 */
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../lambdas/sink/documents';
import type { KafkaEvent } from '../../lambdas/sink/kafka-event';
import type { BulkResult, MongoCollection } from '../../lambdas/sink/mongo/collections';
import { mongoStores } from '../../lambdas/sink/mongo/stores';
import { sinkBatch } from '../../lambdas/sink/sink';
import { devicePayload, envelope, kafkaEvent, kafkaRecord } from '../helpers/factories';

const RECORDS = 50_000;
const RUNS = 5;

/** Acknowledges every operation as an upsert; stores nothing. */
class AcknowledgingCollection<T extends Document> implements MongoCollection<T> {
  public async bulkWrite(operations: AnyBulkWriteOperation<T>[]): Promise<BulkResult> {
    const upsertedIds: Record<number, unknown> = {};
    for (let i = 0; i < operations.length; i++) upsertedIds[i] = i;
    return { upsertedIds, insertedCount: 0 };
  }
  public find() {
    return { toArray: async () => [] };
  }
}

function events(size: number): KafkaEvent[] {
  const now = Date.now();
  const records = Array.from({ length: RECORDS }, (_, i) =>
    kafkaRecord(
      envelope(`sensor-${String(i % 500).padStart(4, '0')}`, devicePayload({ seq: i, ts: now - 10_000 }), now),
      { partition: i % 6, offset: i },
    ),
  );
  const out: KafkaEvent[] = [];
  for (let i = 0; i < records.length; i += size) out.push(kafkaEvent(records.slice(i, i + size)));
  return out;
}

async function cpuMicrosPerRecord(work: () => Promise<void>): Promise<number> {
  await work();
  const figures: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    figures.push((used.user + used.system) / RECORDS);
  }
  return figures.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

async function main(): Promise<void> {
  const collections = {
    readings: new AcknowledgingCollection<ReadingDocument>(),
    devices: new AcknowledgingCollection<DeviceStateDocument>(),
    quarantine: new AcknowledgingCollection<QuarantineDocument>(),
  };
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const deps = {
    ...mongoStores(collections, false),
    logger: quiet,
    metrics: { addMetric() {} },
    maxMessageBytes: 16_384,
    deadline: Number.MAX_SAFE_INTEGER,
  };
  const sample = events(1)[0];
  const bytes = Buffer.from(String(Object.values(sample?.records ?? {})[0]?.[0]?.value), 'base64').length;
  console.log(
    `Sink benchmark: ${RECORDS.toLocaleString('en-US')} records of ${bytes} bytes, 500 devices; CPU per record, median of ${RUNS} runs, Node ${process.version}`,
  );
  console.log('| batch | sink core µs/rec | floor (base64 + JSON.parse) µs/rec | ratio |');
  console.log('|------:|-----:|-----:|-----:|');
  /** Spans of `process.hrtime` (µs) in which the sink core was measured. */
  const windows: string[] = [];
  for (const size of [100, 1_000]) {
    const batches = events(size);
    const from = process.hrtime.bigint() / 1000n;
    const sink = await cpuMicrosPerRecord(async () => {
      for (const event of batches) {
        const response = await sinkBatch(event, deps);
        if (response.batchItemFailures.length > 0) throw new Error('benchmark data must store cleanly');
      }
    });
    windows.push(`${from}-${process.hrtime.bigint() / 1000n}`);
    const floor = await cpuMicrosPerRecord(async () => {
      for (const event of batches) {
        for (const records of Object.values(event.records)) {
          for (const record of records) JSON.parse(Buffer.from(record.value ?? '', 'base64').toString('utf8'));
        }
      }
    });
    console.log(
      `| ${size.toLocaleString('en-US').padStart(5)} | ${sink.toFixed(1)} | ${floor.toFixed(1)} | ${(sink / floor).toFixed(2)}× |`,
    );
  }
  if (process.argv.includes('--profile-windows')) console.log(`profile windows: ${windows.join(',')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

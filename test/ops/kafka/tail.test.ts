/**
 * `tail` against librdkafka's mock cluster: which records it picks (newest, from the beginning, from an offset),
 * how it prints keys, headers and values, following new records until a limit or Ctrl-C, and that it commits
 * nothing to any group; and the read plan itself, from given offsets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTail } from '../../../ops/kafka/tail';
import { KafkaFixture, oneLineError, Recorder, run } from './fixture';

const TOPIC = 'telemetry.readings.v1';
const BASE = Date.UTC(2026, 0, 1);
let kafka: KafkaFixture;
const cli = (...argv: string[]) => kafka.cli(...argv);

/** Records 0–7 in timestamp order: partition 0 holds 0, 2, 4, 6, 7; partition 1 holds 1, 3, 5; partition 2 none. */
const PLACEMENT = [0, 1, 0, 1, 0, 1, 0, 0];

interface Shown {
  partition: number;
  offset: number;
  timestamp: string;
  key: unknown;
  headers: { key: string; value: unknown }[];
  value: unknown;
}
const positions = (records: Shown[]) => records.map((r) => `${r.partition}/${r.offset}`);

beforeAll(async () => {
  kafka = new KafkaFixture({ [TOPIC]: 3 });
  for (const [i, partition] of PLACEMENT.entries()) {
    await kafka.produce(TOPIC, [
      {
        partition,
        timestamp: String(BASE + i * 1_000),
        key: i === 3 ? null : `dev-${i}`,
        value: i === 5 ? Buffer.from([0xff, 0xfe, 0x00]) : `{"i":${i}}`,
        headers: { 'event-id': `e${i}`, bin: Buffer.from([0xff, 0x00]) },
      },
    ]);
  }
});
afterAll(() => kafka.stop());

describe('tail', () => {
  it('prints the newest records across partitions by default, up to --max-messages', async () => {
    // Given records 0–7 spread over partitions 0 and 1 (beforeAll), When the newest 3 are asked for
    const result = await cli('--json', 'tail', '--max-messages', '3');

    // Then records 5, 6 and 7 are printed, whichever partition holds them
    expect(result.code).toBe(0);
    expect(positions(JSON.parse(result.stdout).records)).toEqual(['1/2', '0/3', '0/4']);
  });

  it('prints all of a small topic, oldest first', async () => {
    // When tail runs without options on a topic of 8 records
    const result = await cli('--json', 'tail');

    // Then all 8 are printed in timestamp order
    expect(positions(JSON.parse(result.stdout).records)).toEqual([
      '0/0',
      '1/0',
      '0/1',
      '1/1',
      '0/2',
      '1/2',
      '0/3',
      '0/4',
    ]);
  });

  it('starts at the beginning with --from-beginning, and at an offset with --partition and --offset', async () => {
    // When reads start at the beginning, and at offset 2 of partition 0
    const beginning = await cli('--json', 'tail', '--from-beginning', '--max-messages', '2');
    const fromOffset = await cli('--json', 'tail', '--partition', '0', '--offset', '2', '--max-messages', '2');

    // Then each prints the oldest records from there
    expect(positions(JSON.parse(beginning.stdout).records)).toEqual(['0/0', '1/0']);
    expect(positions(JSON.parse(fromOffset.stdout).records)).toEqual(['0/2', '0/3']);
  });

  it('shows keys, headers and values as text when printable and base64 otherwise', async () => {
    // Given partition 1 with a null key (record 3) and a binary value (record 5), When it is read
    const result = await cli('--json', 'tail', '--partition', '1');

    // Then text stays text, and binary bytes become base64
    const [first, second, third] = JSON.parse(result.stdout).records as Shown[];
    expect(first).toEqual({
      topic: TOPIC,
      partition: 1,
      offset: 0,
      timestamp: new Date(BASE + 1_000).toISOString(),
      key: 'dev-1',
      headers: [
        { key: 'event-id', value: 'e1' },
        { key: 'bin', value: { base64: '/wA=' } },
      ],
      value: '{"i":1}',
    });
    expect(second?.key).toBeNull();
    expect(third?.value).toEqual({ base64: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') });
  });

  it('prints each record for people as position, headers and value lines', async () => {
    // When one record is read without --json
    const result = await cli('tail', '--partition', '0', '--offset', '4');

    // Then it is printed as three lines
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `partition=0 offset=4 timestamp=${new Date(BASE + 7_000).toISOString()} key=dev-7`,
        '  headers: event-id=e7 bin=base64:/wA=',
        '  value: {"i":7}',
        '',
      ].join('\n'),
    );
  });

  it('commits nothing: the group it read with has no offsets', async () => {
    // When the whole topic is read
    const result = await cli('--json', 'tail', '--from-beginning');
    const { readerGroup } = JSON.parse(result.stdout);
    const admin = kafka.client().admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: readerGroup, topics: [TOPIC] });
    await admin.disconnect();

    // Then the throwaway group that read it has no committed offset on any partition
    expect(readerGroup).toMatch(/^telemetry-ops-read-[0-9a-f-]{36}$/);
    expect(offsets?.partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1']);
  });

  it('follows new records until --max-messages', async () => {
    // Given a follow of the empty partition 2 from its start (no race with the records produced next)
    const following = cli('tail', '--follow', '--partition', '2', '--offset', '0', '--max-messages', '2');
    await kafka.produce(
      TOPIC,
      ['late-1', 'late-2', 'late-3'].map((value) => ({ partition: 2, key: value, value })),
    );

    // When three records arrive
    const result = await following;

    // Then the first two are printed and the follow ends
    expect(result.code).toBe(0);
    expect(
      [...result.stdout.matchAll(/^partition=2 offset=(\d) .* key=(\S+)$/gm)].map((m) => `${m[1]}:${m[2]}`),
    ).toEqual(['0:late-1', '1:late-2']);
    expect(result.stderr).toMatch(/^2 records$/m);
  });

  it('stops following on the abort signal (Ctrl-C)', async () => {
    // Given a follow that is aborted as soon as it printed its first record
    const abort = new AbortController();
    const stdout = new Recorder();
    const write = stdout.write.bind(stdout);
    stdout.write = (chunk: string) => {
      abort.abort();
      return write(chunk);
    };

    // When the follow runs
    const result = await run(['tail', '--follow', '--partition', '1', '--offset', '2'], {
      brokers: kafka.cluster.bootstrapServers,
      config: kafka.config,
      signal: abort.signal,
      stdout,
    });

    // Then it ends cleanly after that record
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^partition=1 offset=2 /);
    expect(result.stderr).toMatch(/^1 record$/m);
  });

  it('ends a follow with a one-line error when the brokers go away under it', async () => {
    // Given a follow whose brokers go down once it printed its first record
    const stdout = new Recorder();
    const write = stdout.write.bind(stdout);
    let down = false;
    stdout.write = (chunk: string) => {
      if (!down) for (const id of kafka.cluster.brokerIds) kafka.cluster.brokerDown(id);
      down = true;
      return write(chunk);
    };

    try {
      // When the follow runs
      const result = await run(['tail', '--follow', '--partition', '1', '--offset', '2'], {
        brokers: kafka.cluster.bootstrapServers,
        config: kafka.config,
        stdout,
      });

      // Then it ends with exit code 1 and one error line after its "Following" note
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toEqual([
        `Following ${TOPIC}; Ctrl-C to stop`,
        expect.stringMatching(/^error: Cannot read Kafka topic telemetry\.readings\.v1: Kafka at .* is unreachable \(/),
      ]);
    } finally {
      for (const id of kafka.cluster.brokerIds) kafka.cluster.brokerUp(id);
    }
  });

  it('names every mistake in the position options in one line', async () => {
    // When tail runs with each kind of position mistake, two of them needing the broker's offsets
    const noPartition = await cli('tail', '--offset', '3');
    const both = await cli('tail', '--partition', '0', '--offset', '3', '--from-beginning');
    const noSuchPartition = await cli('tail', '--partition', '7');
    const pastEnd = await cli('tail', '--partition', '1', '--offset', '9');

    // Then each is named in one line
    expect(oneLineError(noPartition)).toBe(
      'error: --offset needs --partition (an offset means something in one partition only)',
    );
    expect(oneLineError(both)).toBe('error: --offset and --from-beginning both say where to start: give one');
    expect(oneLineError(noSuchPartition)).toBe(`error: topic ${TOPIC} has no partition 7 (it has 3: 0–2)`);
    expect(oneLineError(pastEnd)).toBe(
      'error: --offset 9 is past the end of partition 1 (the next record gets offset 3)',
    );
  });

  it('reports an unknown topic in one line', async () => {
    // When a topic that does not exist is read
    const result = await cli('tail', 'no.such.topic');

    // Then one line says so
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
  });
});

describe('planTail', () => {
  const OFFSETS = [
    { partition: 0, low: 10, high: 50 },
    { partition: 1, low: 0, high: 3 },
  ];

  it('reads the newest n of every partition by default and keeps the newest n overall', () => {
    // Given partitions with 40 and 3 records kept, When the newest 5 are planned
    const plan = planTail('t', OFFSETS, { fromBeginning: false, follow: false, maxMessages: 5 });

    // Then each partition is read from n before its end, and the newest n are kept
    expect(plan.ranges).toEqual([
      { partition: 0, start: 45, end: 50 },
      { partition: 1, start: 0, end: 3 },
    ]);
    expect(plan).toMatchObject({ limit: 5, keep: 'last', follow: false });
  });

  it('reads the oldest n from the beginning or from an offset', () => {
    // When reads from the beginning and from an offset are planned
    const beginning = planTail('t', OFFSETS, { fromBeginning: true, follow: false });
    const offset = planTail('t', OFFSETS, { fromBeginning: false, follow: false, partition: 0, offset: 48 });

    // Then they start there, read at most 10 (the default) and keep the first
    expect(beginning.ranges).toEqual([
      { partition: 0, start: 10, end: 20 },
      { partition: 1, start: 0, end: 3 },
    ]);
    expect(beginning).toMatchObject({ limit: 10, keep: 'first' });
    expect(offset.ranges).toEqual([{ partition: 0, start: 48, end: 50 }]);
  });

  it('follows from the end, or the given start, with no limit unless one is given', () => {
    // When follows are planned
    const latest = planTail('t', OFFSETS, { fromBeginning: false, follow: true });
    const beginning = planTail('t', OFFSETS, { fromBeginning: true, follow: true, maxMessages: 3 });

    // Then the ranges are open-ended
    expect(latest.ranges).toEqual([
      { partition: 0, start: 50 },
      { partition: 1, start: 3 },
    ]);
    expect(latest.limit).toBeNull();
    expect(beginning.ranges).toEqual([
      { partition: 0, start: 10 },
      { partition: 1, start: 0 },
    ]);
    expect(beginning.limit).toBe(3);
  });

  it('refuses an offset before what retention kept', () => {
    // When a read before the log start is planned, Then it is refused with the offset retention kept
    expect(() => planTail('t', OFFSETS, { fromBeginning: false, follow: false, partition: 0, offset: 9 })).toThrow(
      /--offset 9 is before the earliest offset partition 0 still keeps \(10\)/,
    );
  });
});

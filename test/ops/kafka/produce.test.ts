/**
 * `produce` against librdkafka's mock cluster: the delivery report, the record as read back (a valid envelope keyed
 * and headed as the forwarder does, or the value as given), and the one-line errors for user mistakes and for
 * brokers that cannot be reached.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKafkaMessage } from '../../../lambdas/forward/forwarder';
import { parseEnvelope } from '../../../lambdas/shared/envelope';
import { KafkaFixture, oneLineError, run } from './fixture';

const TOPIC = 'telemetry.readings.v1';
let kafka: KafkaFixture;
const cli = (...argv: string[]) => kafka.cli(...argv);

interface ReadBack {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The record at one position, read with a fresh consumer group. */
async function readAt(topic: string, partition: number, offset: number): Promise<ReadBack> {
  const consumer = kafka.client().consumer({
    groupId: `read-back-${partition}-${offset}-${Date.now()}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise<ReadBack>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition: p, message }) => {
            if (p !== partition || Number(message.offset) !== offset) return;
            const headers: Record<string, string> = {};
            for (const [key, value] of Object.entries(message.headers ?? {})) headers[key] = String(value);
            resolve({ key: message.key?.toString() ?? null, value: message.value, headers });
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

beforeAll(() => {
  kafka = new KafkaFixture({ [TOPIC]: 3, scratch: 2 });
});
afterAll(() => kafka.stop());

describe('produce', () => {
  it('produces a valid envelope for a device, keyed, partitioned and headed like the forwarder does', async () => {
    // When a record is produced for a device with a sequence number and two readings
    const result = await cli(
      '--json',
      'produce',
      '--device',
      'sensor-0042',
      '--seq',
      '7',
      '--reading',
      'temperature=21.4',
      '--reading',
      'humidity=40',
    );

    // Then the record read back at the reported position is that device's envelope, keyed and headed as forwarded
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    const record = await readAt(TOPIC, report.partition, report.offset);
    const parsed = parseEnvelope(record.value?.toString() ?? '');
    if (!parsed.ok) throw new Error(`not a valid envelope: ${parsed.detail}`);
    const envelope = parsed.envelope;
    expect(envelope).toMatchObject({
      deviceId: 'sensor-0042',
      clientId: 'sensor-0042',
      sourceTopic: 'sensors/sensor-0042/telemetry',
      seq: 7,
      readings: { temperature: 21.4, humidity: 40 },
    });
    const forwarded = toKafkaMessage('x', record.value?.toString() ?? '', envelope);
    expect(record.key).toBe(forwarded.key);
    expect(record.headers).toEqual(forwarded.headers);
    expect(report).toMatchObject({
      topic: TOPIC,
      baseOffset: report.offset,
      key: 'sensor-0042',
      headers: forwarded.headers,
      eventId: envelope.eventId,
      timestamp: new Date(envelope.receivedAt).toISOString(),
    });
    // The forwarder's partitioner (murmur2 of the key) picked the partition.
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    expect(report.partition).toBe(
      partitioner({ topic: TOPIC, partitionMetadata, message: { key: 'sensor-0042', value: '' } }),
    );
  });

  it('produces a given value as it is, with the given key, headers and partition, and says it is no envelope', async () => {
    // When a value that is no envelope is produced with a key, two headers and a partition
    const result = await cli(
      '--json',
      'produce',
      'scratch',
      '--key',
      'k1',
      '--value',
      '{"not":"an envelope"}',
      '--header',
      'source=manual',
      '--header',
      'empty=',
      '--partition',
      '1',
    );

    // Then it lands there byte for byte, and without --json a note says the sink will quarantine it
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ topic: 'scratch', partition: 1, eventId: null });
    expect(await readAt('scratch', 1, report.offset)).toEqual({
      key: 'k1',
      value: Buffer.from('{"not":"an envelope"}'),
      headers: { source: 'manual', empty: '' },
    });
    // --json keeps stderr for errors only
    expect(result.stderr).toBe('');
    const human = await cli('produce', 'scratch', '--value', 'plain text');
    expect(human.stderr).toMatch(
      /^note: the value is not a valid telemetry envelope \(not_json: .*\); the sink will quarantine it$/m,
    );
  });

  it('produces a file as the value, byte for byte', async () => {
    // Given a file of bytes that are not text
    const dir = mkdtempSync(join(tmpdir(), 'produce-file-'));
    const file = join(dir, 'record.bin');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    writeFileSync(file, bytes);

    // When it is produced
    const result = await cli('--json', 'produce', 'scratch', '--file', file, '--partition', '0');

    // Then the record holds exactly those bytes
    const report = JSON.parse(result.stdout);
    expect(report.valueBytes).toBe(5);
    expect((await readAt('scratch', 0, report.offset)).value).toEqual(bytes);
  });

  it('prints a delivery report for people', async () => {
    // When a record is produced without --json
    const result = await cli('produce', '--device', 'sensor-7');

    // Then the delivery report's fields are printed
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Topic:\s+telemetry\.readings\.v1$/m);
    expect(result.stdout).toMatch(/^Partition:\s+[012]$/m);
    expect(result.stdout).toMatch(/^Offset:\s+\d+$/m);
    expect(result.stdout).toMatch(/^Key:\s+sensor-7$/m);
    expect(result.stdout).toMatch(/^Headers:\s+event-id=\S+ received-at=\d+ schema-version=1 /m);
  });

  it('reports an unknown topic in one line, without creating it', async () => {
    // When a record is produced to a topic that does not exist
    const result = await cli('produce', 'no.such.topic');

    // Then one line says so, and the topic was not auto-created
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
    expect(await kafka.topicNames()).not.toContain('no.such.topic');
  });

  it('names user mistakes in one line', async () => {
    // When produce runs with each kind of mistake, one needing the broker (a partition the topic lacks)
    const both = await cli('produce', '--value', 'x', '--device', 'd');
    const valueAndFile = await cli('produce', '--value', 'x', '--file', 'y');
    const reading = await cli('produce', '--reading', 'temperature=warm');
    const header = await cli('produce', '--header', 'novalue');
    const device = await cli('produce', '--device', 'a/b');
    const partition = await cli('produce', '--partition', '5');
    const file = await cli('produce', '--file', '/no/such/file');

    // Then each is named in one line
    expect(oneLineError(both)).toBe(
      'error: --device, --seq and --reading build the value: give them, or --value/--file, not both',
    );
    expect(oneLineError(valueAndFile)).toBe('error: Give the value with --value or --file, not both');
    expect(oneLineError(reading)).toBe(
      'error: --reading "temperature=warm": expected name=number, e.g. temperature=21.5',
    );
    expect(oneLineError(header)).toBe('error: --header "novalue": expected key=value, e.g. trace-id=abc');
    expect(oneLineError(device)).toMatch(/^error: Cannot build a valid telemetry envelope for device "a\/b"/);
    expect(oneLineError(partition)).toBe(`error: Kafka topic ${TOPIC} has no partition 5 (it has 3: 0–2)`);
    expect(oneLineError(file)).toMatch(/^error: Cannot read --file \/no\/such\/file: ENOENT/);
  });
});

describe('unreachable brokers', () => {
  it('names the brokers and KAFKA_BROKERS when nothing listens there', async () => {
    // When produce runs against a port nobody listens on
    const result = await run(['produce'], { brokers: '127.0.0.1:1', config: kafka.config });

    // Then one line names the brokers and where they came from
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /^error: Cannot produce to Kafka topic telemetry\.readings\.v1: Kafka at 127\.0\.0\.1:1 is unreachable \(.*ECONNREFUSED.*\); check KAFKA_BROKERS/,
    );
  });

  it('reports brokers that went down in one line, for every kind of command', async () => {
    // Given every broker of the cluster down
    for (const id of kafka.cluster.brokerIds) kafka.cluster.brokerDown(id);
    try {
      // When each Kafka command runs
      const results = await Promise.all([
        cli('topics', 'list'),
        cli('topics', 'describe'),
        cli('groups', 'describe'),
        cli('tail'),
        cli('produce'),
      ]);

      // Then each ends in one line saying the brokers are unreachable
      for (const result of results) {
        expect(result.code).toBe(1);
        expect(oneLineError(result)).toMatch(/^error: Cannot .*: Kafka at 127\.0\.0\.1:\d+,.* is unreachable \(/);
      }
    } finally {
      for (const id of kafka.cluster.brokerIds) kafka.cluster.brokerUp(id);
    }
  });
});

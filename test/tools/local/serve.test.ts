/**
 * `telemetry-ops local`: the dependency errors a user sees, and a run from start to Ctrl-C — banner with the MQTT URL
 * and topics, counters on stderr, a device publishing through the embedded broker, the summary on stop. The run uses
 * the handlers from source with a MongoDB fake (the bundles are exercised end to end in test/e2e).
 */
import { MongoServerSelectionError } from 'mongodb';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsContext } from '../../../ops/context';
import { Output } from '../../../ops/output';
import type { LocalDependencies } from '../../../tools/local/dependencies';
import { MemoryDb, memorySinkCollections } from '../../../tools/local/memory-store';
import type { ForwarderFactory, SinkFactory } from '../../../tools/local/ports';
import { serveLocal } from '../../../tools/local/serve';
import { localSettings } from '../../../tools/local/settings';
import { cli, configDir } from '../../helpers/cli';
import { devicePayload } from '../../helpers/factories';
import { KafkaMockCluster } from '../../helpers/kafka-mock';
import { sourceForwarder, sourceSink } from '../../helpers/source-handlers';

class Recorder {
  public text = '';
  public readonly isTTY = false;
  public write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('telemetry-ops local: missing dependencies', () => {
  it('lists every problem at once', async () => {
    // Given a KAFKA_BROKERS and a MONGODB_URI that are both malformed
    // When `local` runs
    const run = await cli(['local'], { environment: { KAFKA_BROKERS: 'kafka', MONGODB_URI: 'localhost:27017' } });

    // Then it exits 1 naming both problems
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Kafka: KAFKA_BROKERS must be host:port[,host:port…], got "kafka"');
    expect(run.stderr).toContain('MongoDB: MONGODB_URI must start with mongodb:// or mongodb+srv://');
  });

  it('refuses a --visibility-timeout shorter than the forwarder timeout, before looking for any dependency', async () => {
    // Given a visibility timeout of 5 s, under the forwarder's 30 s
    // When `local` runs
    const run = await cli(['local', '--visibility-timeout', '5'], { environment: {} });

    // Then it refuses that option before it resolves any dependency
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "--visibility-timeout: the ingest queue's visibility timeout (5 s) is shorter than the forwarder's timeout (forwarder.timeoutSeconds, 30 s)",
    );
    expect(run.stderr).not.toContain('Cannot run the pipeline locally');
  });

  it('refuses --mqtt-url with the embedded broker options', async () => {
    // Given an external broker URL and an embedded broker port
    // When `local` runs
    const run = await cli(['local', '--mqtt-url', 'mqtt://localhost:1883', '--mqtt-port', '1884']);
    // Then commander refuses the pair
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("option '--mqtt-url <url>' cannot be used with option '--mqtt-port <port>'");
  });

  it('refuses --no-dashboard with --dashboard-port', async () => {
    // Given --no-dashboard and a dashboard port
    // When `local` runs
    const run = await cli(['local', '--no-dashboard', '--dashboard-port', '8081']);
    // Then commander refuses the pair
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("option '--no-dashboard' cannot be used with option '--dashboard-port <port>'");
  });
});

describe('telemetry-ops local: a run', () => {
  let cluster: KafkaMockCluster;
  const stdout = new Recorder();
  const stderr = new Recorder();
  const db = new MemoryDb('telemetry');
  let served: Promise<void>;
  const abort = new AbortController();

  beforeAll(async () => {
    cluster = KafkaMockCluster.start({ brokers: 1 });
    const context = new OpsContext({ env: 'dev', configDir: configDir() }, new Output({ stdout, stderr }, false), {});
    const settings = localSettings(context.config);
    cluster.createTopic(settings.topic, settings.partitions);
    cluster.createTopic(settings.sink.deadLetterTopic ?? '', 1);
    const dependencies: LocalDependencies = {
      kafka: { brokers: cluster.bootstrapServers, description: 'the test cluster', stop: () => undefined },
      mongoUri: 'mongodb://user:secret@127.0.0.1:9',
    };
    served = serveLocal(context, { mqttPort: 0, mqttHost: '127.0.0.1', logLevel: 'SILENT' }, abort.signal, {
      dependencies: async () => dependencies,
      handlers: { forwarder: sourceForwarder, sink: sourceSink(memorySinkCollections(db)) },
      store: db,
      refreshMs: 100,
    });
    const deadline = Date.now() + 20_000;
    while (!stderr.text.includes('Ctrl-C stops it.')) {
      if (Date.now() > deadline) throw new Error(`not started:\n${stderr.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    abort.abort();
    await served;
    cluster.stop();
  });

  it('prints where to publish: the MQTT URL and every topic, Basic Ingest included, with the password hidden', () => {
    // Given `local` running on the test cluster and the in-memory store (above)
    // When its start-up lines are read
    // Then they name the MQTT URL, every topic and the dashboard, with the MongoDB password hidden
    expect(stderr.text).toMatch(/MQTT {6}mqtt:\/\/127\.0\.0\.1:\d+ \(embedded broker\)/);
    expect(stderr.text).toContain('publish   sensors/<deviceId>/telemetry');
    expect(stderr.text).toContain('$aws/rules/TelemetryPipeline_dev_1/sensors/<deviceId>/telemetry   (Basic Ingest)');
    expect(stderr.text).toContain('mongodb://user:***@127.0.0.1:9');
    expect(stderr.text).not.toContain('secret');
    // The sensor-data dashboard, over the store the sink writes to, on loopback
    expect(stderr.text).toMatch(
      / {2}dashboard http:\/\/127\.0\.0\.1:\d+\/ {3}\(sensor data from the MongoDB store; this machine only\)/,
    );
  });

  it('carries a device message to MongoDB, parks a malformed one, counts both, and reports them when stopped', async () => {
    // Given `local` running, and a device that publishes one reading and, through Basic Ingest, one malformed message
    const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(stderr.text)?.[0] ?? '';
    const device = await connectAsync(url, { clientId: 'sensor-1' });
    await device.publishAsync('sensors/sensor-1/telemetry', JSON.stringify(devicePayload({ ts: Date.now() })), {
      qos: 1,
    });
    await device.publishAsync('$aws/rules/TelemetryPipeline_dev_1/sensors/sensor-1/telemetry', '{"ts":', { qos: 1 });
    await device.endAsync();

    // When the reading is stored and `local` is stopped
    await expect.poll(() => db.collection('readings').size, { timeout: 20_000 }).toBe(1);
    await expect
      .poll(() => stderr.text, { timeout: 5_000 })
      .toContain(
        'published 2 (2 queued, 0 on topics no rule selects) | forwarded 1 | stored 1 new + 0 duplicates + 0 quarantined',
      );
    abort.abort();
    await served;

    // Then the reading is in MongoDB, the malformed message in the ingest dead-letter queue, and the summary counts both
    expect((await db.collection('readings').find({}).toArray())[0]).toMatchObject({
      deviceId: 'sensor-1',
      sourceTopic: 'sensors/sensor-1/telemetry',
    });
    expect(stderr.text).toContain('Stopping: no new messages');
    expect(stdout.text).toContain(
      'published 2 (2 queued, 0 on topics no rule selects), forwarded 1, sink acknowledged 1\nstored (MongoDB): 1 new readings, 0 duplicates collapsed, 0 quarantined',
    );
    expect(stdout.text).toContain(
      'dead-lettered: 1 in the ingest dead-letter queue, 0 to telemetry.readings.v1.sink-dlt',
    );
    expect(stdout.text).toMatch(/ingest-dlq +not_json +- +/);
  });
});

describe('telemetry-ops local: stopped during an invocation', () => {
  it('waits for it, and counts as dropped only what it did not acknowledge', async () => {
    // Given `local` with a forwarder that takes 500 ms per invocation
    const cluster = KafkaMockCluster.start({ brokers: 1 });
    const stdout = new Recorder();
    const stderr = new Recorder();
    const abort = new AbortController();
    const context = new OpsContext({ env: 'dev', configDir: configDir() }, new Output({ stdout, stderr }, false), {});
    const settings = localSettings(context.config);
    cluster.createTopic(settings.topic, settings.partitions);
    cluster.createTopic(settings.sink.deadLetterTopic ?? '', 1);
    const db = new MemoryDb('telemetry');
    let invoked = 0;
    // A forwarder that takes its time: Ctrl-C comes while it runs
    const slowForwarder: ForwarderFactory = async (environment) => {
      const handler = await sourceForwarder(environment);
      return Object.assign(
        async (...args: Parameters<typeof handler>) => {
          invoked++;
          await new Promise((resolve) => setTimeout(resolve, 500));
          return handler(...args);
        },
        { close: () => handler.close() },
      );
    };
    const served = serveLocal(context, { mqttPort: 0, mqttHost: '127.0.0.1', logLevel: 'SILENT' }, abort.signal, {
      dependencies: async () => ({
        kafka: { brokers: cluster.bootstrapServers, description: 'the test cluster', stop: () => undefined },
        mongoUri: 'mongodb://127.0.0.1:9',
      }),
      handlers: { forwarder: slowForwarder, sink: sourceSink(memorySinkCollections(db)) },
      store: db,
      refreshMs: 100,
    });
    try {
      // When a device publishes and Ctrl-C comes while the forwarder runs
      await expect.poll(() => stderr.text, { timeout: 20_000 }).toContain('Ctrl-C stops it.');
      const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(stderr.text)?.[0] ?? '';
      const device = await connectAsync(url, { clientId: 'sensor-1' });
      await device.publishAsync('sensors/sensor-1/telemetry', JSON.stringify(devicePayload({ ts: Date.now() })), {
        qos: 1,
      });
      await device.endAsync();
      await expect.poll(() => invoked, { timeout: 10_000 }).toBe(1);

      abort.abort();
      await served;
    } finally {
      abort.abort();
      await served.catch(() => undefined);
      cluster.stop();
    }

    // Then `local` waits for the invocation and counts nothing as dropped
    expect(stdout.text).toContain('published 1 (1 queued, 0 on topics no rule selects), forwarded 1');
    expect(stdout.text).not.toContain('dropped');
  });
});

describe('telemetry-ops local --duration: a run that cannot account for everything', () => {
  it('prints the summary with what is missing and fails: a record the sink never acknowledged', async () => {
    // Given `local --duration 4` with a sink that can never reach MongoDB
    const cluster = KafkaMockCluster.start({ brokers: 1 });
    const stdout = new Recorder();
    const stderr = new Recorder();
    const context = new OpsContext(
      { env: 'dev', configDir: configDir({ stackName: 'DurationUnaccounted' }) },
      new Output({ stdout, stderr }, false),
      {},
    );
    const settings = localSettings(context.config);
    cluster.createTopic(settings.topic, settings.partitions);
    cluster.createTopic(settings.sink.deadLetterTopic ?? '', 1);
    // MongoDB is down for the whole run: the event source keeps retrying the record
    const downSink: SinkFactory = async () =>
      Object.assign(
        async (): Promise<never> => {
          throw new MongoServerSelectionError('connection refused', {} as never);
        },
        { close: async () => undefined },
      );
    const served = serveLocal(
      context,
      { mqttPort: 0, mqttHost: '127.0.0.1', logLevel: 'SILENT', duration: 4 },
      undefined,
      {
        dependencies: async () => ({
          kafka: { brokers: cluster.bootstrapServers, description: 'the test cluster', stop: () => undefined },
          mongoUri: undefined,
        }),
        handlers: { forwarder: sourceForwarder, sink: downSink },
        store: new MemoryDb('telemetry'),
        drainTimeoutMs: 500,
      },
    );
    try {
      // When a device publishes a reading
      await expect.poll(() => stderr.text, { timeout: 20_000 }).toContain('Ctrl-C stops it.');
      const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(stderr.text)?.[0] ?? '';
      const device = await connectAsync(url, { clientId: 'sensor-1' });
      await device.publishAsync('sensors/sensor-1/telemetry', JSON.stringify(devicePayload({ ts: Date.now() })), {
        qos: 1,
      });
      await device.endAsync();

      // Then the run fails: the summary names the record forwarded but neither acknowledged nor dead-lettered
      await expect(served).rejects.toThrow('Not every acknowledged reading is stored or in a failure store');
    } finally {
      await served.catch(() => undefined);
      cluster.stop();
    }
    expect(stdout.text).toContain('NOT every acknowledged reading is accounted for');
    expect(stdout.text).toContain(
      '1 records forwarded to Kafka were neither acknowledged by the sink nor dead-lettered',
    );
  }, 60_000);
});

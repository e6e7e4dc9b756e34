/**
 * LocalPipeline as a whole: the settings it refuses before starting anything, and a stop that carries on past a part
 * failing to stop. The handlers come from source, the sink with a MongoDB fake.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../lambdas/sink/documents';
import { LocalPipeline } from '../../../tools/local/pipeline';
import type { HandlerFactories } from '../../../tools/local/ports';
import { localSettings } from '../../../tools/local/settings';
import { FakeCollection } from '../../helpers/fake-mongo';
import { KafkaMockCluster } from '../../helpers/kafka-mock';
import { sourceForwarder, sourceSink } from '../../helpers/source-handlers';
import { devConfig } from '../../helpers/synth';

const config = devConfig({ forwarder: { timeoutSeconds: 30 } });
const log = { warn: () => undefined, error: () => undefined };

const collections = () => ({
  readings: new FakeCollection<ReadingDocument>(),
  devices: new FakeCollection<DeviceStateDocument>(),
  quarantine: new FakeCollection<QuarantineDocument>(),
});

/** Resolves whether something accepts TCP connections at `port` on loopback. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const portOf = (url: string) => Number(new URL(url).port);

describe('LocalPipeline', () => {
  let cluster: KafkaMockCluster;

  beforeAll(() => {
    cluster = KafkaMockCluster.start({ brokers: 1 });
    const settings = localSettings(config);
    cluster.createTopic(settings.topic, settings.partitions);
    cluster.createTopic(settings.sink.deadLetterTopic ?? '', 1);
  });
  afterAll(() => cluster.stop());

  it('refuses a visibility timeout shorter than the forwarder timeout, before starting anything', async () => {
    // Given handlers that count their starts, and an ingest visibility timeout under the forwarder's 30 s
    let started = 0;
    const handlers: HandlerFactories = {
      forwarder: async (environment) => {
        started++;
        return sourceForwarder(environment);
      },
      sink: async (environment) => {
        started++;
        return sourceSink(collections())(environment);
      },
    };

    // When the pipeline starts
    const starting = LocalPipeline.start({
      config,
      handlers,
      kafkaBrokers: cluster.bootstrapServers,
      mongoUri: 'mongodb://127.0.0.1:9',
      mqtt: { port: 0 },
      visibilityTimeoutMs: 29_000,
      log,
    });

    // Then it refuses with a user error naming both timeouts, having started nothing
    await expect(starting).rejects.toThrow(
      "visibilityTimeoutMs: the ingest queue's visibility timeout (29 s) is shorter than the forwarder's timeout (forwarder.timeoutSeconds, 30 s)",
    );
    await expect(starting).rejects.toMatchObject({ name: 'UserError' });
    expect(started).toBe(0);
  });

  it('stops every part even when one fails to stop, then reports the failure', async () => {
    // Given a running pipeline whose sink fails to close
    let forwarderClosed = 0;
    const pipeline = await LocalPipeline.start({
      config,
      handlers: {
        forwarder: async (environment) =>
          Object.assign(await sourceForwarder(environment), {
            close: async () => {
              forwarderClosed++;
            },
          }),
        sink: async (environment) =>
          Object.assign(await sourceSink(collections())(environment), {
            close: async () => {
              throw new Error('MongoClient close failed');
            },
          }),
      },
      kafkaBrokers: cluster.bootstrapServers,
      mongoUri: 'mongodb://127.0.0.1:9',
      mqtt: { port: 0 },
      log,
    });
    const mqttPort = portOf(pipeline.mqttUrl);
    const sqsPort = portOf(pipeline.deadLetterQueueUrl);
    expect(await accepts(sqsPort)).toBe(true);

    // When it stops
    const stopping = pipeline.stop();

    // Then every other part is stopped too, and the failure is reported
    await expect(stopping).rejects.toBeInstanceOf(AggregateError);
    await expect(stopping).rejects.toThrow(/Stopping the local pipeline: .*MongoClient close failed/);
    // The parts stopped after the sink's containers were stopped too: the forwarder's, the loopback SQS endpoint
    expect(forwarderClosed).toBe(1);
    expect(await accepts(sqsPort)).toBe(false);
    expect(await accepts(mqttPort)).toBe(false);
  });
});

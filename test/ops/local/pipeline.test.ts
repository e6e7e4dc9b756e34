/**
 * LocalPipeline as a whole: the settings it refuses before starting anything. The handlers come from source, the
 * sink with a MongoDB fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../lambdas/sink/documents';
import { LocalPipeline } from '../../../ops/local/pipeline';
import type { HandlerFactories } from '../../../ops/local/ports';
import { localSettings } from '../../../ops/local/settings';
import { sourceForwarder, sourceSink } from '../../../ops/local/source-handlers';
import { FakeCollection } from '../../helpers/fake-mongo';
import { KafkaMockCluster } from '../../helpers/kafka-mock';
import { devConfig } from '../../helpers/synth';

const config = devConfig({ forwarder: { timeoutSeconds: 30 } });
const log = { warn: () => undefined, error: () => undefined };

const collections = () => ({
  readings: new FakeCollection<ReadingDocument>(),
  devices: new FakeCollection<DeviceStateDocument>(),
  quarantine: new FakeCollection<QuarantineDocument>(),
});

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

    const starting = LocalPipeline.start({
      config,
      handlers,
      kafkaBrokers: cluster.bootstrapServers,
      mongoUri: 'mongodb://127.0.0.1:9',
      mqtt: { port: 0 },
      visibilityTimeoutMs: 29_000,
      log,
    });

    await expect(starting).rejects.toThrow(
      "visibilityTimeoutMs: the ingest queue's visibility timeout (29 s) is shorter than the forwarder's timeout (forwarder.timeoutSeconds, 30 s)",
    );
    await expect(starting).rejects.toMatchObject({ name: 'UserError' });
    expect(started).toBe(0);
  });
});

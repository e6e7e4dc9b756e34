import type { Document } from 'mongodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SinkEnvironmentSchema } from '../../../contracts/environment';
import { parseEnvironment } from '../../../lambdas/shared/config';
import { logger } from '../../../lambdas/shared/powertools';
import { createHandler } from '../../../lambdas/sink/create-handler';
import type { MongoCollection, SinkCollections } from '../../../lambdas/sink/mongo/collections';
import { SERVER_SELECTION_HINT } from '../../../lambdas/sink/mongo/errors';
import { envelope, kafkaEvent, kafkaRecord, lambdaContext } from '../../helpers/factories';
import { memoryStores } from '../../helpers/sink-stores';

/** Collections for a wiring that must fail before it writes: any call is a test failure. */
function untouchedCollections(): SinkCollections {
  const untouched = <T extends Document>(): MongoCollection<T> => ({
    bulkWrite: () => Promise.reject(new Error('unexpected bulkWrite')),
    find: () => ({ toArray: () => Promise.reject(new Error('unexpected find')) }),
  });
  return { readings: untouched(), devices: untouched(), quarantine: untouched() };
}

const event = () =>
  kafkaEvent([kafkaRecord(envelope('sensor-1'), { offset: 0 }), kafkaRecord(envelope('sensor-2'), { offset: 1 })]);

describe('sink handler', () => {
  it('returns Kafka-form item failures when the event source honours them (provisioned mode)', async () => {
    const stores = memoryStores();
    stores.readings.failNext();
    const sink = createHandler(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9' }), { stores });
    const response = await sink(event(), lambdaContext(5_000, 'telemetry-sink'));
    expect(response.batchItemFailures).toHaveLength(2);
  });

  it('fails the whole batch on demand, where a partial response would commit past unstored records', async () => {
    const stores = memoryStores();
    stores.readings.failNext();
    const sink = createHandler(
      SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9', PARTIAL_BATCH_RESPONSE: 'false' }),
      { stores },
    );
    await expect(sink(event(), lambdaContext(5_000, 'telemetry-sink'))).rejects.toMatchObject({
      name: 'BatchNotStoredError',
      message: expect.stringMatching(/^2 records not stored/),
    });
    // and succeeds quietly when everything was stored
    expect(await sink(event(), lambdaContext(5_000, 'telemetry-sink'))).toEqual({ batchItemFailures: [] });
  });

  it('names every bad variable of its environment', () => {
    expect(() =>
      parseEnvironment(SinkEnvironmentSchema, { MONGODB_URI: 'http://x', MONGODB_MAX_POOL_SIZE: '0' }),
    ).toThrow(
      /Invalid environment: MONGODB_URI: expected a mongodb:\/\/ or mongodb\+srv:\/\/ URI; MONGODB_MAX_POOL_SIZE: /,
    );
    expect(() => parseEnvironment(SinkEnvironmentSchema, {})).toThrow(
      /set MONGODB_URI_SECRET_ID \(AWS\) or MONGODB_URI \(local runs\), exactly one/,
    );
  });
});

describe('sink handler: what it logs when a batch cannot be handled', () => {
  afterEach(() => vi.restoreAllMocks());
  const errorsLogged = () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    return () => error.mock.calls.map(([message, extra]) => ({ message, extra }));
  };

  it('never logs the MongoDB user name the driver quotes ("Username contains unescaped characters …")', async () => {
    // Given a URI whose user name the driver refuses, quoting it
    const logged = errorsLogged();
    const sink = createHandler(
      SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://ops/alice:s3cret-pw@127.0.0.1:9/' }),
    );
    // When a batch arrives
    const response = await sink(event(), lambdaContext(5_000, 'telemetry-sink'));
    // Then every record is retried and the log line says why, without the credentials
    expect(response.batchItemFailures).toHaveLength(2);
    const [line] = logged();
    expect(line?.message).toBe('MongoDB unavailable; the event source will deliver the batch again');
    expect(line?.extra).toMatchObject({ error: 'MongoParseError: Username contains unescaped characters <redacted>' });
    expect(JSON.stringify(logged())).not.toMatch(/alice|s3cret/);
    await sink.close();
  });

  it('points the operator at network access when no MongoDB server can be selected', async () => {
    // Given a cluster nobody listens for (server selection fails after 30% of the remaining time, 1.5 s here)
    const logged = errorsLogged();
    const sink = createHandler(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9' }));
    // When a batch arrives
    const response = await sink(event(), lambdaContext(5_000, 'telemetry-sink'));
    // Then every record is retried, and the log names the driver's error and what to check
    expect(response.batchItemFailures).toHaveLength(2);
    expect(logged()).toEqual([
      {
        message: 'MongoDB unavailable; the event source will deliver the batch again',
        extra: expect.objectContaining({
          error: expect.stringMatching(/^MongoServerSelectionError: /),
          hint: SERVER_SELECTION_HINT,
        }),
      },
    ]);
    await sink.close();
  });

  it('names the real cause of an internal failure instead of "MongoDB unavailable"', async () => {
    const logged = errorsLogged();
    // A time-series configuration without the readingIds collection: a configuration error, not MongoDB's
    const sink = createHandler(
      SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9', MONGODB_TIME_SERIES: 'true' }),
      { collections: untouchedCollections() },
    );
    const response = await sink(event(), lambdaContext(5_000, 'telemetry-sink'));
    expect(response.batchItemFailures).toHaveLength(2);
    expect(logged()).toEqual([
      {
        message: 'Sink failed (ConfigurationError); the event source will deliver the batch again',
        extra: expect.objectContaining({ error: expect.stringMatching(/^ConfigurationError: A time-series/) }),
      },
    ]);
  });
});

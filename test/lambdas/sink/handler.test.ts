import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../lambdas/shared/config';
import { failureDetail } from '../../../lambdas/shared/failure';
import { SinkEnvironmentSchema } from '../../../lambdas/sink/config';
import { createHandler } from '../../../lambdas/sink/create-handler';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../lambdas/sink/documents';
import { envelope, kafkaEvent, kafkaRecord, lambdaContext } from '../../helpers/factories';
import { FakeCollection } from '../../helpers/fake-mongo';

function collections() {
  return {
    readings: new FakeCollection<ReadingDocument>(),
    devices: new FakeCollection<DeviceStateDocument>(),
    quarantine: new FakeCollection<QuarantineDocument>(),
  };
}

const event = () =>
  kafkaEvent([kafkaRecord(envelope('sensor-1'), { offset: 0 }), kafkaRecord(envelope('sensor-2'), { offset: 1 })]);

describe('sink handler', () => {
  it('returns Kafka-form item failures when the event source honours them (provisioned mode)', async () => {
    const target = collections();
    target.readings.failNext({ kind: 'network', afterOperations: 0 });
    const sink = createHandler(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9' }), target);
    const response = await sink(event(), lambdaContext(5_000, 'telemetry-sink'));
    expect(response.batchItemFailures).toHaveLength(2);
  });

  it('fails the whole batch on demand, where a partial response would commit past unstored records', async () => {
    const target = collections();
    target.readings.failNext({ kind: 'network', afterOperations: 0 });
    const sink = createHandler(
      SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9', PARTIAL_BATCH_RESPONSE: 'false' }),
      target,
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

describe('failureDetail', () => {
  it('replaces characters SQS rejects and never splits a character', () => {
    expect(failureDetail('readings.a\u0001b: Invalid key')).toBe('readings.a\uFFFDb: Invalid key');
    expect(failureDetail(`${'x'.repeat(999)}😀😀`)).toBe(`${'x'.repeat(999)}😀`);
    expect(failureDetail('tab\tand newline\n stay')).toBe('tab\tand newline\n stay');
  });
});

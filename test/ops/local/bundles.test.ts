/**
 * The functions as deployed, on one machine: esbuild with the stack's bundling options, each bundle run in a worker
 * thread holding only the function's environment, errors crossing back by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBatchResponse, KafkaEvent } from '../../../lambdas/sink/kafka-event';
import { MONGODB_OPTIONAL_MODULES } from '../../../lib/sink/mongo-sink';
import { bundleFunctions, esbuildOptions, type FunctionBundles } from '../../../ops/local/bundles';
import { startWorkerHandler } from '../../../ops/local/worker-handler';
import { envelope, kafkaEvent, kafkaRecord, lambdaContext } from '../../helpers/factories';

let bundles: FunctionBundles;

beforeAll(async () => {
  bundles = await bundleFunctions();
}, 60_000);
afterAll(() => bundles?.remove());

/** Nothing listens on port 9 (discard) on loopback: server selection fails fast and for sure. */
const UNREACHABLE = { MONGODB_URI: 'mongodb://127.0.0.1:9/?directConnection=true', MONGODB_DATABASE: 'local' };
const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

describe('esbuildOptions', () => {
  it('are the stack bundling defaults, for the runtime the stack deploys: minified, names kept, CJS, SDK bundled', () => {
    expect(esbuildOptions(MONGODB_OPTIONAL_MODULES)).toEqual({
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: true,
      keepNames: true,
      sourcemap: false,
      mainFields: ['module', 'main'],
      external: MONGODB_OPTIONAL_MODULES,
      logLevel: 'warning',
    });
  });
});

describe('startWorkerHandler', () => {
  it('fails to start with the error the bundle throws at load: a bad environment, every variable named', async () => {
    await expect(startWorkerHandler(bundles.forwarder, { DLQ_URL: 'not a url', ...QUIET })).rejects.toThrow(
      /Invalid environment: KAFKA_BROKERS: .*KAFKA_TOPIC: .*DLQ_URL: expected the URL of the dead-letter queue/,
    );
  });

  it('invokes the bundle with the event and a working context, and returns its response', async () => {
    const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.sink, {
      ...UNREACHABLE,
      ...QUIET,
    });
    try {
      const context = lambdaContext(4_000, 'telemetry-sink');

      const response = await handler(
        kafkaEvent([kafkaRecord(envelope('sensor-1'), { partition: 1, offset: 9 })]),
        context,
      );

      // The deadline came from the context: MongoDB unreachable, the record is reported for retry, in time
      expect(response).toEqual({
        batchItemFailures: [{ itemIdentifier: { partition: 'telemetry.readings.v1-1', offset: 9 } }],
      });
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    } finally {
      await handler.close();
    }
  });

  it("passes the function's own error back by name (an on-demand sink failing its batch)", async () => {
    const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.sink, {
      ...UNREACHABLE,
      ...QUIET,
      PARTIAL_BATCH_RESPONSE: 'false',
    });
    try {
      await expect(
        handler(kafkaEvent([kafkaRecord(envelope('sensor-1'), { offset: 1 })]), lambdaContext(3_000)),
      ).rejects.toMatchObject({
        name: 'BatchNotStoredError',
        message: expect.stringContaining('1 records not stored'),
      });
    } finally {
      await handler.close();
    }
  });
});

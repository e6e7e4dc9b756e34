/**
 * The functions as deployed, on one machine: esbuild with the stack's bundling options, each bundle run in a worker
 * thread holding only the function's environment, errors crossing back by name.
 */
import { PassThrough } from 'node:stream';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBatchResponse, KafkaEvent } from '../../../lambdas/sink/kafka-event';
import { MONGODB_OPTIONAL_MODULES } from '../../../lib/sink/mongo-sink';
import { SDK_NODE_WARNING_SWITCH, sdkNodeNote } from '../../../ops/node-support';
import { bundleFunctions, esbuildOptions, type FunctionBundles } from '../../../tools/local/bundles';
import { forwarderEnvironment, localSettings } from '../../../tools/local/settings';
import { startWorkerHandler } from '../../../tools/local/worker-handler';
import { envelope, kafkaEvent, kafkaRecord, lambdaContext, sqsEvent, sqsRecord } from '../../helpers/factories';
import { devConfig } from '../../helpers/synth';

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
    // Given the optional modules of the MongoDB driver
    // When the bundling options are built
    // Then they are those the stack bundles with
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
    // Given the forwarder bundle and an environment with a bad URL and missing variables
    // When a worker starts it / Then it fails with the bundle's own error, naming each variable
    await expect(startWorkerHandler(bundles.forwarder, { DLQ_URL: 'not a url', ...QUIET })).rejects.toThrow(
      /Invalid environment: KAFKA_BROKERS: .*KAFKA_TOPIC: .*DLQ_URL: expected the URL of the dead-letter queue/,
    );
  });

  it('invokes the bundle with the event and a working context, and returns its response', async () => {
    // Given the sink bundle in a worker, with MongoDB unreachable
    const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.sink, {
      ...UNREACHABLE,
      ...QUIET,
    });
    try {
      const context = lambdaContext(4_000, 'telemetry-sink');

      // When it is invoked with one record and a 4 s context
      const response = await handler(
        kafkaEvent([kafkaRecord(envelope('sensor-1'), { partition: 1, offset: 9 })]),
        context,
      );

      // The deadline came from the context: MongoDB unreachable, the record is reported for retry, in time
      // Then it answers in time, reporting the record for retry
      expect(response).toEqual({
        batchItemFailures: [{ itemIdentifier: { partition: 'telemetry.readings.v1-1', offset: 9 } }],
      });
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    } finally {
      await handler.close();
    }
  });

  it("passes the function's own error back by name (an on-demand sink failing its batch)", async () => {
    // Given the sink bundle in a worker, without partial batch responses, with MongoDB unreachable
    const handler = await startWorkerHandler<KafkaEvent, KafkaBatchResponse>(bundles.sink, {
      ...UNREACHABLE,
      ...QUIET,
      PARTIAL_BATCH_RESPONSE: 'false',
    });
    try {
      // When it is invoked / Then its BatchNotStoredError comes back by name
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

describe('the local forwarder environment', () => {
  /** What the bundled forwarder's worker prints while it dead-letters a record (building its SQS client). */
  async function forwarderOutput(environment: Record<string, string>): Promise<string> {
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const handler = await startWorkerHandler<SQSEvent, SQSBatchResponse>(bundles.forwarder, environment, { output });
    try {
      // Not JSON: the forwarder dead-letters it through the SQS client it builds on first use (nothing listens on
      // port 9, so the send fails and the record is reported for retry)
      await handler(sqsEvent([sqsRecord('not json')]), lambdaContext(4_000));
    } finally {
      await handler.close();
    }
    return text;
  }

  it("carries the AWS SDK's switch, so a worker prints no Node.js version warning when the SDK starts", async () => {
    // Given the forwarder's environment as `local` builds it
    const config = devConfig();
    const environment = forwarderEnvironment(localSettings(config), config, {
      kafkaBrokers: ['127.0.0.1:9'],
      deadLetterQueueUrl: 'http://127.0.0.1:9/000000000000/dlq',
      sqsEndpoint: 'http://127.0.0.1:9',
      mongoUri: undefined,
      logLevel: 'SILENT',
    });
    expect(environment[SDK_NODE_WARNING_SWITCH]).toBe('true');

    // When the bundled forwarder builds its SQS client in its worker, with that environment and without the switch
    const quiet = await forwarderOutput(environment);
    const { [SDK_NODE_WARNING_SWITCH]: _, ...withoutSwitch } = environment;
    const loud = await forwarderOutput(withoutSwitch);

    // Then only the run without the switch warns (on a Node.js the SDK keeps supporting, neither does)
    expect(quiet).not.toContain('NodeVersionSupportWarning');
    if (sdkNodeNote(process.version)) expect(loud).toContain('NodeVersionSupportWarning');
  }, 30_000);
});

/**
 * The sink exactly as deployed: the esbuild bundle that `cdk synth` produces, loaded with `require` and invoked
 * with a Kafka event while MongoDB is unreachable. Proves the bundle loads (the driver's optional modules are
 * external and never required), decodes and validates records, and reports every record for retry in the Kafka
 * partial-batch form, before the deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBatchResponse, KafkaEvent } from '../../../lambdas/sink/kafka-event';
import { envelope, kafkaEvent, kafkaRecord, lambdaContext } from '../../helpers/factories';
import { synthStack } from '../../helpers/synth';

type BundledHandler = ((event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse>) & {
  close(): Promise<void>;
};

let outdir: string;
let handler: BundledHandler;
const savedEnv = { ...process.env };

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const { template, stack } = synthStack({}, { bundle: true, outdir });
  const sinkId = stack.getLogicalId(stack.sink.function.node.defaultChild as never);
  const s3Key = String(template.toJSON().Resources[sinkId].Properties.Code.S3Key);
  // Nothing listens on port 9 (discard) on loopback: server selection fails fast and for sure
  Object.assign(process.env, {
    MONGODB_URI: 'mongodb://127.0.0.1:9/?directConnection=true',
    MONGODB_DATABASE: 'smoke',
  });
  handler = (require(join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.js')) as { handler: BundledHandler })
    .handler;
});

afterAll(async () => {
  await handler?.close();
  process.env = savedEnv;
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('sink bundle (as deployed)', () => {
  it('reports every record for retry, in Kafka form, when MongoDB cannot be reached, before the deadline', async () => {
    // Given three records on two partitions, one not JSON, 8 s left, and MongoDB unreachable (port 9)
    const event = kafkaEvent([
      kafkaRecord(envelope('sensor-1'), { partition: 2, offset: 40 }),
      kafkaRecord('not json', { partition: 2, offset: 41 }),
      kafkaRecord(envelope('sensor-2'), { partition: 5, offset: 7 }),
    ]);
    const context = lambdaContext(8_000, 'telemetry-sink');

    // When the bundled handler is invoked
    const response = await handler(event, context);

    // Then each record is reported for retry by its Kafka partition and offset, with time left
    expect(response.batchItemFailures).toEqual(
      expect.arrayContaining([
        { itemIdentifier: { partition: 'telemetry.readings.v1-2', offset: 40 } },
        { itemIdentifier: { partition: 'telemetry.readings.v1-2', offset: 41 } },
        { itemIdentifier: { partition: 'telemetry.readings.v1-5', offset: 7 } },
      ]),
    );
    expect(response.batchItemFailures).toHaveLength(3);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});

/**
 * The corpus against the forwarder core: each body is produced to Kafka byte for byte as validated, or parked with its
 * reason; nothing throws, nothing is dropped.
 */

import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { forwardBatch } from '../../../lambdas/forward/forwarder';
import { NOW, sqsRecord } from '../../helpers/factories';
import { FakePublisher, FakeQuarantine } from '../../helpers/forwarder-fakes';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';
import { AWS_SQS_EXAMPLE_EVENT } from './aws-events';
import { BODY_CASES, hostileKeyBodies, strings } from './cases';

function forward(bodies: readonly string[]) {
  const publisher = new FakePublisher();
  const quarantine = new FakeQuarantine();
  const logger = new RecordingLogger();
  const records = bodies.map((body) => sqsRecord(body));
  const run = forwardBatch(records, {
    publisher,
    quarantine,
    logger,
    metrics: new RecordingMetrics(),
    maxMessageBytes: 16_384,
    deadline: NOW + 25_000,
    now: () => NOW + 100,
  });
  return { run, records, publisher, quarantine, logger };
}

describe('forwarder corpus', () => {
  it.each(BODY_CASES.map((c) => [c.name, c] as const))('%s', async (_name, corpusCase) => {
    // Given the body as an SQS record
    const { run, records, publisher, quarantine } = forward([corpusCase.body]);
    // When the forwarder handles it
    const response = await run;
    // Then it is produced exactly as received, or parked with the expected reason; never retried, never lost
    expect(response.batchItemFailures).toEqual([]);
    const produced = publisher.calls.flat();
    if (corpusCase.forwarder === 'pass') {
      expect(produced.map((m) => m.value)).toEqual([corpusCase.body]);
      expect(quarantine.entries).toEqual([]);
    } else {
      expect(produced).toEqual([]);
      expect(quarantine.entries.map((e) => [e.id, e.reason])).toEqual([[records[0]?.messageId, corpusCase.forwarder]]);
    }
  });

  it('handles the whole corpus in one batch with the same outcomes', async () => {
    const { run, publisher, quarantine } = forward(BODY_CASES.map((c) => c.body));
    await run;
    const passing = BODY_CASES.filter((c) => c.forwarder === 'pass');
    expect(publisher.calls.flat()).toHaveLength(passing.length);
    expect(quarantine.entries.map((e) => e.reason)).toEqual(
      BODY_CASES.filter((c) => c.forwarder !== 'pass').map((c) => c.forwarder),
    );
  });

  it('keeps the "Invalid records" line bounded however long the quoted key names are', async () => {
    // Given five records whose rejection details quote ~12 KB of key names each
    const { run, logger, quarantine } = forward(hostileKeyBodies());
    // When they are parked
    await run;
    // Then the log line is capped as a whole and every attacker-derived string as failure.error is
    const [line] = logger.at('warn');
    expect(line?.message).toBe('Invalid records sent to the dead-letter queue');
    expect(JSON.stringify(line?.extra).length).toBeLessThanOrEqual(8_000);
    expect(Math.max(...strings(line?.extra).map((s) => s.length))).toBeLessThanOrEqual(1_000);
    // while the dead-letter entries keep the details (the adapter cuts them for the attribute)
    expect(quarantine.entries).toHaveLength(5);
  });

  it('parks AWS\'s SQS example event verbatim (bodies "test") with their reason and receive data', async () => {
    // Given the developer guide's example event, exactly as published
    const { Records } = JSON.parse(AWS_SQS_EXAMPLE_EVENT) as SQSEvent;
    const publisher = new FakePublisher();
    const quarantine = new FakeQuarantine();
    // When the forwarder handles it
    const response = await forwardBatch(Records, {
      publisher,
      quarantine,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      maxMessageBytes: 16_384,
      deadline: Date.now() + 25_000,
    });
    // Then both are parked as not JSON, nothing is produced or retried
    expect(response.batchItemFailures).toEqual([]);
    expect(publisher.calls.flat()).toEqual([]);
    expect(quarantine.entries.map((e) => [e.id, e.reason, e.firstReceivedAt, e.sourceArn])).toEqual([
      [
        '059f36b4-87a3-44ab-83d2-661975830a7d',
        'not_json',
        1545082649185,
        'arn:aws:sqs:us-east-2:123456789012:my-queue',
      ],
      [
        '2e1424d4-f796-459a-8184-9c92662be6da',
        'not_json',
        1545082650649,
        'arn:aws:sqs:us-east-2:123456789012:my-queue',
      ],
    ]);
  });
});

import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '../../../contracts/failure';
import { parseEnvelope } from '../../../lambdas/shared/envelope';
import { replayBodyOfIotError } from '../../../ops/failures/envelopes';
import { devicePayload, NOW } from '../../helpers/factories';
import {
  DLQ,
  DLT,
  deadLettered,
  dlqMessages,
  ERRORS,
  iotError,
  parked,
  quarantine,
  quarantined,
  queueHolds,
  run,
  sqs,
  TOPIC,
  useFailureStores,
} from './fixtures';

useFailureStores();

describe('failures list', () => {
  it('reads all four stores into one envelope and leaves queue messages where they were', async () => {
    // Given one failure in every store
    queueHolds(ERRORS, [iotError('e-1', 'sensors/sensor-7/telemetry', JSON.stringify(devicePayload({ seq: 1 })))]);
    queueHolds(DLQ, dlqMessages);
    quarantine.docs.set(`${TOPIC}-3@1842`, quarantined(`${TOPIC}-3@1842`, Buffer.from('{"deviceId":"sensor-9"}')));

    // When
    const result = await run(['failures', 'list', '--json']);

    // Then
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { failures, unavailable } = JSON.parse(result.stdout) as { failures: FailureEnvelope[]; unavailable: [] };
    expect(unavailable).toEqual([]);
    const byId = new Map(failures.map((f) => [f.id, f]));
    expect([...byId.keys()]).toEqual([
      'ingest-errors:e-1',
      'ingest-dlq:m-parked',
      'ingest-dlq:m-moved',
      'sink-dlt:0@0',
      'sink-dlt:0@1',
      `quarantine:${TOPIC}-3@1842`,
    ]);
    expect(byId.get('ingest-errors:e-1')).toMatchObject({
      store: 'ingest-errors',
      stage: 'ingest',
      reason: 'rule_action_failed',
      error: 'SqsAction → ingest: Failed to send message',
      firstFailedAt: new Date(NOW).toISOString(),
      deviceId: 'sensor-7',
      payload: { encoding: 'utf8', data: JSON.stringify(devicePayload({ seq: 1 })) },
      pointer: `sqs://${ERRORS}#e-1`,
    });
    expect(byId.get('ingest-dlq:m-parked')).toMatchObject({
      stage: 'forward',
      reason: 'schema_violation',
      firstFailedAt: new Date(NOW - 5_000).toISOString(),
      attempts: 1,
      deviceId: 'sensor-1',
      eventId: parked.eventId,
    });
    expect(byId.get('ingest-dlq:m-moved')).toMatchObject({ reason: 'max_receives_exceeded', attempts: 5 });
    expect(byId.get('sink-dlt:0@0')).toMatchObject({
      stage: 'sink',
      reason: 'retry_attempts_exhausted',
      attempts: 11,
      firstFailedAt: new Date(NOW).toISOString(),
      deviceId: 'sensor-3',
      eventId: deadLettered.eventId,
      pointer: `kafka://${DLT}/0@0`,
    });
    expect(byId.get('sink-dlt:0@1')).toMatchObject({
      reason: 'unrecognised_dead_letter',
      payload: { data: 'written by someone else' },
    });
    expect(byId.get(`quarantine:${TOPIC}-3@1842`)).toMatchObject({ reason: 'schema_violation', deviceId: 'sensor-9' });
    // Every message looked at was made visible again
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout]).sort()).toEqual([
      ['rh-e-1', 0],
      ['rh-moved', 0],
      ['rh-parked', 0],
    ]);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });
});

describe('failures redrive', () => {
  it('replays an IoT error without a trace id (a publish over HTTPS) as a valid envelope without traceId', () => {
    // Given an IoT error without a trace id, as a publish over HTTPS leaves it
    const message = iotError('e-https', 'sensors/sensor-7/telemetry', JSON.stringify(devicePayload({ seq: 2 })));
    const { cloudwatchTraceId: _, ...body } = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;

    // When its replay body is built
    const replay = replayBodyOfIotError({ ...message, Body: JSON.stringify(body) }, ['sensors/+/telemetry']);

    // Then it is a valid envelope without traceId
    if (!('body' in replay)) throw new Error(replay.problem);
    expect(JSON.parse(replay.body)).not.toHaveProperty('traceId');
    expect(parseEnvelope(replay.body).ok).toBe(true);
  });
});

import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { deriveEventId } from '../../../contracts/enrichment';
import { devicePayload, NOW } from '../../helpers/factories';
import {
  ERRORS,
  INGEST,
  iotError,
  moved,
  quarantine,
  quarantined,
  queueHolds,
  run,
  sentBodies,
  sqs,
  useFailureStores,
} from './fixtures';

useFailureStores();

describe('failures redrive', () => {
  it('re-enriches IoT errors into the ingest queue, deletes them, and keeps what cannot be replayed', async () => {
    // Given a replayable IoT error (through Basic Ingest) and one whose payload is not JSON
    const payload = devicePayload({ seq: 21, ts: NOW - 1_000 });
    queueHolds(ERRORS, [
      iotError('e-ok', '$aws/rules/TelemetryPipeline_dev_1/sensors/sensor-7/telemetry', JSON.stringify(payload)),
      iotError('e-bad', 'sensors/sensor-8/telemetry', 'not json'),
    ]);

    // When
    const result = await run(['failures', 'redrive', '--store', 'ingest-errors', '--json']);

    // Then the replay carries the same deterministic event id the rule would have given it
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [sent, ...others] = sentBodies();
    expect(others).toEqual([]);
    expect(sent?.queue).toBe(INGEST);
    expect(JSON.parse(sent?.body ?? '')).toMatchObject({
      ...payload,
      schemaVersion: 1,
      deviceId: 'sensor-7',
      clientId: 'sensor-7',
      receivedAt: NOW,
      sourceTopic: 'sensors/sensor-7/telemetry',
      eventId: deriveEventId('sensor-7', payload.ts, payload.seq),
    });
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(deleted.map((entry) => entry.ReceiptHandle)).toEqual(['rh-e-ok']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((entry) => entry.ReceiptHandle)).toEqual(['rh-e-bad']);
    expect(JSON.parse(result.stdout).reports[0].items).toEqual([
      { id: 'ingest-errors:e-bad', outcome: 'skipped', detail: 'the original payload is not a JSON object' },
      { id: 'ingest-errors:e-ok', outcome: 'redriven' },
    ]);
  });

  it('sends quarantined records back and removes them; binary ones stay with the reason', async () => {
    // Given a quarantined record of JSON text and one of binary bytes
    const binary = Buffer.from([0xff, 0xfe, 0x00]);
    quarantine.docs.set('q-text', quarantined('q-text', Buffer.from(JSON.stringify(moved)), NOW - 2));
    quarantine.docs.set('q-binary', quarantined('q-binary', binary, NOW - 1));

    // When the quarantine is redriven
    const result = await run(['failures', 'redrive', '--store', 'quarantine', '--json']);

    // Then the text goes to the ingest queue and is removed; the binary one stays, with the reason
    expect(result.code).toBe(0);
    expect(sentBodies()).toEqual([{ queue: INGEST, body: JSON.stringify(moved) }]);
    expect([...quarantine.docs.keys()]).toEqual(['q-binary']);
    expect(JSON.parse(result.stdout).reports[0].items).toEqual([
      { id: 'quarantine:q-binary', outcome: 'skipped', detail: 'the payload is not UTF-8 text; SQS cannot carry it' },
      { id: 'quarantine:q-text', outcome: 'redriven' },
    ]);
  });
});

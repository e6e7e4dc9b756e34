import { describe, expect, it } from 'vitest';
import { DEVICE_FIELDS, deriveEventId, ENRICHMENT_FIELDS, enrich } from '../../contracts/enrichment';
import { devicePayload, envelope, NOW } from '../helpers/factories';

describe('enrichment', () => {
  it('derives the same eventId for the same device, ts and seq (QoS 1 retransmissions collapse)', () => {
    // Given one reading and its retransmission two seconds later / When each is enriched
    const first = envelope('sensor-1', devicePayload({ seq: 7 }));
    const retransmission = envelope('sensor-1', devicePayload({ seq: 7 }), NOW + 2_000);
    // Then both carry the same sha256 event id
    expect(retransmission.eventId).toBe(first.eventId);
    expect(first.eventId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('derives different eventIds for different seq, ts or device', () => {
    // Given readings that differ in seq, ts or device / When their ids are derived / Then all four differ
    const ids = new Set([
      deriveEventId('sensor-1', NOW, 7),
      deriveEventId('sensor-1', NOW, 8),
      deriveEventId('sensor-1', NOW + 1, 7),
      deriveEventId('sensor-2', NOW, 7),
    ]);
    expect(ids.size).toBe(4);
  });

  it('falls back to a fresh UUID when the device sends no seq', () => {
    // Given the same payload without seq, enriched twice / Then each gets its own UUID
    const { seq: _seq, ...payload } = devicePayload();
    const a = envelope('sensor-1', payload);
    const b = envelope('sensor-1', payload);
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes no enrichment field from the payload: a device cannot spoof its id, event id, time or topic', () => {
    // Given a payload that carries every enrichment field, with forged values, and a field the envelope lacks
    const forged = {
      schemaVersion: 9,
      deviceId: 'other-device',
      clientId: 'other-client',
      receivedAt: 1,
      traceId: 'forged-trace',
      sourceTopic: 'sensors/other-device/telemetry',
      eventId: 'f'.repeat(64),
      firmware: '1.2.3',
    };
    const payload = devicePayload({ seq: 5, ...forged });
    // When the rule's enrichment runs
    const result = enrich(
      { topic: 'sensors/real-id/telemetry', clientId: 'real-id', payload, receivedAt: NOW, traceId: 'real-trace' },
      2,
    );
    // Then every enrichment field is the rule's, the device's own fields pass, and nothing else does
    expect(result).toEqual({
      ts: payload.ts,
      seq: 5,
      readings: payload.readings,
      schemaVersion: 1,
      deviceId: 'real-id',
      clientId: 'real-id',
      receivedAt: NOW,
      traceId: 'real-trace',
      sourceTopic: 'sensors/real-id/telemetry',
      eventId: deriveEventId('real-id', payload.ts, 5),
    });
    expect(Object.keys(result)).toEqual([...DEVICE_FIELDS, ...ENRICHMENT_FIELDS]);
  });

  it('leaves out device fields the payload does not carry, as IoT leaves out Undefined results', () => {
    // Given a payload with `ts` only / When enriched / Then the output has `ts` and the rule's fields, nothing else
    const message = {
      topic: 'sensors/a/telemetry',
      clientId: 'a',
      payload: { ts: NOW },
      receivedAt: NOW,
      traceId: 't',
    };
    expect(Object.keys(enrich(message, 2))).toEqual(['ts', ...ENRICHMENT_FIELDS]);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidReason } from '../../../contracts/envelope';
import { type EnvelopeParseResult, parseEnvelope } from '../../../lambdas/shared/envelope';
import { devicePayload, envelope, httpsEnvelope, NOW } from '../../helpers/factories';

const valid = () => envelope() as unknown as Record<string, unknown>;
const reasonOf = (text: string, maxBytes?: number) => {
  const result = parseEnvelope(text, maxBytes);
  return result.ok ? 'ok' : result.reason;
};

describe('parseEnvelope', () => {
  it('accepts what the IoT rule emits for a well-formed device message', () => {
    // Given the rule's enrichment of a typical sensor payload
    const input = valid();
    // When it is parsed
    const result = parseEnvelope(JSON.stringify(input));
    // Then it is valid and unchanged
    expect(result).toEqual({ ok: true, envelope: input });
  });

  it('accepts a message without traceId: IoT has none for a reading published over HTTPS', () => {
    const reading = httpsEnvelope('sensor-9');
    expect(reading).not.toHaveProperty('traceId');
    expect(reasonOf(JSON.stringify(reading))).toBe('ok');
    expect(reasonOf(JSON.stringify({ ...reading, traceId: '' }))).toBe(InvalidReason.SchemaViolation);
  });

  it('accepts a message without seq', () => {
    const { seq: _seq, ...payload } = devicePayload();
    expect(reasonOf(JSON.stringify(envelope('sensor-9', payload)))).toBe('ok');
  });

  it.each([
    ['not JSON', '{"deviceId": ', InvalidReason.NotJson],
    ['empty body', '', InvalidReason.NotJson],
    ['a JSON array', '[1,2]', InvalidReason.NotObject],
    ['a JSON string', '"hello"', InvalidReason.NotObject],
    ['JSON null', 'null', InvalidReason.NotObject],
  ])('rejects %s', (_name, text, reason) => {
    expect(reasonOf(text)).toBe(reason);
  });

  it('rejects an envelope over the size limit and names both sizes', () => {
    const text = JSON.stringify({ ...valid(), padding: 'x'.repeat(2_000) });
    const result = parseEnvelope(text, 1_024);
    expect(result).toMatchObject({ ok: false, reason: InvalidReason.TooLarge });
    expect(result.ok || result.detail).toMatch(/^\d+ bytes exceeds the 1024-byte limit$/);
  });

  it('counts UTF-8 bytes, not characters, against the limit', () => {
    const base = JSON.stringify(valid()).length;
    // 300 three-byte characters: 300 UTF-16 units but 900 bytes
    const text = JSON.stringify({ ...valid(), clientId: '€'.repeat(100) });
    expect(reasonOf(text, base + 250)).toBe(InvalidReason.TooLarge);
  });

  it.each([
    ['a $where operator at the top level', { $where: 'sleep(1000)' }],
    ['a $set operator', { $set: { deviceId: 'other' } }],
    ['a query operator as a value', { deviceId: { $ne: null } }],
    ['a dotted reading name', { readings: { 'a.b': 1 } }],
    ['a $-prefixed reading name', { readings: { $inc: 1 } }],
    ['a NUL in a key', { readings: { 'temp\u0000': 1 } }],
    ['constructor as a reading name', { readings: { constructor: 1 } }],
  ])('rejects %s as an unsafe key', (_name, override) => {
    expect(reasonOf(JSON.stringify({ ...valid(), ...override }))).toBe(InvalidReason.UnsafeKey);
  });

  it('rejects a __proto__ key (JSON.parse makes it an own property)', () => {
    const text = JSON.stringify(valid()).replace('"readings":{', '"readings":{"__proto__":{"polluted":1},');
    const result = parseEnvelope(text);
    expect(result).toMatchObject({ ok: false, reason: InvalidReason.UnsafeKey });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('counts only own keys: an enumerable property on Object.prototype neither fakes nor hides a duplicate', () => {
    // Given a polluted Object.prototype (another module's bug, or an earlier prototype-pollution attack), and an
    // envelope with one duplicate member in each of its two objects (as many as the inherited key adds, walked twice)
    const text = JSON.stringify(valid());
    const duplicated = text
      .replace('"deviceId":', '"deviceId":"sensor-evil","deviceId":')
      .replace('"readings":{', '"readings":{"temperature":99,');
    const prototype = Object.prototype as Record<string, unknown>;
    prototype.polluted = 1;
    let results: [EnvelopeParseResult, EnvelopeParseResult];
    try {
      // When both are parsed
      results = [parseEnvelope(text), parseEnvelope(duplicated)];
    } finally {
      delete prototype.polluted;
    }
    // Then the valid one is not taken for a duplicate (zod's strict object still sees the inherited key: its `for…in`
    // is zod's), and the duplicates are caught, not cancelled out by the inherited key
    expect(results[0]).not.toMatchObject({ reason: InvalidReason.DuplicateKey });
    expect(results[1]).toMatchObject({ ok: false, reason: InvalidReason.DuplicateKey });
  });

  it.each([
    ['without an escape', ''],
    ['with an escape elsewhere', '\\/'],
  ])('tells colons inside strings from members, %s: accepted, and a repeated name still caught', (_name, escaped) => {
    // Given an envelope whose strings carry colons (a thing name may contain `:`), once as it is and once with a
    // repeated name whose value and name-like text carry colons too
    const input = {
      ...valid(),
      deviceId: 'a:b::c',
      clientId: ':::',
      sourceTopic: `sensors/a:b${escaped}::c/telemetry`,
    };
    const text = JSON.stringify(input).replace('\\\\/', '\\/');
    const duplicated = text.replace('"clientId":', '"clientId":"x:y:z","clientId":');
    const colonsOnly = text.replace('"clientId":":::"', '"clientId":"::::"');
    // When they are parsed
    const results = [parseEnvelope(text), parseEnvelope(duplicated), parseEnvelope(colonsOnly)];
    // Then the first and last are valid (a colon more inside a string is no member), the repeated name is caught
    expect(results[0]).toMatchObject({ ok: true, envelope: { deviceId: 'a:b::c', clientId: ':::' } });
    expect(results[1]).toMatchObject({
      ok: false,
      reason: InvalidReason.DuplicateKey,
      detail: 'duplicate key "clientId"',
    });
    expect(results[2]).toMatchObject({ ok: true, envelope: { clientId: '::::' } });
  });

  it.each([
    ['traceId', '"traceId":"\\ud800"'],
    ['sourceTopic', '"sourceTopic":"sensors/\\udc00/telemetry"'],
    ['clientId, a high surrogate before a plain character', '"clientId":"\\uD83Dx"'],
  ])('rejects an escaped lone surrogate in %s as not_utf8 (it parses to text with no UTF-8 form)', (_name, member) => {
    // Given well-formed text whose JSON escape decodes to a lone surrogate
    const field = member.slice(1, member.indexOf('"', 1));
    const text = JSON.stringify(valid()).replace(new RegExp(`"${field}":"[^"]*"`), member);
    expect(text).toContain(member);
    // When it is parsed, Then it is rejected as not UTF-8, as the raw lone surrogate is
    expect(parseEnvelope(text)).toMatchObject({ ok: false, reason: InvalidReason.NotUtf8 });
  });

  it('accepts an escaped surrogate pair (one well-formed character) and an escaped backslash before "ud800"', () => {
    const text = JSON.stringify(valid());
    expect(reasonOf(text.replace(/"clientId":"[^"]*"/, '"clientId":"\\ud83d\\ude00"'))).toBe('ok');
    expect(reasonOf(text.replace(/"clientId":"[^"]*"/, '"clientId":"a\\\\ud800"'))).toBe('ok');
  });

  it.each([
    ['deviceId missing', { deviceId: undefined }, /deviceId/],
    ['deviceId with a slash', { deviceId: 'a/b' }, /deviceId: expected an IoT thing name/],
    ['readings as a string', { readings: 'hot' }, /readings/],
    ['a reading that is not a number', { readings: { temperature: '21' } }, /readings\.temperature/],
    ['no readings', { readings: {} }, /at least one reading/],
    ['an unknown field', { firmware: '1.2.3' }, /\(root\): unknown field\(s\) firmware/],
    ['a fractional ts', { ts: NOW + 0.5 }, /ts/],
    ['a ts before 2020', { ts: Date.UTC(2019, 11, 31) }, /device clock/],
    ['a ts far ahead of receivedAt', { ts: NOW + 16 * 60_000 }, /device clock ahead/],
    ['a negative seq', { seq: -1 }, /seq/],
    ['a malformed eventId', { eventId: 'not-an-id' }, /eventId/],
    ['a wrong schemaVersion', { schemaVersion: 2 }, /schemaVersion/],
  ])('rejects %s with a message naming the field', (_name, override, detail) => {
    const result = parseEnvelope(JSON.stringify({ ...valid(), ...override }));
    expect(result).toMatchObject({ ok: false, reason: InvalidReason.SchemaViolation });
    expect(result.ok || result.detail).toMatch(detail);
  });

  it('never throws, whatever the input', () => {
    for (const text of [
      '{',
      '}',
      '\u0000',
      '1e999',
      '{"a":'.repeat(1_000),
      JSON.stringify({ a: [[[[[[[[[[1]]]]]]]]]] }),
    ]) {
      expect(() => parseEnvelope(text)).not.toThrow();
      expect(parseEnvelope(text).ok).toBe(false);
    }
  });
});

/** How the CLI shows record bytes: printable UTF-8 as text, anything else as base64, headers in record order. */
import { describe, expect, it } from 'vitest';
import { recordText, showBytes, showHeaders, showRecord } from '../../../ops/kafka/records';

describe('showBytes', () => {
  it.each([
    ['printable UTF-8 with tab and newline', Buffer.from('température 21.4\tok\n'), 'température 21.4\tok\n'],
    ['invalid UTF-8', Buffer.from([0xc3, 0x28]), { base64: 'wyg=' }],
    ['a control character', Buffer.from('bell\u0007'), { base64: Buffer.from('bell\u0007').toString('base64') }],
    ['a string as it is', 'plain', 'plain'],
    ['null', null, null],
  ])('shows %s', (_, bytes, shown) => {
    // Given the bytes, When they are shown, Then they read as expected
    expect(showBytes(bytes)).toEqual(shown);
  });
});

describe('showHeaders', () => {
  it('keeps repeated headers in order', () => {
    // Given a header given twice and one given once
    const headers = { a: [Buffer.from('1'), Buffer.from('2')], b: 'x' };

    // When they are shown
    const shown = showHeaders(headers);

    // Then each value is its own entry, in order
    expect(shown).toEqual([
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
      { key: 'b', value: 'x' },
    ]);
  });
});

describe('recordText', () => {
  it('prints position, headers and value lines, binary as base64:…', () => {
    // Given a record with a null key and a binary header
    const record = showRecord('t', 2, {
      offset: '41',
      timestamp: String(Date.UTC(2026, 0, 1)),
      key: null,
      value: Buffer.from('{"i":1}'),
      headers: { bin: Buffer.from([0xff]) },
      attributes: 0,
    });

    // When it is printed for people
    const text = recordText(record);

    // Then each part has its line
    expect(text).toBe(
      'partition=2 offset=41 timestamp=2026-01-01T00:00:00.000Z key=(null)\n  headers: bin=base64:/w==\n  value: {"i":1}',
    );
  });
});

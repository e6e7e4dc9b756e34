import { describe, expect, it } from 'vitest';
import { decodeBase64, failureOf, flattenRecords, headerList } from '../../../lambdas/sink/kafka-event';
import { kafkaEvent, kafkaRecord } from '../../helpers/factories';

describe('Kafka event decoding', () => {
  it.each([
    ['canonical with padding', 'YQ==', 'a'],
    ['canonical without padding', 'YWJj', 'abc'],
    ['empty', '', ''],
  ])('accepts %s base64', (_name, text, expected) => {
    expect(decodeBase64(text)?.toString()).toBe(expected);
  });

  it.each([
    ['missing padding', 'YQ'],
    ['a space', 'Y Q=='],
    ['characters outside the alphabet', 'YQ*='],
    ['non-canonical trailing bits', 'YR=='],
    ['base64url', 'YW-_'],
  ])('rejects %s', (_name, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it('keeps header names as values and header bytes as base64', () => {
    expect(headerList([{ 'event-id': [...Buffer.from('abc')] }, { 'trace-id': [...Buffer.from('t-1')] }])).toEqual([
      { key: 'event-id', value: Buffer.from('abc').toString('base64') },
      { key: 'trace-id', value: Buffer.from('t-1').toString('base64') },
    ]);
    expect(headerList(undefined)).toEqual([]);
  });

  it('flattens every topic-partition group and identifies failures as "<topic>-<partition>" + offset', () => {
    const records = [kafkaRecord('a', { partition: 1, offset: 5 }), kafkaRecord('b', { partition: 0, offset: 9 })];
    const flat = flattenRecords(kafkaEvent(records));
    expect(flat.map((r) => `${r.partition}@${r.offset}`).sort()).toEqual(['0@9', '1@5']);
    expect(failureOf({ topic: 't.v1', partition: 3, offset: 42, timestamp: 0 })).toEqual({
      itemIdentifier: { partition: 't.v1-3', offset: 42 },
    });
  });
});

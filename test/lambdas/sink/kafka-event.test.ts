import { describe, expect, it } from 'vitest';
import { decodeBase64, failureOf, flattenRecords, headerList } from '../../../lambdas/sink/kafka-event';
import { kafkaEvent, kafkaRecord } from '../../helpers/factories';

describe('Kafka event decoding', () => {
  it.each([
    ['canonical with padding', 'YQ==', 'a'],
    ['canonical without padding', 'YWJj', 'abc'],
    ['empty', '', ''],
  ])('accepts %s base64', (_name, text, expected) => {
    // Given the base64 text from the table
    // When it is decoded, Then it is the expected bytes
    expect(decodeBase64(text)?.toString()).toBe(expected);
  });

  it.each([
    ['missing padding', 'YQ'],
    ['a space', 'Y Q=='],
    ['characters outside the alphabet', 'YQ*='],
    ['non-canonical trailing bits', 'YR=='],
    ['base64url', 'YW-_'],
  ])('rejects %s', (_name, text) => {
    // Given the malformed base64 text from the table
    // When it is decoded, Then it is refused (undefined)
    expect(decodeBase64(text)).toBeUndefined();
  });

  it('keeps header names as values and header bytes as base64', () => {
    // Given two Kafka headers as byte arrays
    // When they are listed, Then each keeps its name and carries its bytes as base64
    expect(headerList([{ 'event-id': [...Buffer.from('abc')] }, { 'trace-id': [...Buffer.from('t-1')] }])).toEqual([
      { key: 'event-id', value: Buffer.from('abc').toString('base64') },
      { key: 'trace-id', value: Buffer.from('t-1').toString('base64') },
    ]);
    // And no headers are an empty list
    expect(headerList(undefined)).toEqual([]);
  });

  it('flattens every topic-partition group and identifies failures as "<topic>-<partition>" + offset', () => {
    // Given records on two partitions
    const records = [kafkaRecord('a', { partition: 1, offset: 5 }), kafkaRecord('b', { partition: 0, offset: 9 })];
    // When the event is flattened
    const flat = flattenRecords(kafkaEvent(records));
    // Then every record is there, and a failure is identified as "<topic>-<partition>" and offset
    expect(flat.map((r) => `${r.partition}@${r.offset}`).sort()).toEqual(['0@9', '1@5']);
    expect(failureOf({ topic: 't.v1', partition: 3, offset: 42, timestamp: 0 })).toEqual({
      itemIdentifier: { partition: 't.v1-3', offset: 42 },
    });
  });
});

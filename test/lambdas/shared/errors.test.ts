import { MongoBulkWriteError, MongoServerSelectionError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  causeChain,
  DeadlineExceededError,
  describeError,
  hasErrorNamed,
  KafkaAuthenticationError,
} from '../../../lambdas/shared/errors';

const selection = new MongoServerSelectionError('Server selection timed out after 5000 ms', {} as never);

describe('hasErrorNamed', () => {
  it.each([
    ['the error itself', selection, 'MongoServerSelectionError', true],
    ['a cause of ours', new Error('MongoDB connect failed', { cause: selection }), 'MongoServerSelectionError', true],
    [
      'a cause two links down',
      new Error('outer', { cause: new DeadlineExceededError('inner', { cause: selection }) }),
      'MongoServerSelectionError',
      true,
    ],
    ['a typed error of ours', new DeadlineExceededError('Kafka send: not finished'), 'DeadlineExceededError', true],
    [
      'a message that only spells the name',
      new Error('MongoServerSelectionError: refused'),
      'MongoServerSelectionError',
      false,
    ],
    [
      'another driver error',
      new MongoBulkWriteError({ message: 'E11000', code: 11000 }, {} as never),
      'MongoServerSelectionError',
      false,
    ],
    ['a name that only starts the same', new KafkaAuthenticationError('rejected'), 'KafkaAuthentication', false],
    ['a thrown string', 'MongoServerSelectionError', 'MongoServerSelectionError', false],
    ['undefined', undefined, 'MongoServerSelectionError', false],
  ])('given %s, when asked for %s, then it answers %s', (_, error, name, expected) => {
    // Given the error from the table
    // When asked whether it or one of its causes carries the name, Then it answers as the table says
    expect(hasErrorNamed(error, name)).toBe(expected);
  });
});

describe('causeChain', () => {
  it('given wrapped errors, then it walks them outermost first', () => {
    // Given an error that wraps another
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    // When its cause chain is walked, Then it is the outer error, then the inner one
    expect([...causeChain(outer)]).toEqual([outer, inner]);
  });

  it('given a cycle, then it stops after 8 links', () => {
    // Given two errors, each the other's cause
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    // When the chain is walked, Then it stops after 8 links
    expect([...causeChain(a)]).toHaveLength(8);
  });
});

describe('describeError', () => {
  it.each([
    [
      'an error of ours',
      new DeadlineExceededError('MongoDB connect: no time left'),
      'DeadlineExceededError: MongoDB connect: no time left',
    ],
    ['a driver error', selection, 'MongoServerSelectionError: Server selection timed out after 5000 ms'],
    ['a thrown string', 'boom', 'boom'],
  ])('given %s, then it is its name and message, never the stack', (_, error, expected) => {
    // Given the error from the table
    // When it is described, Then it is its name and message, never the stack
    expect(describeError(error)).toBe(expected);
  });
});

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
    expect(hasErrorNamed(error, name)).toBe(expected);
  });
});

describe('causeChain', () => {
  it('given wrapped errors, then it walks them outermost first', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    expect([...causeChain(outer)]).toEqual([outer, inner]);
  });

  it('given a cycle, then it stops after 8 links', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
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
    expect(describeError(error)).toBe(expected);
  });
});

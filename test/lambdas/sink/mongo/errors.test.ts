import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
} from 'mongodb';
import { WriteError } from 'mongodb/lib/bulk/common.js';
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError } from '../../../../lambdas/shared/errors';
import {
  classifyMongoError,
  credentialsOf,
  isServerSelectionError,
  type MongoErrorClass,
  REDACTED,
  redactCredentials,
  SERVER_SELECTION_HINT,
  storeFailure,
} from '../../../../lambdas/sink/mongo/errors';

const serverError = (code: number, errmsg = `server error ${code}`) => new MongoServerError({ code, errmsg });
const selection = () => new MongoServerSelectionError('Server selection timed out after 5000 ms', {} as never);

/**
 * What each error means for the records it concerns: the class (`duplicate` is success for an insert-if-absent),
 * the kind a port reports for a whole call that failed with it (a duplicate there confirms nothing: transient), and
 * whether the operator is pointed at network access.
 */
const CLASSIFIED: [string, unknown, MongoErrorClass, 'transient' | 'permanent', boolean][] = [
  [
    'a bulk write error E11000 (the _id exists)',
    new WriteError({ code: 11000, index: 0, errmsg: 'E11000 dup key', op: {} }),
    'duplicate',
    'transient',
    false,
  ],
  ['E11001 (the legacy duplicate key on update)', serverError(11001), 'duplicate', 'transient', false],
  // Document-level codes: bad value, type mismatch, invalid BSON, path not viable, dollar-prefixed or dotted field,
  // document validation, size limits (https://www.mongodb.com/docs/manual/reference/error-codes/)
  ...[2, 9, 14, 22, 28, 52, 55, 56, 57, 121, 10334, 17280, 17419].map(
    (code): [string, unknown, MongoErrorClass, 'transient' | 'permanent', boolean] => [
      `server code ${code}, which condemns the document`,
      serverError(code),
      'permanent',
      'permanent',
      false,
    ],
  ),
  [
    'a permanent code on an error it wraps (cause)',
    new Error('write failed', { cause: serverError(121, 'Document failed validation') }),
    'permanent',
    'permanent',
    false,
  ],
  ['a failed server selection', selection(), 'transient', 'transient', true],
  [
    'a failed server selection wrapped by another error',
    new Error('MongoDB connect failed', { cause: selection() }),
    'transient',
    'transient',
    true,
  ],
  [
    'a lost connection',
    new MongoNetworkError('connection 3 to 10.0.0.12:27017 closed'),
    'transient',
    'transient',
    false,
  ],
  ['a socket timeout', new MongoNetworkTimeoutError('connection timed out'), 'transient', 'transient', false],
  [
    'a write concern failure (w: majority not reached)',
    new MongoWriteConcernError({ writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' }, ok: 1 }),
    'transient',
    'transient',
    false,
  ],
  ['a primary stepping down (91, ShutdownInProgress)', serverError(91), 'transient', 'transient', false],
  ['an authorization failure (13): a deployment problem', serverError(13), 'transient', 'transient', false],
  ['a server-side time limit (50, MaxTimeMSExpired)', serverError(50), 'transient', 'transient', false],
  [
    'the invocation deadline',
    new DeadlineExceededError('no time left for this write'),
    'transient',
    'transient',
    false,
  ],
  ['a duplicate code given as a string', { code: '11000' }, 'transient', 'transient', false],
  [
    'a plain error whose message merely starts with the selection error name',
    new Error('MongoServerSelectionError lookalike'),
    'transient',
    'transient',
    false,
  ],
  ['something thrown that is not an error', 'boom', 'transient', 'transient', false],
  ['nothing at all', undefined, 'transient', 'transient', false],
];

describe('classifyMongoError and storeFailure', () => {
  it.each(CLASSIFIED)('%s', (_given, error, errorClass, kind, hinted) => {
    // Given the error; When it is classified and reported as a store failure
    const failure = storeFailure(error);
    // Then its class, the kind of failure and the hint are as the table says
    expect(classifyMongoError(error)).toBe(errorClass);
    expect(failure).toMatchObject({ status: 'failed', kind });
    expect(isServerSelectionError(error)).toBe(hinted);
    expect(failure.hint).toBe(hinted ? SERVER_SELECTION_HINT : undefined);
  });

  it("describes the failure by the error's name and message, without a URI's credentials", () => {
    // Given a driver error quoting a URI with its userinfo, and the credentials of the URI in use
    const error = new MongoNetworkError('connection to mongodb://alice:s3cr3t-pw@cluster0 reset (alice)');
    // When it is reported as a store failure
    const failure = storeFailure(error, credentialsOf('mongodb://alice:s3cr3t-pw@cluster0'));
    // Then the description names the class and carries neither the user nor the password
    expect(failure.error).toBe(`MongoNetworkError: connection to mongodb://${REDACTED}@cluster0 reset (${REDACTED})`);
  });
});

describe('redactCredentials', () => {
  it('removes the userinfo of any MongoDB URI quoted in a message', () => {
    expect(redactCredentials('cannot reach mongodb+srv://svc:p%40ss@cluster0.example.mongodb.net/db?x=1')).toBe(
      `cannot reach mongodb+srv://${REDACTED}@cluster0.example.mongodb.net/db?x=1`,
    );
  });

  it("removes the URI's user name and password wherever they appear, raw or percent-decoded", () => {
    // Given the credentials of a URI the driver refuses (an unescaped "/" in the user name)
    const credentials = credentialsOf('mongodb://ops/alice:p%40ss-word@127.0.0.1:9/');
    // Then driver messages quoting them out of URI context lose them
    expect(redactCredentials('Username contains unescaped characters ops/alice', credentials)).toBe(
      `Username contains unescaped characters ${REDACTED}`,
    );
    expect(redactCredentials('auth failed for p@ss-word', credentials)).toBe(`auth failed for ${REDACTED}`);
  });

  it('finds no credentials in a URI without userinfo, or in something that is not a MongoDB URI', () => {
    expect(credentialsOf('mongodb://127.0.0.1:27017/')).toEqual([]);
    expect(credentialsOf('https://user:pw@example.com/')).toEqual([]);
  });
});

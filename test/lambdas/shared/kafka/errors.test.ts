import * as kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaAuthenticationError } from '../../../../lambdas/shared/errors';
import { classifyKafkaError, type KafkaErrorClass } from '../../../../lambdas/shared/kafka/errors';

type ErrorClass = new (message: unknown, options?: unknown) => Error;

/**
 * kafkajs' own error classes, as its runtime defines them (src/errors.js): its typings leave some out
 * (`KafkaJSConnectionClosedError`) and declare others without the message they take.
 */
const kafkajsError = (name: string, message: unknown, options?: unknown): Error =>
  new ((kafkajs as unknown as Record<string, ErrorClass>)[name] as ErrorClass)(message, options);

/** A broker's error code as kafkajs' protocol layer builds it (src/protocol/error.js: type, code, retriable). */
const protocolError = (type: string, code: number) =>
  kafkajsError(
    'KafkaJSProtocolError',
    Object.assign(new Error(`${type} from the broker`), { type, code, retriable: false }),
  );

/** A Node.js socket error: a message and a `code` (net, tls, dns). */
const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });

/** kafkajs' retrier gives up with the last error as `cause` (src/retry/index.js). */
const retriesExceeded = (cause: Error) =>
  kafkajsError('KafkaJSNumberOfRetriesExceeded', cause, { retryCount: 5, retryTime: 3_000 });

const CASES: readonly (readonly [string, unknown, KafkaErrorClass])[] = [
  // Authentication: do not retry with the same secret
  [
    'KafkaJSSASLAuthenticationError',
    kafkajsError('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed'),
    'authentication',
  ],
  ["the pipeline's own KafkaAuthenticationError", new KafkaAuthenticationError('rejected'), 'authentication'],
  ['a SASL_AUTHENTICATION_FAILED protocol error', protocolError('SASL_AUTHENTICATION_FAILED', 58), 'authentication'],
  ['an ILLEGAL_SASL_STATE protocol error', protocolError('ILLEGAL_SASL_STATE', 34), 'authentication'],
  ['an UNSUPPORTED_SASL_MECHANISM protocol error', protocolError('UNSUPPORTED_SASL_MECHANISM', 33), 'authentication'],
  [
    'a SASL failure under a connection error in the cause chain',
    retriesExceeded(kafkajsError('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed')),
    'authentication',
  ],
  // Connection: drop the producer, reconnect, retry once
  ['KafkaJSConnectionError', kafkajsError('KafkaJSConnectionError', 'Connection timeout'), 'connection'],
  ['KafkaJSConnectionClosedError', kafkajsError('KafkaJSConnectionClosedError', 'Closed connection'), 'connection'],
  [
    'KafkaJSRequestTimeoutError',
    kafkajsError('KafkaJSRequestTimeoutError', 'Request Produce(key: 0) timed out'),
    'connection',
  ],
  [
    'KafkaJSBrokerNotFound',
    kafkajsError('KafkaJSBrokerNotFound', 'Broker 3 not found in the cached metadata'),
    'connection',
  ],
  [
    'the disconnected producer (a plain KafkaJSError)',
    kafkajsError('KafkaJSError', 'The producer is disconnected'),
    'connection',
  ],
  ...(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'] as const).map(
    (code) => [`a socket error ${code}`, socketError(code, `connect ${code} 10.0.0.1:9092`), 'connection'] as const,
  ),
  [
    'a connection error wrapped by the retrier',
    retriesExceeded(kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED')),
    'connection',
  ],
  [
    'a socket error two causes down',
    (() => {
      const retried = retriesExceeded(socketError('ECONNRESET', 'socket hang up'));
      return kafkajsError('KafkaJSNonRetriableError', retried, { cause: retried });
    })(),
    'connection',
  ],
  // Other: report the records as failed
  ['a broker error code of a live connection', protocolError('NOT_LEADER_OR_FOLLOWER', 6), 'other'],
  ['a record too large for the broker', protocolError('MESSAGE_TOO_LARGE', 10), 'other'],
  ['a generic KafkaJSError', kafkajsError('KafkaJSError', 'Invalid partition metadata'), 'other'],
  [
    "a KafkaJSError that only quotes the disconnected producer's words",
    kafkajsError('KafkaJSError', 'Oops: The producer is disconnected'),
    'other',
  ],
  ['a plain Error whose message looks like a connection failure', new Error('connection closed'), 'other'],
  ['a TypeError (a bug)', new TypeError("Cannot read properties of undefined (reading 'send')"), 'other'],
  ['a thrown string', 'KafkaJSConnectionError', 'other'],
  ['undefined', undefined, 'other'],
];

describe('classifyKafkaError', () => {
  it.each(CASES.map(([given, error, expected]) => [given, expected, error] as const))(
    'given %s, when classified, then it is %s',
    (_, expected, error) => {
      expect(classifyKafkaError(error)).toBe(expected);
    },
  );

  it('given a cause chain that loops, when classified, then it stops and answers', () => {
    // Given two errors that are each other's cause
    const first = kafkajsError('KafkaJSError', 'first');
    const second = kafkajsError('KafkaJSError', 'second', { cause: first });
    Object.assign(first, { cause: second });

    // When classified, Then the walk is bounded
    expect(classifyKafkaError(first)).toBe('other');
  });
});

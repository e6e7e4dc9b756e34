import { causeChain } from '../errors';

/** How the pipeline reacts to a Kafka client error. */
export type KafkaErrorClass =
  /** SASL rejected the credentials: do not retry with the same secret. */
  | 'authentication'
  /** The connection is gone or unusable: drop the producer, reconnect, retry once. */
  | 'connection'
  /** Anything else (broker error codes, timeouts of a live connection): report the records as failed. */
  | 'other';

const AUTHENTICATION_NAMES = new Set(['KafkaJSSASLAuthenticationError', 'KafkaAuthenticationError']);
const AUTHENTICATION_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
]);
const CONNECTION_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
/**
 * The one connection failure kafkajs reports without a name or code of its own: a send on a disconnected producer
 * throws a plain `KafkaJSError('The producer is disconnected')` (kafkajs 2.2.4, src/producer/messageProducer.js), so
 * its message is all there is. Its other connection failures are `KafkaJSConnectionError`s, and Node's socket
 * errors carry a `code`.
 */
const DISCONNECTED_PRODUCER = /^The producer is disconnected$/;

/**
 * Classifies an error from kafkajs by `name`, `type` and `code` along its cause chain (kafkajs wraps errors in
 * `KafkaJSNumberOfRetriesExceeded` / `KafkaJSNonRetriableError`, keeping the original as `cause`).
 */
export function classifyKafkaError(error: unknown): KafkaErrorClass {
  let connection = false;
  for (const link of causeChain(error)) {
    const { name, type, code, message } = link as { name?: unknown; type?: unknown; code?: unknown; message?: unknown };
    if (typeof name === 'string' && AUTHENTICATION_NAMES.has(name)) return 'authentication';
    if (typeof type === 'string' && AUTHENTICATION_TYPES.has(type)) return 'authentication';
    if (typeof name === 'string' && CONNECTION_NAMES.has(name)) connection = true;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) connection = true;
    if (name === 'KafkaJSError' && typeof message === 'string' && DISCONNECTED_PRODUCER.test(message))
      connection = true;
  }
  return connection ? 'connection' : 'other';
}

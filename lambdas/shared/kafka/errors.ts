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
const CONNECTION_MESSAGES = [/producer is disconnected/i, /connection (?:closed|error|timeout)/i, /socket hang up/i];

/**
 * Classifies an error from kafkajs by `name`, `type` and `code` along its cause chain (kafkajs wraps errors in
 * `KafkaJSNumberOfRetriesExceeded` / `KafkaJSNonRetriableError`).
 */
export function classifyKafkaError(error: unknown): KafkaErrorClass {
  let connection = false;
  for (const link of causeChain(error)) {
    const { name, type, code, message } = link as { name?: unknown; type?: unknown; code?: unknown; message?: unknown };
    if (typeof name === 'string' && AUTHENTICATION_NAMES.has(name)) return 'authentication';
    if (typeof type === 'string' && AUTHENTICATION_TYPES.has(type)) return 'authentication';
    if (typeof name === 'string' && CONNECTION_NAMES.has(name)) connection = true;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) connection = true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) connection = true;
  }
  return connection ? 'connection' : 'other';
}

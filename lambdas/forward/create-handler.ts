/**
 * Wires the forwarder's adapters (kafkajs, SQS, Powertools) around its pure core. `handler.ts` calls this once per
 * container; tests call it with their own environment and clients.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ForwarderEnvironment } from '../../contracts/environment';
import { invocationDeadline } from '../shared/deadline';
import { logger, metrics, withPowertools } from '../shared/powertools';
import { forwardBatch } from './forwarder';
import { KafkaPublisher } from './kafka-publisher';
import { kafkaSessionFactory } from './kafka-session';
import { lazySqsClient, SqsQuarantine } from './sqs-quarantine';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A handler plus a way to release its Kafka connections (tests, local runs). */
export type ForwarderHandler = SqsHandler & { close(): Promise<void> };

/**
 * Builds the handler from a parsed environment (called once per container by `handler.ts`). `sqs` (tests): the
 * dead-letter queue's client; by default one built when the first invalid record is parked, off the cold start.
 */
export function createHandler(env: ForwarderEnvironment, sqs?: SQSClient): ForwarderHandler {
  const publisher = new KafkaPublisher({
    topic: env.KAFKA_TOPIC,
    compression: env.KAFKA_COMPRESSION,
    maxRequestBytes: env.KAFKA_MAX_REQUEST_BYTES,
    logger,
    sessions: kafkaSessionFactory(
      {
        clientId: env.KAFKA_CLIENT_ID,
        brokers: env.KAFKA_BROKERS,
        ssl: env.KAFKA_SSL,
        credentialsSecretId: env.KAFKA_CREDENTIALS_SECRET_ID,
      },
      logger,
    ),
  });
  const quarantine = new SqsQuarantine(sqs ?? lazySqsClient(), env.DLQ_URL, 'forward', logger);

  const handler: SqsHandler = withPowertools((event: SQSEvent, context) =>
    forwardBatch(event.Records, {
      publisher,
      quarantine,
      logger,
      metrics,
      maxMessageBytes: env.MAX_MESSAGE_BYTES,
      deadline: invocationDeadline(context.getRemainingTimeInMillis()),
    }),
  );
  return Object.assign(handler, { close: () => publisher.close() });
}

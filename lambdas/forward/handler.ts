/**
 * Forwarder Lambda: SQS batch → Kafka. The AWS adapter only: it builds the clients once per container, maps the
 * event, and returns the partial batch response. The behaviour lives in `forwarder.ts`.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseEnvironment } from '../shared/config';
import { invocationDeadline } from '../shared/deadline';
import { logger, metrics } from '../shared/powertools';
import { type ForwarderEnvironment, ForwarderEnvironmentSchema } from './config';
import { forwardBatch } from './forwarder';
import { KafkaPublisher } from './kafka-publisher';
import { kafkaSessionFactory } from './kafka-session';
import { SqsQuarantine } from './sqs-quarantine';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Builds the handler from a parsed environment (tests build their own; Lambda uses `handler` below). */
export function createHandler(env: ForwarderEnvironment, sqs: SQSClient = new SQSClient({})): SqsHandler {
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
  const quarantine = new SqsQuarantine(sqs, env.DLQ_URL, 'forward', logger);

  return async (event, context) => {
    logger.addContext(context);
    metrics.captureColdStartMetric(context.functionName);
    try {
      return await forwardBatch(event.Records, {
        publisher,
        quarantine,
        logger,
        metrics,
        maxMessageBytes: env.MAX_MESSAGE_BYTES,
        deadline: invocationDeadline(context.getRemainingTimeInMillis()),
      });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** The Lambda entry point. A bad environment fails the cold start with a message naming each variable. */
export const handler: SqsHandler = createHandler(parseEnvironment(ForwarderEnvironmentSchema));

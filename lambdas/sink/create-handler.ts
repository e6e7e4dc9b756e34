/**
 * Wires the sink's adapters (MongoDB driver, Powertools) around its pure core. `handler.ts` calls this once per
 * container; tests and local runs call it with their own environment.
 */
import type { Context } from 'aws-lambda';
import { invocationDeadline } from '../shared/deadline';
import { ConfigurationError, describeError } from '../shared/errors';
import { logger, metrics } from '../shared/powertools';
import type { SinkEnvironment } from './config';
import { failureOf, flattenRecords, type KafkaBatchResponse, type KafkaEvent } from './kafka-event';
import { MongoConnection } from './mongo-connection';
import { isServerSelectionError, SERVER_SELECTION_HINT } from './mongo-errors';
import type { SinkCollections } from './ports';
import { type ReadingWriter, TimeSeriesReadingWriter, UpsertReadingWriter } from './reading-writers';
import { SinkMetric, sinkBatch } from './sink';

export type KafkaHandler = (event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse>;
export type SinkHandler = KafkaHandler & { close(): Promise<void> };

function readingWriter(env: SinkEnvironment, target: SinkCollections): ReadingWriter {
  if (!env.MONGODB_TIME_SERIES) return new UpsertReadingWriter(target.readings);
  if (!target.readingIds)
    throw new ConfigurationError('A time-series readings collection needs the readingIds collection');
  return new TimeSeriesReadingWriter(target.readings, target.readingIds);
}

/** Builds the handler; `collections` replaces the MongoDB connection (tests). */
export function createHandler(env: SinkEnvironment, collections?: SinkCollections): SinkHandler {
  const connection = new MongoConnection({
    uriSecretId: env.MONGODB_URI_SECRET_ID,
    uri: env.MONGODB_URI,
    database: env.MONGODB_DATABASE,
    maxPoolSize: env.MONGODB_MAX_POOL_SIZE,
    timeSeries: env.MONGODB_TIME_SERIES,
    logger,
  });

  const handler: KafkaHandler = async (event, context) => {
    logger.addContext(context);
    metrics.captureColdStartMetric(context.functionName);
    const deadline = invocationDeadline(context.getRemainingTimeInMillis());
    try {
      const target = collections ?? (await connection.collections(context.getRemainingTimeInMillis()));
      const readings = readingWriter(env, target);
      return await sinkBatch(event, {
        collections: target,
        readings,
        logger,
        metrics,
        maxMessageBytes: env.MAX_MESSAGE_BYTES,
        deadline,
      });
    } catch (error) {
      // Connecting failed (secret, DNS, server selection): nothing was written, every record is retried
      const records = flattenRecords(event);
      const described = describeError(error);
      logger.error('MongoDB unavailable; the event source will deliver the batch again', {
        error: described,
        records: records.length,
        ...(isServerSelectionError(described) ? { hint: SERVER_SELECTION_HINT } : {}),
      });
      metrics.addMetric(SinkMetric.Failed, 'Count', records.length);
      return { batchItemFailures: records.map(failureOf) };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
  return Object.assign(handler, { close: () => connection.close() });
}

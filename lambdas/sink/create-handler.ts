/**
 * Wires the sink's adapters (MongoDB driver, Powertools) around its pure core. `handler.ts` calls this once per
 * container; tests and local runs call it with their own environment.
 */
import type { Context } from 'aws-lambda';
import type { SinkEnvironment } from '../../contracts/environment';
import { PipelineError } from '../../contracts/errors';
import { failureDetail } from '../../contracts/failure';
import { SinkMetric } from '../../contracts/metrics';
import { invocationDeadline, withDeadline } from '../shared/deadline';
import { describeError } from '../shared/errors';
import { logger, metrics, withPowertools } from '../shared/powertools';
import { failureOf, flattenRecords, type KafkaBatchResponse, type KafkaEvent } from './kafka-event';
import type { SinkCollections } from './mongo/collections';
import { MongoConnection } from './mongo/connection';
import { isServerSelectionError, SERVER_SELECTION_HINT } from './mongo/errors';
import { mongoStores } from './mongo/stores';
import type { SinkStores } from './ports';
import { sinkBatch } from './sink';

/** Thrown (on-demand event sources only) so that Lambda retries a batch it cannot partially acknowledge. */
export class BatchNotStoredError extends PipelineError {
  public override readonly name = 'BatchNotStoredError';
}

export type KafkaHandler = (event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse>;
export type SinkHandler = KafkaHandler & { close(): Promise<void> };

/**
 * What replaces the MongoDB connection: other collections behind the same MongoDB adapters (the in-memory store of
 * `telemetry-ops local`), or other stores altogether (tests of the handler).
 */
export type SinkBackend = { readonly collections: SinkCollections } | { readonly stores: SinkStores };

/** Builds the handler; `backend` replaces the MongoDB connection. */
export function createHandler(env: SinkEnvironment, backend?: SinkBackend): SinkHandler {
  const connection = new MongoConnection({
    uriSecretId: env.MONGODB_URI_SECRET_ID,
    uri: env.MONGODB_URI,
    database: env.MONGODB_DATABASE,
    maxPoolSize: env.MONGODB_MAX_POOL_SIZE,
    timeSeries: env.MONGODB_TIME_SERIES,
    logger,
  });

  const handler: KafkaHandler = withPowertools(async (event: KafkaEvent, context) => {
    const deadline = invocationDeadline(context.getRemainingTimeInMillis());
    // Nothing was written when either step throws: every record is retried. The log names which step failed and
    // why, credentials redacted (driver parse errors quote the user name)
    const everyRecordFailed = (message: string, error: unknown): KafkaBatchResponse => {
      const records = flattenRecords(event);
      const described = failureDetail(connection.redact(describeError(error)));
      logger.error(message, {
        error: described,
        records: records.length,
        ...(isServerSelectionError(error) ? { hint: SERVER_SELECTION_HINT } : {}),
      });
      metrics.addMetric(SinkMetric.Failed, 'Count', records.length);
      return { batchItemFailures: records.map(failureOf) };
    };
    const handleBatch = async (): Promise<KafkaBatchResponse> => {
      let target: SinkBackend;
      try {
        target = backend ?? {
          collections: await withDeadline(
            connection.collections(context.getRemainingTimeInMillis()),
            deadline,
            'MongoDB connect',
          ),
        };
      } catch (error) {
        return everyRecordFailed('MongoDB unavailable; the event source will deliver the batch again', error);
      }
      try {
        const stores = 'stores' in target ? target.stores : mongoStores(target.collections, env.MONGODB_TIME_SERIES);
        return await sinkBatch(event, {
          ...stores,
          logger,
          metrics,
          maxMessageBytes: env.MAX_MESSAGE_BYTES,
          deadline,
        });
      } catch (error) {
        const name = error instanceof Error ? error.name : typeof error;
        return everyRecordFailed(`Sink failed (${name}); the event source will deliver the batch again`, error);
      }
    };
    const response = await handleBatch();
    // The metrics of the batch are flushed all the same (withPowertools flushes on a throw too)
    if (!env.PARTIAL_BATCH_RESPONSE && response.batchItemFailures.length > 0) {
      throw new BatchNotStoredError(
        `${response.batchItemFailures.length} records not stored; failing the batch so the event source delivers it again`,
      );
    }
    return response;
  });
  return Object.assign(handler, { close: () => connection.close() });
}

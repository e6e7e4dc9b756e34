/**
 * Test kit: handler factories that build the functions from source instead of their bundles: the same `createHandler`s the
 * bundled entries call, with what a test wants to replace (the sink's MongoDB collections).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { ForwarderEnvironmentSchema, SinkEnvironmentSchema } from '../../contracts/environment';
import { createHandler as createForwarder } from '../../lambdas/forward/create-handler';
import { parseEnvironment } from '../../lambdas/shared/config';
import { createHandler as createSink } from '../../lambdas/sink/create-handler';
import type { SinkCollections } from '../../lambdas/sink/mongo/collections';
import type { ForwarderFactory, SinkFactory } from '../../tools/local/ports';

/** The forwarder from source; its SQS client goes to the environment's `AWS_ENDPOINT_URL_SQS`. */
export const sourceForwarder: ForwarderFactory = async (environment) =>
  createForwarder(
    parseEnvironment(ForwarderEnvironmentSchema, environment),
    new SQSClient({
      region: environment.AWS_REGION ?? 'us-east-1',
      ...(environment.AWS_ENDPOINT_URL_SQS ? { endpoint: environment.AWS_ENDPOINT_URL_SQS } : {}),
      credentials: {
        accessKeyId: environment.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: environment.AWS_SECRET_ACCESS_KEY ?? 'local',
      },
    }),
  );

/** The sink from source, writing to `collections` (an in-memory fake) instead of MongoDB when given. */
export const sourceSink =
  (collections?: SinkCollections): SinkFactory =>
  async (environment) =>
    createSink(parseEnvironment(SinkEnvironmentSchema, environment), collections ? { collections } : undefined);

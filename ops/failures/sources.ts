/** Builds the failure stores of the configured deployment from its config and stack outputs. */

import { UserError } from '../../contracts/errors';
import { FAILURE_STORES, type FailureStore } from '../../contracts/failure';
import type { OpsContext } from '../context';
import { DeadLetterTopic } from './dead-letter-topic';
import {
  DeadLetterQueueSource,
  type FailureSource,
  IngestErrorSource,
  QuarantineSource,
  SinkDeadLetterSource,
} from './stores';

/** The sink's dead-letter topic; none with an on-demand event source (Kafka destinations need provisioned mode). */
export function sinkDeadLetterTopic(context: OpsContext): string | undefined {
  return context.config.sink.provisionedPollers ? context.sinkDeadLetterTopicName : undefined;
}

/** The consumer group whose committed offsets mark what of the dead-letter topic has been redriven. */
export function redriveGroup(context: OpsContext): string {
  return `${context.sinkGroupId}.redrive`;
}

export async function failureSource(context: OpsContext, store: FailureStore): Promise<FailureSource> {
  const ingestQueueUrl = await context.output('IngestQueueUrl');
  switch (store) {
    case 'ingest-errors':
      return new IngestErrorSource(
        context.sqs(),
        await context.output('ErrorQueueUrl'),
        ingestQueueUrl,
        context.config.iot.topicFilters,
      );
    case 'ingest-dlq':
      return new DeadLetterQueueSource(
        context.sqs(),
        await context.output('DeadLetterQueueUrl'),
        ingestQueueUrl,
        context.config.ingest.maxReceiveCount,
      );
    case 'sink-dlt': {
      const topic = sinkDeadLetterTopic(context);
      if (!topic)
        throw new UserError(
          'This deployment has no sink dead-letter topic: the sink runs an on-demand event source (sink.provisionedPollers is null), which retries a failing batch until maxRecordAge',
        );
      return new SinkDeadLetterSource(
        new DeadLetterTopic(await context.kafka(), topic, redriveGroup(context), context.kafkaTarget()),
        context.sqs(),
        ingestQueueUrl,
      );
    }
    case 'quarantine':
      return new QuarantineSource(
        await context.quarantine(),
        context.config.sink.mongo.database,
        context.sqs(),
        ingestQueueUrl,
      );
  }
}

/** Parses `--store` values; every store when none is given. */
export function parseStores(values: readonly string[] | undefined): FailureStore[] {
  if (!values || values.length === 0) return [...FAILURE_STORES];
  return values.map((value) => {
    if (!(FAILURE_STORES as readonly string[]).includes(value))
      throw new UserError(`Unknown failure store "${value}": use one of ${FAILURE_STORES.join(', ')}`);
    return value as FailureStore;
  });
}

/** The store an envelope id belongs to (`<store>:<id>`). */
export function storeOfId(id: string): FailureStore {
  const store = id.slice(0, id.indexOf(':'));
  if (!(FAILURE_STORES as readonly string[]).includes(store))
    throw new UserError(
      `"${id}" is not a failure id: ids look like <store>:<id in the store>, e.g. ingest-dlq:6f1c…; copy one from \`failures list\``,
    );
  return store as FailureStore;
}

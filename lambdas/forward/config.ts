import * as z from 'zod';
import { envBool, envBrokers, envInt } from '../shared/config';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../shared/envelope';

/**
 * The forwarder's environment, set by the `KafkaForwarder` construct. Secrets are never passed here: only the id of
 * the Secrets Manager secret that holds them.
 */
export const ForwarderEnvironmentSchema = z
  .object({
    KAFKA_BROKERS: envBrokers,
    KAFKA_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name'),
    KAFKA_CLIENT_ID: z.string().min(1).default('telemetry-forwarder'),
    KAFKA_CREDENTIALS_SECRET_ID: z.string().min(1).optional(),
    KAFKA_SSL: envBool.optional(),
    KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
    KAFKA_MAX_REQUEST_BYTES: envInt(1_024, 100_000_000).default(1_000_000),
    DLQ_URL: z.url({ error: 'expected the URL of the dead-letter queue' }),
    MAX_MESSAGE_BYTES: envInt(256, 1_048_576).default(DEFAULT_MAX_MESSAGE_BYTES),
  })
  // TLS follows the credentials unless set: Confluent Cloud needs both, a local broker neither.
  .transform((env) => ({ ...env, KAFKA_SSL: env.KAFKA_SSL ?? env.KAFKA_CREDENTIALS_SECRET_ID !== undefined }));

export type ForwarderEnvironment = z.output<typeof ForwarderEnvironmentSchema>;

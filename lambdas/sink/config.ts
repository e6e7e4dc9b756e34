import * as z from 'zod';
import { envBool, envInt } from '../shared/config';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../shared/envelope';

/**
 * The sink's environment, set by the `MongoSink` construct. The connection string is never passed here in AWS:
 * only the id of the secret that holds it. `MONGODB_URI` exists for local runs.
 */
export const SinkEnvironmentSchema = z
  .object({
    MONGODB_URI_SECRET_ID: z.string().min(1).optional(),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URI')
      .optional(),
    MONGODB_DATABASE: z
      .string()
      .regex(/^[^/\\. "$*<>:|?]{1,63}$/, 'expected a MongoDB database name')
      .default('telemetry'),
    MONGODB_MAX_POOL_SIZE: envInt(1, 100).default(2),
    MONGODB_TIME_SERIES: envBool.default(false),
    MAX_MESSAGE_BYTES: envInt(256, 1_048_576).default(DEFAULT_MAX_MESSAGE_BYTES),
    /**
     * Whether the event source honours partial batch responses (provisioned mode). When it does not (on demand), a
     * batch with any unstored record must fail as a whole, or Lambda would commit past the unstored records.
     */
    PARTIAL_BATCH_RESPONSE: envBool.default(true),
  })
  .refine((env) => (env.MONGODB_URI_SECRET_ID === undefined) !== (env.MONGODB_URI === undefined), {
    message: 'set MONGODB_URI_SECRET_ID (AWS) or MONGODB_URI (local runs), exactly one',
    path: ['MONGODB_URI_SECRET_ID'],
  });

export type SinkEnvironment = z.output<typeof SinkEnvironmentSchema>;

/**
 * The functions' environments: what each variable holds (the schemas the functions parse at cold start) and how
 * they are set (the builders the constructs in `lib/` and the local pipeline in `tools/local` both call). A builder
 * lists every variable of its schema by name, so a renamed or added variable fails to compile here, and a builder's
 * typed values fail to compile on every side that sets them.
 *
 * Builders only format: on the CDK side a string may be a token (a secret ARN, a queue URL) that resolves at deploy
 * time, so nothing is validated at synth; the functions validate with the schemas when they start.
 */
import * as z from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES, KAFKA_TOPIC_MAX_LENGTH, KAFKA_TOPIC_PATTERN } from './limits';

// --- variable types ----------------------------------------------------------------------------------------------

/** A positive integer read from an environment variable string. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `true`/`false` (case-insensitive) read from an environment variable string. */
export const envBool = z
  .enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False'])
  .transform((value) => value.toLowerCase() === 'true');

/** A comma-separated list of `host:port` pairs. */
export const envBrokers = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker.length > 0),
  )
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port')).min(1));

/** Largest accepted envelope in UTF-8 bytes (both functions). */
const maxMessageBytes = envInt(256, 1_048_576).default(DEFAULT_MAX_MESSAGE_BYTES);

/**
 * Defaults a deployment, a construct and a function agree on when nothing is set: the configuration schema, the
 * constructs' props and the environment schemas all take them from here.
 */
export const ENVIRONMENT_DEFAULTS = {
  /** Upper bound of one produce request's record bytes. */
  kafkaMaxRequestBytes: 1_000_000,
  /** MongoDB database of the readings, devices and quarantine collections. */
  mongoDatabase: 'telemetry',
  /** Connections per sink container and per replica-set member. */
  mongoMaxPoolSize: 2,
} as const;

/** The produce compressions the forwarder offers: the codecs kafkajs has built in. */
export const KAFKA_COMPRESSIONS = ['none', 'gzip'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/**
 * Every variable of a schema, by name: the object a builder must fill (`undefined` leaves a variable unset). A
 * variable added to a schema, or renamed, fails to compile in its builder until the builder sets it.
 */
export type EnvironmentVariables<S extends z.ZodType> = Readonly<Record<keyof z.input<S>, string | undefined>>;

/** The set variables only: Lambda and `process.env` hold strings. */
function defined(variables: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) environment[name] = value;
  return environment;
}

// --- every function -------------------------------------------------------------------------------------------

/** Names the stack: the value of every metric's `pipeline` dimension (`contracts/metrics.ts`). */
export const PIPELINE_NAME_VARIABLE = 'PIPELINE_NAME';

/**
 * What every function is given next to its own variables. Powertools reads the `POWERTOOLS_*` ones itself (listed
 * here as plain strings so this parse accepts whatever Powertools does); the functions read `PIPELINE_NAME`.
 * Optional so local runs and tests need nothing; every deployed function has them (set by `PipelineFunction`).
 */
export const FunctionEnvironmentSchema = z.object({
  POWERTOOLS_SERVICE_NAME: z.string().optional(),
  POWERTOOLS_METRICS_NAMESPACE: z.string().optional(),
  POWERTOOLS_LOG_LEVEL: z.string().optional(),
  POWERTOOLS_METRICS_DISABLED: z.string().optional(),
  [PIPELINE_NAME_VARIABLE]: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'expected the stack name')
    .optional(),
});

export interface FunctionEnvironmentValues {
  /** The `service` of every log line and EMF metric (`ServiceName` in `contracts/metrics.ts`). */
  readonly serviceName: string;
  /** CloudWatch namespace of the EMF metrics. */
  readonly metricsNamespace: string;
  /** Powertools log level, e.g. `INFO`. */
  readonly logLevel: string;
  /** The stack name: the `pipeline` dimension of every metric. */
  readonly pipelineName: string;
  /** Turn EMF output off (local runs, where no CloudWatch reads it). @default Powertools' default (metrics on) */
  readonly metricsDisabled?: boolean;
}

export function functionEnvironment(values: FunctionEnvironmentValues): Record<string, string> {
  const variables: EnvironmentVariables<typeof FunctionEnvironmentSchema> = {
    POWERTOOLS_SERVICE_NAME: values.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: values.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: values.logLevel,
    POWERTOOLS_METRICS_DISABLED: values.metricsDisabled === undefined ? undefined : String(values.metricsDisabled),
    [PIPELINE_NAME_VARIABLE]: values.pipelineName,
  };
  return defined(variables);
}

// --- the forwarder --------------------------------------------------------------------------------------------

/**
 * The forwarder's environment, set by the `KafkaForwarder` construct. Secrets are never passed here: only the id of
 * the Secrets Manager secret that holds them.
 */
export const ForwarderEnvironmentSchema = z
  .object({
    KAFKA_BROKERS: envBrokers,
    KAFKA_TOPIC: z
      .string()
      .max(KAFKA_TOPIC_MAX_LENGTH)
      .regex(KAFKA_TOPIC_PATTERN, 'expected a Kafka topic name Lambda and Kafka accept'),
    KAFKA_CLIENT_ID: z.string().min(1).default('telemetry-forwarder'),
    KAFKA_CREDENTIALS_SECRET_ID: z.string().min(1).optional(),
    KAFKA_SSL: envBool.optional(),
    KAFKA_COMPRESSION: z.enum(KAFKA_COMPRESSIONS).default('none'),
    KAFKA_MAX_REQUEST_BYTES: envInt(1_024, 100_000_000).default(ENVIRONMENT_DEFAULTS.kafkaMaxRequestBytes),
    DLQ_URL: z.url({ error: 'expected the URL of the dead-letter queue' }),
    MAX_MESSAGE_BYTES: maxMessageBytes,
  })
  // TLS follows the credentials unless set: Confluent Cloud needs both, a local broker neither.
  .transform((env) => ({ ...env, KAFKA_SSL: env.KAFKA_SSL ?? env.KAFKA_CREDENTIALS_SECRET_ID !== undefined }));

export type ForwarderEnvironment = z.output<typeof ForwarderEnvironmentSchema>;

export interface ForwarderEnvironmentValues {
  /** Kafka bootstrap servers, `host:port`. */
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Kafka client id, visible in broker logs and Confluent metrics. */
  readonly clientId: string;
  /** Id (ARN) of the secret with the SASL/PLAIN credentials. @default none: no SASL (a local broker) */
  readonly credentialsSecretId?: string;
  /** TLS to the brokers. */
  readonly ssl: boolean;
  readonly compression: KafkaCompression;
  /** Upper bound of one produce request's record bytes. */
  readonly maxRequestBytes: number;
  /** URL of the queue invalid records are parked in (the ingest dead-letter queue). */
  readonly deadLetterQueueUrl: string;
  /** Largest accepted envelope in UTF-8 bytes. */
  readonly maxMessageBytes: number;
}

export function forwarderEnvironment(values: ForwarderEnvironmentValues): Record<string, string> {
  const variables: EnvironmentVariables<typeof ForwarderEnvironmentSchema> = {
    KAFKA_BROKERS: values.brokers.join(','),
    KAFKA_TOPIC: values.topic,
    KAFKA_CLIENT_ID: values.clientId,
    KAFKA_CREDENTIALS_SECRET_ID: values.credentialsSecretId,
    KAFKA_SSL: String(values.ssl),
    KAFKA_COMPRESSION: values.compression,
    KAFKA_MAX_REQUEST_BYTES: String(values.maxRequestBytes),
    DLQ_URL: values.deadLetterQueueUrl,
    MAX_MESSAGE_BYTES: String(values.maxMessageBytes),
  };
  return defined(variables);
}

// --- the sink -------------------------------------------------------------------------------------------------

/** A MongoDB database name MongoDB accepts. */
export const MONGODB_DATABASE_PATTERN = /^[^/\\. "$*<>:|?]{1,63}$/;

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
      .regex(MONGODB_DATABASE_PATTERN, 'expected a MongoDB database name')
      .default(ENVIRONMENT_DEFAULTS.mongoDatabase),
    MONGODB_MAX_POOL_SIZE: envInt(1, 100).default(ENVIRONMENT_DEFAULTS.mongoMaxPoolSize),
    MONGODB_TIME_SERIES: envBool.default(false),
    MAX_MESSAGE_BYTES: maxMessageBytes,
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

export interface SinkEnvironmentValues {
  /** Id (ARN) of the secret `{"uri": "…"}` (AWS). @default none: `mongoUri` instead */
  readonly mongoUriSecretId?: string;
  /**
   * The connection string itself (local runs). @default none: `mongoUriSecretId` instead (a local run on the
   * in-memory store sets neither: its entry supplies one)
   */
  readonly mongoUri?: string;
  readonly database: string;
  /** Connections per container and per replica-set member. */
  readonly maxPoolSize: number;
  /** Store readings in a time-series collection. */
  readonly timeSeries: boolean;
  /** Largest accepted envelope in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** Whether the event source honours partial batch responses (provisioned mode). */
  readonly partialBatchResponse: boolean;
}

export function sinkEnvironment(values: SinkEnvironmentValues): Record<string, string> {
  const variables: EnvironmentVariables<typeof SinkEnvironmentSchema> = {
    MONGODB_URI_SECRET_ID: values.mongoUriSecretId,
    MONGODB_URI: values.mongoUri,
    MONGODB_DATABASE: values.database,
    MONGODB_MAX_POOL_SIZE: String(values.maxPoolSize),
    MONGODB_TIME_SERIES: String(values.timeSeries),
    MAX_MESSAGE_BYTES: String(values.maxMessageBytes),
    PARTIAL_BATCH_RESPONSE: String(values.partialBatchResponse),
  };
  return defined(variables);
}

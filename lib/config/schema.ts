/**
 * The deployment configuration: one JSON file per environment (`config/<env>.json`), validated at synth time.
 * Every field is documented in the README's configuration reference; defaults live here and nowhere else.
 */
import { z } from 'zod';

/** Good values shown next to a bad one in validation errors, keyed by field path (array indices as `[]`). */
export const CONFIG_EXAMPLES: Readonly<Record<string, string>> = {
  stackName: '"TelemetryPipeline-dev"',
  account: '"123456789012"',
  region: '"eu-west-1"',
  'iot.topicFilters[]': '"sensors/+/telemetry"',
  'iot.ruleNamePrefix': '"telemetry_dev"',
  'kafka.bootstrapServers[]': '"pkc-12abc.eu-west-1.aws.confluent.cloud:9092"',
  'kafka.bootstrapServers': '["pkc-12abc.eu-west-1.aws.confluent.cloud:9092"]',
  'kafka.topic': '"telemetry.readings.v1"',
  'kafka.credentialsSecretArn': '"arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent/telemetry-AbCdEf"',
  'kafka.credentialsSecretName': '"confluent/telemetry"',
  'kafka.compression': '"none" or "gzip"',
  'kafka.maxRequestBytes': '1000000',
  'ingest.maxReceiveCount': '5',
  'ingest.retentionPeriodDays': '4',
  'forwarder.batchSize': '100',
  'forwarder.maxBatchingWindowSeconds': '1',
  'forwarder.memorySize': '512',
  'forwarder.timeoutSeconds': '30',
  'forwarder.maxConcurrency': '10',
  'limits.maxMessageBytes': '16384',
  logRetentionDays: '30',
  'alarms.email': '"oncall@example.com"',
  'alarms.maxIngestAgeSeconds': '300',
};

/** CloudWatch Logs' accepted retention periods, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const topicFilter = z
  .string()
  .refine((filter) => !filter.startsWith('$') && !filter.startsWith('/') && !filter.endsWith('/'), {
    message: 'must not start with "$" or "/" nor end with "/"',
  })
  .refine((filter) => filter.split('/').filter((level) => level === '+').length === 1 && !filter.includes('#'), {
    message: 'must contain exactly one "+" level (the device id) and no "#"',
  })
  .refine((filter) => filter.split('/').every((level) => level === '+' || /^[A-Za-z0-9_-]+$/.test(level)), {
    message: 'levels other than "+" may only use letters, digits, "_" and "-"',
  });

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port');

export const PipelineConfigSchema = z
  .strictObject({
    /** CloudFormation stack name; also prefixes resource names. */
    stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,99}$/, 'letters, digits and "-", starting with a letter'),
    /** Deploy-time account; omit for an environment-agnostic template. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
      .optional(),
    /** Deploy-time region; omit for an environment-agnostic template. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'expected an AWS region name')
      .optional(),
    iot: z
      .strictObject({
        /** MQTT topic filters routed into the pipeline, one IoT rule each; the single "+" is the device id. */
        topicFilters: z.array(topicFilter).min(1).max(20).default(['sensors/+/telemetry']),
        /** IoT rule names are `<prefix>_<n>`; letters, digits and "_" only. @default stackName with "-" → "_" */
        ruleNamePrefix: z
          .string()
          .regex(/^[A-Za-z0-9_]{1,90}$/, 'letters, digits and "_" only')
          .optional(),
      })
      .default({ topicFilters: ['sensors/+/telemetry'] }),
    kafka: z
      .strictObject({
        bootstrapServers: z.array(hostPort).min(1),
        topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name ([A-Za-z0-9._-], 1–249)'),
        /** Complete ARN of an existing secret `{"username","password"}`; exclusive with credentialsSecretName. */
        credentialsSecretArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
            'expected a complete secret ARN (ending in -XXXXXX)',
          )
          .optional(),
        /** Name of an existing secret; exclusive with credentialsSecretArn. Neither: the stack creates one. */
        credentialsSecretName: z
          .string()
          .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'expected a secret name')
          .optional(),
        compression: z.enum(['none', 'gzip']).default('none'),
        /** Upper bound of one produce request's record bytes; keep below the topic's max.message.bytes. */
        maxRequestBytes: z.number().int().min(1_024).max(8_388_608).default(1_000_000),
      })
      .refine((kafka) => !(kafka.credentialsSecretArn && kafka.credentialsSecretName), {
        message: 'set credentialsSecretArn or credentialsSecretName, not both',
        path: ['credentialsSecretName'],
      }),
    ingest: z
      .strictObject({
        /** Deliveries before SQS moves a message to the dead-letter queue. */
        maxReceiveCount: z.number().int().min(1).max(1_000).default(5),
        /** How long the ingest queue keeps an undelivered message. */
        retentionPeriodDays: z.number().int().min(1).max(14).default(4),
      })
      .default({ maxReceiveCount: 5, retentionPeriodDays: 4 }),
    forwarder: z
      .strictObject({
        batchSize: z.number().int().min(1).max(10_000).default(100),
        maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(1),
        memorySize: z.number().int().min(128).max(10_240).default(512),
        timeoutSeconds: z.number().int().min(3).max(900).default(30),
        /** Upper bound of concurrent forwarder invocations the SQS event source starts (2–1000). */
        maxConcurrency: z.number().int().min(2).max(1_000).default(10),
      })
      .refine((f) => f.batchSize <= 10 || f.maxBatchingWindowSeconds >= 1, {
        message: 'a batchSize above 10 needs maxBatchingWindowSeconds of at least 1 (an SQS event source rule)',
        path: ['maxBatchingWindowSeconds'],
      })
      .default({
        batchSize: 100,
        maxBatchingWindowSeconds: 1,
        memorySize: 512,
        timeoutSeconds: 30,
        maxConcurrency: 10,
      }),
    limits: z
      .strictObject({
        /** Largest accepted envelope (device payload plus enrichment), UTF-8 bytes; IoT Core caps payloads at 128 KiB. */
        maxMessageBytes: z.number().int().min(256).max(131_072).default(16_384),
      })
      .default({ maxMessageBytes: 16_384 }),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    alarms: z
      .strictObject({
        /** Subscribed to the alarm topic when set (the address must confirm the subscription). */
        email: z.email().optional(),
        /** Alarm when the oldest ingest-queue message is older than this. */
        maxIngestAgeSeconds: z.number().int().min(60).max(86_400).default(300),
      })
      .default({ maxIngestAgeSeconds: 300 }),
  })
  .refine((config) => !(config.account === undefined) === !(config.region === undefined), {
    message: 'set both account and region, or neither (environment-agnostic)',
    path: ['region'],
  });

export type PipelineConfig = z.output<typeof PipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

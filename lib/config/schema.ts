/**
 * The deployment configuration: one JSON file per environment (`config/<env>.json`), validated at synth time.
 * Every field is documented in the README's configuration reference; defaults live here and nowhere else.
 */
import { z } from 'zod';
import { ENVIRONMENT_DEFAULTS, KAFKA_COMPRESSIONS, MONGODB_DATABASE_PATTERN } from '../../contracts/environment';
import {
  consumerVisibilityTimeoutSeconds,
  DEFAULT_MAX_MESSAGE_BYTES,
  IOT_MAX_PAYLOAD_BYTES,
  KAFKA_TOPIC_MAX_LENGTH,
  KAFKA_TOPIC_PATTERN,
} from '../../contracts/limits';
import { ALARM_THRESHOLD_RANGES, type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS } from '../monitor/thresholds';

/** CloudWatch Logs' accepted retention periods, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * "AWS IoT Core message broker and protocol limits and quotas" (https://docs.aws.amazon.com/general/latest/gr/iot-core.html):
 * a topic is at most 256 bytes with at most 7 forward slashes (Basic Ingest's `$aws/rules/<rule>/` prefix excluded).
 */
const topicFilter = z
  .string()
  // Bytes, not zod's .max() (which counts code points): "é" is one code point but two UTF-8 bytes
  .refine((filter) => Buffer.byteLength(filter, 'utf8') <= 256, {
    message: 'must be at most 256 bytes in UTF-8 (IoT topic size limit)',
  })
  .refine((filter) => filter.split('/').length <= 8, { message: 'must have at most 7 "/" (IoT topic limit)' })
  .refine((filter) => !filter.startsWith('$') && !filter.startsWith('/') && !filter.endsWith('/'), {
    message: 'must not start with "$" or "/" nor end with "/"',
  })
  .refine((filter) => filter.split('/').filter((level) => level === '+').length === 1 && !filter.includes('#'), {
    message: 'must contain exactly one "+" level (the device id) and no "#"',
  })
  .refine((filter) => filter.split('/').every((level) => level === '+' || /^[A-Za-z0-9_-]+$/.test(level)), {
    message: 'levels other than "+" may only use letters, digits, "_" and "-"',
  });

/** A complete Secrets Manager ARN, with the six-character suffix IAM grants need. */
const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
    'expected a complete secret ARN (ending in a dash and six random characters, e.g. -AbCdEf)',
  );
const secretName = z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'expected a secret name');
/**
 * A KMS key ARN (single- or multi-Region key). IAM authorizes KMS calls on the key ARN, not on an alias ("Using
 * aliases to control access to KMS keys", https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
 */
const kmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias',
  );
const secretKeyMeta = (secret: string) => ({
  description: `ARN of the customer-managed KMS key that encrypts the imported ${secret} secret; its functions get kms:Decrypt through Secrets Manager only. Omit for the AWS-managed key.`,
  examples: ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
});

/** An alarm threshold, with its range and default from the one table of them (`lib/monitor/thresholds.ts`). */
function threshold(field: keyof AlarmThresholds) {
  const { min, max, integer, default: byDefault } = ALARM_THRESHOLD_RANGES[field];
  return (integer ? z.number().int() : z.number()).min(min).max(max).default(byDefault);
}
/**
 * How long an event source gathers a batch, in seconds: "any value from 0 seconds to 300 seconds", for SQS and Kafka
 * sources alike (MaximumBatchingWindowInSeconds, "CreateEventSourceMapping", AWS Lambda API Reference,
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
 */
const batchingWindowSeconds = z.number().int().min(0).max(300).default(1);

/** A Kafka topic name both Lambda's event source API and Kafka accept (lib/core/validation.ts cites both rules). */
const kafkaTopic = z
  .string()
  .max(KAFKA_TOPIC_MAX_LENGTH, `at most ${KAFKA_TOPIC_MAX_LENGTH} characters (Lambda's limit for a Kafka topic)`)
  .regex(
    KAFKA_TOPIC_PATTERN,
    'expected a Kafka topic name Lambda and Kafka accept: [a-zA-Z0-9._-], at least 2 characters, not starting with "."',
  );

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port');

export const PipelineConfigSchema = z
  .strictObject({
    /** CloudFormation stack name; also prefixes resource names. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,99}$/, 'letters, digits and "-", starting with a letter')
      .meta({
        description: 'CloudFormation stack name; also the default IoT rule prefix and Kafka client id prefix.',
        examples: ['TelemetryPipeline-dev'],
      }),
    /** Deploy-time account; omit for an environment-agnostic template. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
      .optional()
      .meta({
        description: 'Deploy-time AWS account; set it with region, or neither for an environment-agnostic template.',
        examples: ['123456789012'],
      }),
    /** Deploy-time region; omit for an environment-agnostic template. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'expected an AWS region name')
      .optional()
      .meta({ description: 'Deploy-time AWS region; set it with account, or neither.', examples: ['eu-west-1'] }),
    iot: z
      .strictObject({
        /** MQTT topic filters routed into the pipeline, one IoT rule each; the single "+" is the device id. */
        topicFilters: z
          .array(topicFilter)
          .min(1)
          .max(20)
          .default(['sensors/+/telemetry'])
          .meta({
            description:
              'MQTT topic filters routed into the pipeline, one IoT rule each: exactly one `+` level (the device id), no `#`, at most 256 bytes (UTF-8) and 7 `/`; the device permissions are split over as many 2,048-character IoT policies as needed, at most the 10 a certificate holds (synth says when more would be needed).',
            examples: [['sensors/+/telemetry']],
          }),
        /** IoT rule names are `<prefix>_<n>`; letters, digits and "_" only. @default stackName with "-" → "_" */
        ruleNamePrefix: z
          .string()
          .regex(/^[A-Za-z0-9_]{1,90}$/, 'letters, digits and "_" only')
          .optional()
          .meta({
            description: 'IoT rules are named `<prefix>_<n>`; unset: `stackName` with `-` replaced by `_`.',
            examples: ['telemetry_dev'],
          }),
      })
      .prefault({}),
    kafka: z
      .strictObject({
        bootstrapServers: z
          .array(hostPort)
          .min(1)
          .meta({
            description: "The Kafka cluster's bootstrap endpoints, `host:port`.",
            examples: [['pkc-12abc.eu-west-1.aws.confluent.cloud:9092']],
          }),
        topic: kafkaTopic.meta({
          description:
            "The existing Kafka topic the forwarder produces to and the sink reads; a name Lambda's event source accepts (`[a-zA-Z0-9._-]`, 2–249 characters, not starting with `.`).",
          examples: ['telemetry.readings.v1'],
        }),
        /** Complete ARN of an existing secret `{"username","password"}`; exclusive with credentialsSecretName. */
        credentialsSecretArn: secretArn.optional().meta({
          description:
            'Complete ARN of an existing secret `{"username","password"}`; exclusive with `credentialsSecretName`.',
          examples: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent/telemetry-AbCdEf'],
        }),
        /** Name of an existing secret; exclusive with credentialsSecretArn. Neither: the stack creates one. */
        credentialsSecretName: secretName.optional().meta({
          description: 'Name of an existing secret of that shape; with neither set, the stack creates an empty one.',
          examples: ['confluent/telemetry'],
        }),
        credentialsSecretKmsKeyArn: kmsKeyArn.optional().meta(secretKeyMeta('Confluent credentials')),
        compression: z
          .enum(KAFKA_COMPRESSIONS)
          .default('none')
          .meta({
            description: 'Produce compression, one of the codecs kafkajs has built in (see the forwarder benchmark).',
            examples: ['none', 'gzip'],
          }),
        /** The topic's partition count: Lambda runs at most one sink invocation per partition at a time. */
        partitions: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(6)
          .meta({
            description:
              'The topic\'s partition count: Lambda runs at most one sink invocation per partition at a time (see "Sizing connections").',
            examples: [6],
          }),
        /** Upper bound of one produce request's record bytes; keep below the topic's max.message.bytes. */
        maxRequestBytes: z
          .number()
          .int()
          .min(1_024)
          .max(8_388_608)
          .default(ENVIRONMENT_DEFAULTS.kafkaMaxRequestBytes)
          .meta({
            description:
              "Upper bound of the record bytes in one produce request; keep it below the topic's `max.message.bytes`.",
            examples: [1000000],
          }),
      })
      .refine((kafka) => !(kafka.credentialsSecretArn && kafka.credentialsSecretName), {
        message: 'set credentialsSecretArn or credentialsSecretName, not both',
        path: ['credentialsSecretName'],
      })
      .refine(
        (kafka) => !kafka.credentialsSecretKmsKeyArn || kafka.credentialsSecretArn || kafka.credentialsSecretName,
        {
          message:
            'only for an imported secret (set credentialsSecretArn or credentialsSecretName); a created secret uses the AWS-managed key',
          path: ['credentialsSecretKmsKeyArn'],
        },
      ),
    ingest: z
      .strictObject({
        /** Deliveries before SQS moves a message to the dead-letter queue. */
        maxReceiveCount: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(5)
          .meta({ description: 'Deliveries before SQS moves a message to the dead-letter queue.', examples: [5] }),
        /** How long the ingest queue keeps an undelivered message. */
        retentionPeriodDays: z
          .number()
          .int()
          .min(1)
          .max(14)
          .default(4)
          .meta({ description: 'How long the ingest queue keeps an undelivered message, in days.', examples: [4] }),
      })
      .prefault({}),
    forwarder: z
      .strictObject({
        batchSize: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(100)
          .meta({ description: 'Records per forwarder invocation.', examples: [100] }),
        maxBatchingWindowSeconds: batchingWindowSeconds.meta({
          description: 'How long SQS gathers a batch, in seconds; at least 1 when `batchSize` is above 10.',
          examples: [1],
        }),
        memorySize: z
          .number()
          .int()
          .min(128)
          .max(10_240)
          .default(512)
          .meta({ description: "The forwarder's memory, in MB.", examples: [512] }),
        timeoutSeconds: z
          .number()
          .int()
          .min(3)
          .max(900)
          .default(30)
          .meta({
            description:
              "The forwarder's timeout, in seconds; the ingest queue's visibility timeout is 6 × this + the batching window.",
            examples: [30],
          }),
        /** Upper bound of concurrent forwarder invocations the SQS event source starts (2–1000). */
        maxConcurrency: z
          .number()
          .int()
          .min(2)
          .max(1_000)
          .default(10)
          .meta({
            description: 'Maximum concurrency of the SQS event source (not reserved concurrency).',
            examples: [10],
          }),
      })
      .refine((f) => f.batchSize <= 10 || f.maxBatchingWindowSeconds >= 1, {
        message: 'a batchSize above 10 needs maxBatchingWindowSeconds of at least 1 (an SQS event source rule)',
        path: ['maxBatchingWindowSeconds'],
      })
      .prefault({}),
    sink: z
      .strictObject({
        /** Kafka consumer group of the sink's event source mapping. @default `<stackName>-sink` */
        consumerGroupId: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ".", "_" and "-"')
          .optional()
          .meta({
            description: "Kafka consumer group of the sink's event source mapping; unset: `<stackName>-sink`.",
            examples: ['telemetry-sink-dev'],
          }),
        /** Kafka topic (same cluster) that receives batches the sink gave up on. @default `<kafka.topic>.sink-dlt` */
        deadLetterTopic: kafkaTopic.optional().meta({
          description:
            'Kafka topic (same cluster) that receives the batches the sink gave up on (provisioned mode); unset: `<kafka.topic>.sink-dlt`.',
          examples: ['telemetry.readings.v1.sink-dlt'],
        }),
        batchSize: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(500)
          .meta({ description: 'Records per sink invocation.', examples: [500] }),
        maxBatchingWindowSeconds: batchingWindowSeconds.meta({
          description: 'How long the Kafka event source gathers a batch, in seconds.',
          examples: [1],
        }),
        memorySize: z
          .number()
          .int()
          .min(128)
          .max(10_240)
          .default(1_024)
          .meta({ description: "The sink's memory, in MB.", examples: [1024] }),
        timeoutSeconds: z
          .number()
          .int()
          .min(3)
          .max(900)
          .default(60)
          .meta({ description: "The sink's timeout, in seconds.", examples: [60] }),
        /** Retries of a failed batch before it goes to the dead-letter topic (provisioned mode). */
        retryAttempts: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(10)
          .meta({
            description: 'Retries of a failed batch before it goes to the dead-letter topic (provisioned mode).',
            examples: [10],
          }),
        /** Records older than this go to the dead-letter topic unprocessed (provisioned mode). */
        maxRecordAgeSeconds: z
          .number()
          .int()
          .min(60)
          .max(604_800)
          .default(86_400)
          .meta({
            description:
              'Records older than this, in seconds, go to the dead-letter topic unprocessed (provisioned mode).',
            examples: [86400],
          }),
        /** Provisioned pollers (needed for bounded retries, partial batch responses and the destination), or null. */
        provisionedPollers: z
          .strictObject({
            minimum: z
              .number()
              .int()
              .min(1)
              .max(200)
              .meta({ description: 'Event pollers kept running.', examples: [1] }),
            maximum: z
              .number()
              .int()
              .min(1)
              .max(2_000)
              .meta({ description: 'Event pollers Lambda may scale up to.', examples: [3] }),
          })
          .refine((p) => p.minimum <= p.maximum, { message: 'minimum must not exceed maximum', path: ['minimum'] })
          .nullable()
          .default({ minimum: 1, maximum: 3 })
          .meta({
            description:
              'Provisioned event pollers, needed for bounded retries, partial batch responses and the dead-letter topic; `null`: on demand (see "Kafka event source: provisioned mode").',
            examples: [{ minimum: 1, maximum: 3 }, null],
          }),
        mongo: z
          .strictObject({
            /** Complete ARN of a secret `{"uri": "mongodb+srv://…"}`; exclusive with uriSecretName. Neither: created. */
            uriSecretArn: secretArn.optional().meta({
              description:
                'Complete ARN of an existing secret `{"uri": "mongodb+srv://…"}`; exclusive with `uriSecretName`.',
              examples: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas/telemetry-AbCdEf'],
            }),
            uriSecretName: secretName.optional().meta({
              description:
                'Name of an existing secret of that shape; with neither set, the stack creates an empty one.',
              examples: ['atlas/telemetry'],
            }),
            uriSecretKmsKeyArn: kmsKeyArn.optional().meta(secretKeyMeta('MongoDB URI')),
            database: z
              .string()
              .regex(MONGODB_DATABASE_PATTERN, 'expected a MongoDB database name')
              .default(ENVIRONMENT_DEFAULTS.mongoDatabase)
              .meta({
                description: 'MongoDB database of the readings, devices and quarantine collections.',
                examples: ['telemetry'],
              }),
            /** Connections per sink container and per replica-set member. */
            maxPoolSize: z
              .number()
              .int()
              .min(1)
              .max(100)
              .default(ENVIRONMENT_DEFAULTS.mongoMaxPoolSize)
              .meta({ description: 'Connections per sink container and per replica-set member.', examples: [2] }),
            replicaSetMembers: z
              .number()
              .int()
              .min(1)
              .max(50)
              .default(3)
              .meta({
                description: "Members of the cluster's replica set (each gets a pool and two monitoring connections).",
                examples: [3],
              }),
            /** The cluster tier's connection limit (Atlas M10: 1,500; M0/Flex: 500). */
            connectionLimit: z
              .number()
              .int()
              .min(10)
              .max(1_000_000)
              .default(500)
              .meta({
                description:
                  "The cluster tier's connection limit (Atlas M0/Flex 500, M10 1,500, M20 and up 3,000); synth refuses a configuration that could use more than 80% of it.",
                examples: [500],
              }),
            /** Store readings in a time-series collection (see README for the idempotency trade-off). */
            timeSeries: z
              .boolean()
              .default(false)
              .meta({
                description:
                  'Store readings in a time-series collection (see "Time-series option" for the idempotency trade-off).',
                examples: [false],
              }),
          })
          .refine((m) => !(m.uriSecretArn && m.uriSecretName), {
            message: 'set uriSecretArn or uriSecretName, not both',
            path: ['uriSecretName'],
          })
          .refine((m) => !m.uriSecretKmsKeyArn || m.uriSecretArn || m.uriSecretName, {
            message:
              'only for an imported secret (set uriSecretArn or uriSecretName); a created secret uses the AWS-managed key',
            path: ['uriSecretKmsKeyArn'],
          })
          .prefault({}),
        /** Run the sink in these subnets (NAT with a fixed IP for the Atlas access list, or PrivateLink/peering). */
        network: z
          .strictObject({
            vpcId: z
              .string()
              .regex(/^vpc-[0-9a-f]{8,17}$/, 'expected a VPC id')
              .meta({ description: 'The VPC of the subnets.', examples: ['vpc-0123456789abcdef0'] }),
            availabilityZones: z
              .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'expected an AZ name'))
              .min(1)
              .meta({ description: "The subnets' availability zones.", examples: [['eu-west-1a']] }),
            subnetIds: z
              .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id'))
              .min(1)
              .meta({ description: 'The private subnets the sink runs in.', examples: [['subnet-0123456789abcdef0']] }),
            securityGroupIds: z
              .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id'))
              .min(1)
              .meta({
                description: "Security groups of the sink's network interfaces.",
                examples: [['sg-0123456789abcdef0']],
              }),
          })
          .optional()
          .meta({
            description:
              'Run the sink in these subnets (a NAT gateway with a fixed IP for the Atlas access list, or PrivateLink/peering); unset: no VPC (see "Atlas networking").',
          }),
      })
      .prefault({}),
    limits: z
      .strictObject({
        /** Largest accepted envelope (device payload plus enrichment), UTF-8 bytes; IoT Core caps payloads at 128 KiB. */
        maxMessageBytes: z
          .number()
          .int()
          .min(256)
          .max(IOT_MAX_PAYLOAD_BYTES)
          .default(DEFAULT_MAX_MESSAGE_BYTES)
          .meta({
            description:
              'Largest accepted envelope (device payload plus enrichment), in UTF-8 bytes; IoT Core caps payloads at 128 KiB.',
            examples: [DEFAULT_MAX_MESSAGE_BYTES],
          }),
      })
      .prefault({}),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30)
      .meta({
        description:
          "CloudWatch Logs retention of the functions' log groups, in days: one of the periods CloudWatch offers.",
        examples: [30],
      }),
    /** Alarm e-mail and thresholds (README, "Alarms and runbook"); defaults in `lib/monitor/thresholds.ts`. */
    alarms: z
      .strictObject({
        /** Subscribed to the alarm topic when set (the address must confirm the subscription). */
        email: z
          .email()
          .optional()
          .meta({
            description:
              'E-mail address subscribed to the alarm topic (it must confirm the subscription); unset: no subscription.',
            examples: ['oncall@example.com'],
          }),
        /** Alarm when the oldest ingest-queue message is older than this for 3 minutes. */
        maxIngestAgeSeconds: threshold('maxIngestAgeSeconds').meta({
          description: '`IngestAgeHigh`: age of the oldest ingest-queue message, in seconds, 3 minutes in a row.',
          examples: [300],
        }),
        /** Alarm when the ingest dead-letter queue holds more messages than this. */
        maxDeadLetterMessages: threshold('maxDeadLetterMessages').meta({
          description: '`DeadLetterQueueNotEmpty`: messages tolerated in the dead-letter queue.',
          examples: [0],
        }),
        /** Alarm when the IoT rule error queue holds more messages than this. */
        maxErrorQueueMessages: threshold('maxErrorQueueMessages').meta({
          description: '`ErrorQueueNotEmpty`: messages tolerated in the IoT rule error queue.',
          examples: [0],
        }),
        /** Alarm when a rule's SQS action fails more often than this in 5 minutes. */
        maxRuleActionFailures: threshold('maxRuleActionFailures').meta({
          description: '`RuleActionFailures-<rule>`: failed SQS actions per rule in 5 minutes.',
          examples: [0],
        }),
        /** Alarm when the sink's consumer group is more records than this behind the topic for 5 minutes. */
        maxOffsetLag: threshold('maxOffsetLag').meta({
          description:
            "`OffsetLagHigh`: records the sink's consumer group may be behind the topic, 5 minutes in a row.",
          examples: [10000],
        }),
        /** Alarm when the p99 of IoT receive → stored exceeds this. */
        maxFreshnessP99Seconds: threshold('maxFreshnessP99Seconds').meta({
          description: '`FreshnessP99High`: p99 of IoT receive → stored in MongoDB, in seconds.',
          examples: [120],
        }),
        /** Alarm when more than this share of forwarder invocations fails. */
        maxForwarderErrorRatePercent: threshold('maxForwarderErrorRatePercent').meta({
          description: '`ForwarderErrorRate`: failed invocations, % of invocations.',
          examples: [1],
        }),
        /** Alarm when more than this share of sink invocations fails. */
        maxSinkErrorRatePercent: threshold('maxSinkErrorRatePercent').meta({
          description: '`SinkErrorRate`: failed invocations, % of invocations.',
          examples: [1],
        }),
        /** Alarm when more than this share of records is not acknowledged by Kafka or not stored in MongoDB. */
        maxRecordsFailedPercent: threshold('maxRecordsFailedPercent').meta({
          description:
            '`ForwarderRecordsFailed`, `SinkRecordsFailed`: records not acknowledged / not stored, % of records.',
          examples: [5],
        }),
      })
      .default({ ...DEFAULT_ALARM_THRESHOLDS }),
  })
  .refine((config) => !(config.account === undefined) === !(config.region === undefined), {
    message: 'set both account and region, or neither (environment-agnostic)',
    path: ['region'],
  })
  .refine((config) => sinkConnections(config) <= config.sink.mongo.connectionLimit * CONNECTION_HEADROOM, {
    message:
      'the sink could open more MongoDB connections than the cluster allows: kafka.partitions × replicaSetMembers × (maxPoolSize + 2) must stay within 80% of connectionLimit (README, "Sizing connections")',
    path: ['sink', 'mongo', 'maxPoolSize'],
  })
  // Values derived from other fields, resolved here once: the stack, the CLI and the local tools read these, so no
  // reader derives one again and `PipelineConfig` has no optional derived field. A transform, since each depends on
  // another field; the configuration reference reads the schema's input side, which the transform leaves alone.
  .transform((config) => ({
    ...config,
    iot: { ...config.iot, ruleNamePrefix: config.iot.ruleNamePrefix ?? config.stackName.replaceAll('-', '_') },
    ingest: {
      ...config.ingest,
      /** The ingest queue's: six times the forwarder's timeout plus its batching window (`TelemetryIngest`). */
      visibilityTimeoutSeconds: consumerVisibilityTimeoutSeconds(
        config.forwarder.timeoutSeconds,
        config.forwarder.maxBatchingWindowSeconds,
      ),
    },
    forwarder: {
      ...config.forwarder,
      /** The forwarder's Kafka client id, visible in broker logs and Confluent metrics. */
      kafkaClientId: `${config.stackName}-forwarder`,
    },
    sink: {
      ...config.sink,
      consumerGroupId: config.sink.consumerGroupId ?? `${config.stackName}-sink`,
      deadLetterTopic: config.sink.deadLetterTopic ?? `${config.kafka.topic}.sink-dlt`,
    },
  }));

/** Share of the cluster's connection limit the sink may use; the rest is for other clients and tools. */
export const CONNECTION_HEADROOM = 0.8;

/**
 * The most connections the sink can hold: one container per partition at most (Lambda invokes a Kafka event source
 * one batch per partition at a time), each with a pool of `maxPoolSize` plus two monitoring connections per member.
 */
export function sinkConnections(config: {
  kafka: { partitions: number };
  sink: { mongo: { maxPoolSize: number; replicaSetMembers: number } };
}): number {
  return config.kafka.partitions * config.sink.mongo.replicaSetMembers * (config.sink.mongo.maxPoolSize + 2);
}

/**
 * A validated configuration: every default filled, every derived value (rule name prefix, visibility timeout, Kafka
 * client id, consumer group, dead-letter topic) resolved.
 */
export type PipelineConfig = z.output<typeof PipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

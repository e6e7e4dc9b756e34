/**
 * What the stack would configure, derived from the same configuration file, for the pipeline on one machine: rule
 * names and topic filters, queue and event source settings, and the functions' environments. Each value follows
 * `lib/telemetry-pipeline-stack.ts` and the construct it names.
 */
import {
  forwarderEnvironment as forwarderVariables,
  functionEnvironment,
  sinkEnvironment as sinkVariables,
} from '../../contracts/environment';
import { UserError } from '../../contracts/errors';
import { METRICS_NAMESPACE, ServiceName } from '../../contracts/metrics';
import type { PipelineConfig } from '../../lib/config/schema';
import { deviceSegment, deviceTopic } from '../../lib/ingest/rule-sql';
import { SDK_NODE_WARNING_SWITCH } from '../../ops/node-support';

/** One IoT topic rule (`TelemetryIngest`): `<ruleNamePrefix>_<n>` over the n-th topic filter. */
export interface LocalRule {
  readonly name: string;
  readonly topicFilter: string;
  /** 1-based topic level of the device id. */
  readonly deviceSegment: number;
  /** Where a device publishes, with `<deviceId>` for its id. */
  readonly deviceTopic: string;
  /** The same through Basic Ingest. */
  readonly basicIngestTopic: string;
}

export interface LocalSettings {
  readonly stackName: string;
  readonly rules: readonly LocalRule[];
  readonly topic: string;
  readonly partitions: number;
  readonly ingest: {
    /** `TelemetryIngest`'s, resolved by the config schema (`ingest.visibilityTimeoutSeconds`). */
    readonly visibilityTimeoutMs: number;
    readonly maxReceiveCount: number;
  };
  /** The forwarder and its SQS event source (`KafkaForwarder`). */
  readonly forwarder: {
    readonly batchSize: number;
    readonly batchingWindowMs: number;
    readonly timeoutMs: number;
    readonly maxConcurrency: number;
  };
  /** The sink and its Kafka event source (`MongoSink`). */
  readonly sink: {
    readonly consumerGroupId: string;
    readonly batchSize: number;
    readonly batchingWindowMs: number;
    readonly timeoutMs: number;
    /** Provisioned mode: bounded retries, partial batch responses and the dead-letter topic; on demand: none. */
    readonly provisioned: boolean;
    /** Retries after the first invocation; Infinity on demand. */
    readonly retryAttempts: number;
    /** Records older than this go to the dead-letter topic unprocessed; Infinity on demand. */
    readonly maxRecordAgeMs: number;
    /** Undefined on demand (no on-failure destination). */
    readonly deadLetterTopic: string | undefined;
  };
  readonly maxMessageBytes: number;
}

export function localSettings(config: PipelineConfig): LocalSettings {
  const prefix = config.iot.ruleNamePrefix;
  const { forwarder, sink } = config;
  const provisioned = sink.provisionedPollers !== null;
  return {
    stackName: config.stackName,
    rules: config.iot.topicFilters.map((topicFilter, index) => {
      const name = `${prefix}_${index + 1}`;
      const topic = deviceTopic(topicFilter, '<deviceId>');
      return {
        name,
        topicFilter,
        deviceSegment: deviceSegment(topicFilter),
        deviceTopic: topic,
        basicIngestTopic: `$aws/rules/${name}/${topic}`,
      };
    }),
    topic: config.kafka.topic,
    partitions: config.kafka.partitions,
    ingest: {
      visibilityTimeoutMs: config.ingest.visibilityTimeoutSeconds * 1000,
      maxReceiveCount: config.ingest.maxReceiveCount,
    },
    forwarder: {
      batchSize: forwarder.batchSize,
      batchingWindowMs: forwarder.maxBatchingWindowSeconds * 1000,
      timeoutMs: forwarder.timeoutSeconds * 1000,
      maxConcurrency: forwarder.maxConcurrency,
    },
    sink: {
      consumerGroupId: sink.consumerGroupId,
      batchSize: sink.batchSize,
      batchingWindowMs: sink.maxBatchingWindowSeconds * 1000,
      timeoutMs: sink.timeoutSeconds * 1000,
      provisioned,
      retryAttempts: provisioned ? sink.retryAttempts : Number.POSITIVE_INFINITY,
      maxRecordAgeMs: provisioned ? sink.maxRecordAgeSeconds * 1000 : Number.POSITIVE_INFINITY,
      deadLetterTopic: provisioned ? sink.deadLetterTopic : undefined,
    },
    maxMessageBytes: config.limits.maxMessageBytes,
  };
}

/**
 * Lambda refuses an SQS event source whose queue's visibility timeout is below the function's timeout: a message
 * would come back, and be delivered again, while its first invocation may still run. The same here; `name` is what
 * the caller calls the setting.
 */
export function checkVisibilityTimeout(settings: LocalSettings, visibilityTimeoutMs: number, name: string): void {
  const timeoutMs = settings.forwarder.timeoutMs;
  if (visibilityTimeoutMs >= timeoutMs) return;
  const seconds = (ms: number) => `${ms / 1000} s`;
  throw new UserError(
    `${name}: the ingest queue's visibility timeout (${seconds(visibilityTimeoutMs)}) is shorter than the forwarder's timeout (forwarder.timeoutSeconds, ${seconds(timeoutMs)}); SQS would deliver a message again while its first invocation still runs, and Lambda refuses such an event source. Use ${seconds(timeoutMs)} or more (the stack sets ${seconds(settings.ingest.visibilityTimeoutMs)}).`,
  );
}

/** Local endpoints and choices the functions' environments depend on. */
export interface LocalEndpoints {
  readonly kafkaBrokers: readonly string[];
  /** The dead-letter queue's URL on the loopback SQS endpoint. */
  readonly deadLetterQueueUrl: string;
  /** The loopback SQS endpoint, for the bundled AWS SDK. */
  readonly sqsEndpoint: string;
  /** Undefined: the sink writes to the in-memory store (memory-sink-handler.ts), which needs no URI. */
  readonly mongoUri: string | undefined;
  /** Powertools log level of both functions (their logs go to stdout, as in Lambda). */
  readonly logLevel: string;
}

/**
 * What the stack gives every function (`PipelineFunction`) with this machine's log level and no EMF output, plus
 * the variables the AWS SDK reads, which Lambda's runtime would set. The same for both functions.
 */
function commonEnvironment(settings: LocalSettings, endpoints: LocalEndpoints, serviceName: ServiceName) {
  return {
    ...functionEnvironment({
      serviceName,
      metricsNamespace: METRICS_NAMESPACE,
      logLevel: endpoints.logLevel,
      // EMF lines would flood stdout once per invocation; there is no CloudWatch to read them here
      metricsDisabled: true,
      pipelineName: settings.stackName,
    }),
    // The forwarder's SQS client signs its requests; the loopback endpoint checks no signature, and these keep any
    // real credentials of the operator out of requests that never leave the machine.
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    // Lambda runs the stack's Node.js; the SDK's 8-line warning about this machine's would print once per worker
    // (the forwarder's, when its SQS client is first built), and a worker sees only these variables
    [SDK_NODE_WARNING_SWITCH]: 'true',
  };
}

/** The forwarder's environment as `KafkaForwarder` sets it, with local brokers (no secret: no SASL, no TLS). */
export function forwarderEnvironment(
  settings: LocalSettings,
  config: PipelineConfig,
  endpoints: LocalEndpoints,
): Record<string, string> {
  return {
    ...commonEnvironment(settings, endpoints, ServiceName.Forwarder),
    ...forwarderVariables({
      brokers: endpoints.kafkaBrokers,
      topic: settings.topic,
      clientId: config.forwarder.kafkaClientId,
      ssl: false,
      compression: config.kafka.compression,
      maxRequestBytes: config.kafka.maxRequestBytes,
      deadLetterQueueUrl: endpoints.deadLetterQueueUrl,
      maxMessageBytes: settings.maxMessageBytes,
    }),
  };
}

/** The sink's environment as `MongoSink` sets it, with `MONGODB_URI` instead of the secret. */
export function sinkEnvironment(
  settings: LocalSettings,
  config: PipelineConfig,
  endpoints: LocalEndpoints,
): Record<string, string> {
  const { mongo } = config.sink;
  return {
    ...commonEnvironment(settings, endpoints, ServiceName.Sink),
    ...sinkVariables({
      mongoUri: endpoints.mongoUri,
      database: mongo.database,
      maxPoolSize: mongo.maxPoolSize,
      timeSeries: mongo.timeSeries,
      maxMessageBytes: settings.maxMessageBytes,
      partialBatchResponse: settings.sink.provisioned,
    }),
  };
}

import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENVIRONMENT_DEFAULTS, forwarderEnvironment, type KafkaCompression } from '../../contracts/environment';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../contracts/limits';
import { METRICS_NAMESPACE, ServiceName } from '../../contracts/metrics';
import { PipelineFunction } from '../core/pipeline-function';
import { grantSecretRead, type SecretSource, userSecret } from '../core/secrets';
import {
  inRange,
  isResolved,
  KAFKA_CONNECTION_RULES,
  knownAtSynth,
  knownSeconds,
  type ValidationRule,
  validateProps,
} from '../core/validation';

/** Where the Confluent credentials come from (`create`: the stack creates an empty secret for you to fill). */
export type KafkaCredentialsSource = SecretSource;

/** Properties of a `KafkaForwarder`. */
export interface KafkaForwarderProps {
  /** The ingest queue to consume. */
  readonly queue: IQueue;
  /** Where invalid records are parked, with their reason (the ingest queue's DLQ). */
  readonly deadLetterQueue: IQueue;
  /** Kafka bootstrap servers, `host:port`. */
  readonly bootstrapServers: readonly string[];
  /** The topic the forwarder produces to. */
  readonly topic: string;
  /** SASL/PLAIN credentials in Secrets Manager, JSON `{"username": "<API key>", "password": "<API secret>"}`. */
  readonly credentials: KafkaCredentialsSource;
  /** Produce compression, one of the codecs kafkajs has built in. @default 'none' */
  readonly compression?: KafkaCompression;
  /** Upper bound of the record bytes in one produce request; keep it below the topic's `max.message.bytes`. @default 1_000_000 */
  readonly maxRequestBytes?: number;
  /** Largest accepted envelope in UTF-8 bytes. @default 16_384 */
  readonly maxMessageBytes?: number;
  /** Records per invocation (1–10,000). @default 100 */
  readonly batchSize?: number;
  /** How long SQS gathers records before invoking. @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** The function's memory, in MB. @default 512 */
  readonly memorySize?: number;
  /** The function's timeout; the ingest queue's visibility timeout must allow for it. @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Upper bound of concurrent invocations started by the SQS event source (2–1000). @default 10 */
  readonly maxConcurrency?: number;
  /** How long the function's log group keeps events. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Kafka client id, visible in broker logs and Confluent metrics. @default the function's construct id */
  readonly clientId?: string;
  /** CloudWatch namespace of the EMF metrics. @default 'TelemetryPipeline' */
  readonly metricsNamespace?: string;
}

/**
 * Stage 2, forward: a Lambda function that consumes the ingest queue and produces to Kafka (see
 * `lambdas/forward`). Partial batch responses, maximum concurrency on the event source (not reserved
 * concurrency, which would throttle and push messages toward the DLQ), credentials read from Secrets Manager at
 * run time (only the secret's id is in the environment).
 */
export class KafkaForwarder extends Construct {
  /** The forwarder function. */
  public readonly function: PipelineFunction;
  /** The Confluent Cloud API key secret the function reads at run time (imported, or created empty to fill). */
  public readonly credentialsSecret: ISecret;
  /** The SQS event source on the ingest queue (partial batch responses, maximum concurrency). */
  public readonly eventSource: SqsEventSource;
  /** The mapping the SQS event source created. */
  public readonly eventSourceMapping: EventSourceMapping;

  public constructor(scope: Construct, id: string, props: KafkaForwarderProps) {
    super(scope, id);
    validateProps(this, KafkaForwarder.name, props, KAFKA_FORWARDER_RULES);

    this.credentialsSecret = userSecret(this, 'Credentials', props.credentials, {
      description:
        'Confluent Cloud API key for the telemetry pipeline: {"username": "<API key>", "password": "<API secret>"}',
      fields: ['username', 'password'],
      rotation:
        'Confluent Cloud API keys are issued and rotated in Confluent Cloud, not by a Secrets Manager rotation Lambda: rotate by creating a new key there and updating this secret (README, "Rotating credentials").',
    });

    this.function = new PipelineFunction(this, 'Function', {
      entry: join(__dirname, '..', '..', 'lambdas', 'forward', 'handler.ts'),
      description: 'Forwards enriched telemetry from the ingest queue to Kafka',
      serviceName: ServiceName.Forwarder,
      metricsNamespace: props.metricsNamespace ?? METRICS_NAMESPACE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: forwarderEnvironment({
        brokers: props.bootstrapServers,
        topic: props.topic,
        clientId: props.clientId ?? id,
        credentialsSecretId: this.credentialsSecret.secretArn,
        ssl: true,
        compression: props.compression ?? 'none',
        maxRequestBytes: props.maxRequestBytes ?? ENVIRONMENT_DEFAULTS.kafkaMaxRequestBytes,
        deadLetterQueueUrl: props.deadLetterQueue.queueUrl,
        maxMessageBytes: props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      }),
    });
    grantSecretRead(this.credentialsSecret, this.function);
    props.deadLetterQueue.grantSendMessages(this.function);

    this.eventSource = new SqsEventSource(props.queue, {
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? 10,
    });
    this.eventSourceMapping = this.function.addEventSourceWithMapping(this.eventSource);

    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings support no on-failure destination (only stream and Kafka sources do). Records that keep failing move to the ingest DLQ through the queue redrive policy after maxReceiveCount deliveries.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by the SQS event source, never asynchronously: failed records return to the ingest queue and reach its DLQ through the redrive policy, invalid ones are sent there by the function.',
    });
  }
}

/**
 * What Lambda accepts on an SQS event source mapping (AWS Lambda API Reference, EventSourceMappingConfiguration,
 * https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html): BatchSize 1–10000, and
 * "When you set BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to at least 1";
 * ScalingConfig MaximumConcurrency 2–1000 (https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html).
 * The servers are joined into one environment variable, so the list itself must be known at synth time (a token per
 * server is fine).
 */
const KAFKA_FORWARDER_RULES: readonly ValidationRule<KafkaForwarderProps>[] = [
  knownAtSynth(
    'bootstrapServers',
    (props) => props.bootstrapServers,
    'joined into KAFKA_BROKERS; pass a list with a token per server instead',
  ),
  ...KAFKA_CONNECTION_RULES,
  inRange('batchSize', (props) => props.batchSize ?? 100, 1, 10_000),
  ({ batchSize = 100, maxBatchingWindow }) => {
    const window = knownSeconds(maxBatchingWindow);
    return isResolved(batchSize) && batchSize > 10 && window !== undefined && window < 1
      ? ['maxBatchingWindow: must be at least 1 second when batchSize is above 10']
      : [];
  },
  inRange('maxConcurrency', (props) => props.maxConcurrency ?? 10, 2, 1_000),
];

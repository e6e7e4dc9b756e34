import { join } from 'node:path';
import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type EventSourceMapping, MetricType, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { AuthenticationMethod, KafkaDlq, SelfManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENVIRONMENT_DEFAULTS, sinkEnvironment } from '../../contracts/environment';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../contracts/limits';
import { METRICS_NAMESPACE, ServiceName } from '../../contracts/metrics';
import { PipelineFunction } from '../core/pipeline-function';
import { grantSecretRead, type SecretSource, userSecret } from '../core/secrets';
import {
  inRange,
  isResolved,
  KAFKA_CONNECTION_RULES,
  kafkaTopic,
  knownAtSynth,
  knownSeconds,
  type ValidationRule,
  validateProps,
} from '../core/validation';

/** Where the MongoDB connection string comes from: a secret `{"uri": "mongodb+srv://…"}`. */
export type MongoUriSource = SecretSource;

/** Subnets and security groups to run the sink in. */
export interface SinkNetwork {
  /** The VPC the subnets belong to (`vpc-…`). */
  readonly vpcId: string;
  /** Availability zones of the VPC the subnets lie in (`eu-west-1a`, …). */
  readonly availabilityZones: readonly string[];
  /** Subnets the function's network interfaces go in, by id (`subnet-…`); a subnet shared through AWS RAM is fine. */
  readonly subnetIds: readonly string[];
  /** Security groups of the function's network interfaces, by id (`sg-…`): they must allow egress to Kafka and MongoDB. */
  readonly securityGroupIds: readonly string[];
}

/** How many event pollers a provisioned-mode Kafka event source keeps (Lambda's `ProvisionedPollerConfig`). */
export interface ProvisionedPollers {
  /** Pollers the event source never scales below (1–200). */
  readonly minimum: number;
  /** Pollers the event source may scale up to (`minimum`–2000). */
  readonly maximum: number;
}

/** Properties of a `MongoSink`. */
export interface MongoSinkProps {
  /** Kafka bootstrap servers the event source connects to, `host:port`. */
  readonly bootstrapServers: readonly string[];
  /** The topic the sink consumes. */
  readonly topic: string;
  /** Confluent credentials `{"username","password"}`, used by the event source (BASIC_AUTH = SASL/PLAIN). */
  readonly kafkaCredentials: ISecret;
  /** Kafka consumer group of the event source (the config's `sink.consumerGroupId`, resolved in the schema). */
  readonly consumerGroupId: string;
  /** Topic in the same cluster for batches given up on, used with provisioned pollers (the config's `sink.deadLetterTopic`). */
  readonly deadLetterTopic: string;
  /** Where the MongoDB connection string comes from: an existing secret, or one the stack creates empty to fill. */
  readonly mongoUri: MongoUriSource;
  /** MongoDB database of the readings, device state and quarantine collections. @default 'telemetry' */
  readonly database?: string;
  /** MongoDB driver connections per sink container and per replica-set member. @default 2 */
  readonly maxPoolSize?: number;
  /** Store readings in a time-series collection (README, "Time-series option", for the idempotency trade-off). @default false */
  readonly timeSeries?: boolean;
  /** Records per sink invocation (1–10,000). @default 500 */
  readonly batchSize?: number;
  /** How long the Kafka event source gathers a batch before invoking. @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** The function's memory, in MB. @default 1024 */
  readonly memorySize?: number;
  /** The function's timeout. @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** Retries of a failed batch before it goes to the dead-letter topic (provisioned mode only). @default 10 */
  readonly retryAttempts?: number;
  /** Records older than this go to the dead-letter topic unprocessed (provisioned mode only; 60 s–7 days). @default Duration.days(1) */
  readonly maxRecordAge?: Duration;
  /**
   * Provisioned pollers. Lambda offers bounded retries, partial batch responses, split-on-error and an on-failure
   * destination for Kafka event sources only in provisioned mode; `null` runs on demand without them.
   * @default { minimum: 1, maximum: 3 }
   */
  readonly provisionedPollers?: ProvisionedPollers | null;
  /** Largest accepted envelope in UTF-8 bytes. @default 16_384 */
  readonly maxMessageBytes?: number;
  /** Run the function in these subnets and security groups (for a private or IP-restricted MongoDB). @default no VPC */
  readonly network?: SinkNetwork;
  /** How long the function's log group keeps events. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** CloudWatch namespace of the function's EMF metrics. @default 'TelemetryPipeline' */
  readonly metricsNamespace?: string;
}

/** Optional dependencies of the MongoDB driver the sink never loads (Kerberos, compression, CSFLE, AWS/GCP auth). */
export const MONGODB_OPTIONAL_MODULES = [
  'kerberos',
  '@mongodb-js/zstd',
  'snappy',
  'mongodb-client-encryption',
  '@aws-sdk/credential-providers',
  'gcp-metadata',
  'socks',
  'aws4',
];

/**
 * Stage 3, sink: a Lambda function triggered by a self-managed Kafka event source (Confluent Cloud) that writes
 * readings into MongoDB (see `lambdas/sink`).
 *
 * - SASL/PLAIN through `BASIC_AUTH` with the Confluent secret (the CDK default, SCRAM-512, fails against Confluent
 *   Cloud), `TRIM_HORIZON`, an explicit consumer group.
 * - In provisioned mode (default): bounded retries, a maximum record age, split-on-error, partial batch responses,
 *   and a Kafka dead-letter topic that keeps the records themselves (SQS/SNS destinations would get metadata only).
 * - The MongoDB connection string lives in Secrets Manager; the function reads it at run time.
 * - In provisioned mode the mapping publishes its event source mapping metrics (event counts, errors, Kafka offset lag
 *   per mapping; an opt-in through `MetricsConfig`), which the monitoring stage graphs next to the function's
 *   `OffsetLag`. On demand there are none: the function's `OffsetLag` remains.
 */
export class MongoSink extends Construct {
  /** The sink function. */
  public readonly function: PipelineFunction;
  /** The MongoDB connection string secret the function reads at run time (imported, or created empty to fill). */
  public readonly mongoUriSecret: ISecret;
  /** The self-managed Kafka event source on the topic. */
  public readonly eventSource: SelfManagedKafkaEventSource;
  /** The mapping the event source created: its id is the `EventSourceMappingUUID` dimension of its metrics. */
  public readonly eventSourceMapping: EventSourceMapping;
  /** The Kafka topic batches given up on go to; undefined on demand (no provisioned pollers, no destination). */
  public readonly deadLetterTopic?: string;
  /** Whether the mapping publishes its event source mapping metrics (provisioned mode only). */
  public readonly eventSourceMappingMetrics: boolean;

  public constructor(scope: Construct, id: string, props: MongoSinkProps) {
    super(scope, id);
    validateProps(this, MongoSink.name, props, MONGO_SINK_RULES);
    const pollers = props.provisionedPollers === undefined ? { minimum: 1, maximum: 3 } : props.provisionedPollers;
    this.mongoUriSecret = userSecret(this, 'MongoUri', props.mongoUri, {
      description:
        'MongoDB Atlas connection string for the telemetry sink: {"uri": "mongodb+srv://<user>:<password>@<cluster>/"}',
      fields: ['uri'],
      rotation:
        'The connection string holds an Atlas database user managed in Atlas: rotate by creating a new user or password there and updating this secret (README, "Rotating credentials").',
    });

    this.function = new PipelineFunction(this, 'Function', {
      entry: join(__dirname, '..', '..', 'lambdas', 'sink', 'handler.ts'),
      description: 'Stores telemetry from Kafka in MongoDB, each reading once',
      serviceName: ServiceName.Sink,
      metricsNamespace: props.metricsNamespace ?? METRICS_NAMESPACE,
      memorySize: props.memorySize ?? 1_024,
      timeout: props.timeout ?? Duration.seconds(60),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      externalModules: MONGODB_OPTIONAL_MODULES,
      network: props.network ? network(this, props.network) : undefined,
      environment: sinkEnvironment({
        mongoUriSecretId: this.mongoUriSecret.secretArn,
        database: props.database ?? ENVIRONMENT_DEFAULTS.mongoDatabase,
        maxPoolSize: props.maxPoolSize ?? ENVIRONMENT_DEFAULTS.mongoMaxPoolSize,
        timeSeries: props.timeSeries ?? false,
        maxMessageBytes: props.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        partialBatchResponse: pollers !== null,
      }),
    });
    grantSecretRead(this.mongoUriSecret, this.function);

    this.eventSourceMappingMetrics = pollers !== null;
    this.deadLetterTopic = pollers ? props.deadLetterTopic : undefined;
    this.eventSource = new SelfManagedKafkaEventSource({
      bootstrapServers: [...props.bootstrapServers],
      topic: props.topic,
      secret: props.kafkaCredentials,
      authenticationMethod: AuthenticationMethod.BASIC_AUTH,
      startingPosition: StartingPosition.TRIM_HORIZON,
      consumerGroupId: props.consumerGroupId,
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      // Set with provisioned pollers only, as issue 9 asks ("AWS documents observability features as
      // provisioned-only"). What the cited pages say, checked: MetricsConfig lists "EventCount", "ErrorCount (Amazon
      // MSK and self-managed Apache Kafka)" and "KafkaMetrics (Amazon MSK and self-managed Apache Kafka)" and points
      // to "Event source mapping metrics" (AWS::Lambda::EventSourceMapping MetricsConfig,
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-metricsconfig.html;
      // EventSourceMappingMetricsConfig, https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingMetricsConfig.html);
      // neither says the metrics need provisioned mode, and no sentence saying so was found in the stored pages
      // of https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics.
      // Omitting it on demand is the safe side either way: a deploy cannot fail on a property that is not set.
      ...(pollers
        ? { metricsConfig: { metrics: [MetricType.EVENT_COUNT, MetricType.ERROR_COUNT, MetricType.KAFKA_METRICS] } }
        : {}),
      ...(pollers && this.deadLetterTopic
        ? {
            provisionedPollerConfig: { minimumPollers: pollers.minimum, maximumPollers: pollers.maximum },
            retryAttempts: props.retryAttempts ?? 10,
            maxRecordAge: props.maxRecordAge ?? Duration.days(1),
            bisectBatchOnError: true,
            reportBatchItemFailures: true,
            // the full kafka:// URI: KafkaDlq adds the scheme to a literal name, but passes a token as it is
            onFailure: new KafkaDlq(`kafka://${this.deadLetterTopic}`),
          }
        : {}),
    });
    // SelfManagedKafkaEventSource does not expose the mapping it creates (ManagedKafkaEventSource does)
    this.eventSourceMapping = this.function.addEventSourceWithMapping(this.eventSource);
    // the event source reads the Confluent secret with the function's role; this adds the key grant it misses
    grantSecretRead(props.kafkaCredentials, this.function);
    if (!pollers) {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'Chosen explicitly in config (sink.provisionedPollers: null). On-demand Kafka event sources accept an on-failure destination, but the error controls that would ever hand a batch to it (MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError, partial batch responses) need provisioned mode: a failing batch is retried until it succeeds or its records leave Kafka retention, which the OffsetLagHigh and SinkErrorRate alarms report.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by the Kafka event source mapping, never asynchronously: batches it gives up on go to the Kafka dead-letter topic configured on the mapping.',
    });
  }
}

function network(scope: Construct, config: SinkNetwork) {
  const subnets = config.subnetIds.map((subnetId, i) => {
    const subnet = Subnet.fromSubnetId(scope, `Subnet${i}`, subnetId);
    // Lambda's VpcConfig takes subnet ids only (AWS::Lambda::Function VpcConfig,
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-vpcconfig.html):
    // nothing here reads the subnet's route table, the one thing an imported subnet without it cannot give.
    Annotations.of(subnet).acknowledgeWarning(
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'The sink only places its function in the subnet; no route table is read or changed.',
    );
    return subnet;
  });
  return {
    vpc: Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: config.vpcId, availabilityZones: [...config.availabilityZones] }),
    vpcSubnets: { subnets },
    securityGroups: config.securityGroupIds.map((groupId, i) =>
      SecurityGroup.fromSecurityGroupId(scope, `SecurityGroup${i}`, groupId),
    ),
  };
}

/**
 * What Lambda accepts on a self-managed Kafka event source mapping (AWS Lambda API Reference,
 * EventSourceMappingConfiguration, https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html):
 * BatchSize 1–10000; MaximumRecordAgeInSeconds -1 (never discard, not offered here) or 60–604800 ("The minimum valid
 * value for maximum record age is 60s"). ProvisionedPollerConfig (https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html):
 * MinimumPollers 1–200, MaximumPollers up to 2000 for Kafka, and (ours) never below the minimum. The dead-letter
 * topic is a `kafka://` destination in the same cluster: a topic name Lambda accepts, other than the source topic.
 * The source topic and the record age must be known at synth time: aws-cdk-lib names the mapping's construct after
 * the topic, and its EventSourceMapping converts the age to check it.
 */
const MONGO_SINK_RULES: readonly ValidationRule<MongoSinkProps>[] = [
  knownAtSynth('topic', (props) => props.topic, "aws-cdk-lib's Kafka event source names its mapping after it"),
  ...KAFKA_CONNECTION_RULES,
  kafkaTopic('deadLetterTopic', (props) => props.deadLetterTopic),
  ({ deadLetterTopic, topic }) =>
    isResolved(deadLetterTopic) && isResolved(topic) && deadLetterTopic === topic
      ? ['deadLetterTopic: must differ from the source topic (Lambda refuses loops)']
      : [],
  inRange('batchSize', (props) => props.batchSize ?? 500, 1, 10_000),
  ({ provisionedPollers: pollers }) => {
    if (!pollers || !isResolved(pollers.minimum) || !isResolved(pollers.maximum)) return [];
    const { minimum, maximum } = pollers;
    return minimum < 1 || minimum > 200 || maximum < minimum || maximum > 2_000
      ? ['provisionedPollers: minimum 1–200, maximum minimum–2000']
      : [];
  },
  knownAtSynth('maxRecordAge', (props) => props.maxRecordAge, "aws-cdk-lib's EventSourceMapping checks its range"),
  inRange('maxRecordAge', (props) => knownSeconds(props.maxRecordAge), 60, 604_800, 's'),
];

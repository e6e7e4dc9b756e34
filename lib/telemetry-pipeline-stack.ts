import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { PipelineConfig } from './config/schema';
import { type KafkaCredentialsSource, KafkaForwarder } from './forward/kafka-forwarder';
import { devicePolicyOutput } from './ingest/rule-sql';
import { TelemetryIngest } from './ingest/telemetry-ingest';
import { AlarmTopic } from './monitor/alarm-topic';
import { PipelineMonitoring } from './monitor/pipeline-monitoring';
import { MongoSink, type MongoUriSource } from './sink/mongo-sink';

/** Properties of the `TelemetryPipelineStack`: the stack's own, and the pipeline's configuration. */
export interface TelemetryPipelineStackProps extends StackProps {
  /** The validated configuration (see `config/<env>.json` and the README's reference). */
  readonly config: PipelineConfig;
}

/** The pipeline, stage by stage. Composition only: each stage is its own construct. */
export class TelemetryPipelineStack extends Stack {
  /** Stage 1: IoT rules into the ingest queue. */
  public readonly ingest: TelemetryIngest;
  /** Stage 2: the ingest queue into Kafka. */
  public readonly forwarder: KafkaForwarder;
  /** Stage 3: Kafka into MongoDB. */
  public readonly sink: MongoSink;
  /** The SNS topic every alarm notifies. */
  public readonly alarmTopic: AlarmTopic;
  /** Dashboard and alarms over every stage. */
  public readonly monitoring: PipelineMonitoring;

  public constructor(scope: Construct, id: string, props: TelemetryPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    const forwarderTimeout = Duration.seconds(config.forwarder.timeoutSeconds);
    const batchingWindow = Duration.seconds(config.forwarder.maxBatchingWindowSeconds);

    this.ingest = new TelemetryIngest(this, 'Ingest', {
      topicFilters: config.iot.topicFilters,
      ruleNamePrefix: config.iot.ruleNamePrefix,
      consumerTimeout: forwarderTimeout,
      consumerBatchingWindow: batchingWindow,
      maxReceiveCount: config.ingest.maxReceiveCount,
      retentionPeriod: Duration.days(config.ingest.retentionPeriodDays),
    });

    this.forwarder = new KafkaForwarder(this, 'Forwarder', {
      queue: this.ingest.queue,
      deadLetterQueue: this.ingest.deadLetterQueue,
      bootstrapServers: config.kafka.bootstrapServers,
      topic: config.kafka.topic,
      credentials: credentialsSource(config),
      compression: config.kafka.compression,
      maxRequestBytes: config.kafka.maxRequestBytes,
      maxMessageBytes: config.limits.maxMessageBytes,
      batchSize: config.forwarder.batchSize,
      maxBatchingWindow: batchingWindow,
      memorySize: config.forwarder.memorySize,
      timeout: forwarderTimeout,
      maxConcurrency: config.forwarder.maxConcurrency,
      logRetention: config.logRetentionDays as RetentionDays,
      clientId: config.forwarder.kafkaClientId,
    });

    const { sink } = config;
    this.sink = new MongoSink(this, 'Sink', {
      bootstrapServers: config.kafka.bootstrapServers,
      topic: config.kafka.topic,
      kafkaCredentials: this.forwarder.credentialsSecret,
      consumerGroupId: sink.consumerGroupId,
      deadLetterTopic: sink.deadLetterTopic,
      mongoUri: mongoUriSource(config),
      database: sink.mongo.database,
      maxPoolSize: sink.mongo.maxPoolSize,
      timeSeries: sink.mongo.timeSeries,
      batchSize: sink.batchSize,
      maxBatchingWindow: Duration.seconds(sink.maxBatchingWindowSeconds),
      memorySize: sink.memorySize,
      timeout: Duration.seconds(sink.timeoutSeconds),
      retryAttempts: sink.retryAttempts,
      maxRecordAge: Duration.seconds(sink.maxRecordAgeSeconds),
      provisionedPollers: sink.provisionedPollers,
      maxMessageBytes: config.limits.maxMessageBytes,
      network: sink.network,
      logRetention: config.logRetentionDays as RetentionDays,
    });

    // 'Alarms' keeps the topic's construct path (and so its logical id and subscriptions) from before the dashboard
    const { email, ...thresholds } = config.alarms;
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { alarmNamePrefix: config.stackName, email });
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      pipelineName: config.stackName,
      ruleNames: this.ingest.deviceTopics.map((topics) => topics.ruleName),
      ingestQueue: this.ingest.queue,
      deadLetterQueue: this.ingest.deadLetterQueue,
      errorQueue: this.ingest.errorQueue,
      forwarder: this.forwarder.function,
      sink: this.sink.function,
      sinkEventSourceMapping: this.sink.eventSourceMapping,
      sinkEventSourceMappingMetrics: this.sink.eventSourceMappingMetrics,
      sinkDeadLetterTopic: this.sink.deadLetterTopic,
      alarmTopic: this.alarmTopic.topic,
      thresholds,
    });

    this.outputs();
  }

  private outputs(): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('IngestQueueUrl', this.ingest.queue.queueUrl, 'Ingest queue (IoT rule → forwarder)');
    out('DeadLetterQueueUrl', this.ingest.deadLetterQueue.queueUrl, 'Invalid records and records past maxReceiveCount');
    out('ErrorQueueUrl', this.ingest.errorQueue.queueUrl, 'IoT rule error action target');
    // One output per device policy, numbered from the second so the first keeps its name: attach all of them
    this.ingest.devicePolicies.forEach((policy, index) => {
      out(
        devicePolicyOutput(index),
        policy.ref,
        `IoT policy ${index + 1} of ${this.ingest.devicePolicies.length} to attach to each device certificate`,
      );
    });
    out('CredentialsSecretArn', this.forwarder.credentialsSecret.secretArn, 'Confluent API key secret to fill');
    out('ForwarderFunctionName', this.forwarder.function.functionName, 'Forwarder Lambda function');
    out('AlarmTopicArn', this.alarmTopic.topic.topicArn, 'SNS topic every alarm notifies');
    const dashboardName = this.monitoring.dashboard.dashboardName;
    out('DashboardName', dashboardName, 'CloudWatch dashboard of this pipeline, in flow order');
    out(
      'DashboardUrl',
      `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboardName}`,
      'The dashboard in the CloudWatch console',
    );
    out('SinkFunctionName', this.sink.function.functionName, 'Sink Lambda function');
    out('MongoUriSecretArn', this.sink.mongoUriSecret.secretArn, 'MongoDB connection string secret to fill');
    if (this.sink.deadLetterTopic)
      out('SinkDeadLetterTopic', this.sink.deadLetterTopic, 'Kafka topic for batches the sink gave up on');
    this.ingest.deviceTopics.forEach((topics, i) => {
      out(`DeviceTopic${i + 1}`, topics.topic, `Topic devices publish to (rule ${topics.ruleName})`);
      out(`BasicIngestTopic${i + 1}`, topics.basicIngestTopic, `Same, through Basic Ingest (rule ${topics.ruleName})`);
    });
  }
}

function mongoUriSource(config: PipelineConfig): MongoUriSource {
  const { mongo } = config.sink;
  const kmsKeyArn = mongo.uriSecretKmsKeyArn;
  if (mongo.uriSecretArn) return { secretArn: mongo.uriSecretArn, kmsKeyArn };
  if (mongo.uriSecretName) return { secretName: mongo.uriSecretName, kmsKeyArn };
  return { create: true };
}

function credentialsSource(config: PipelineConfig): KafkaCredentialsSource {
  const { credentialsSecretArn, credentialsSecretName, credentialsSecretKmsKeyArn: kmsKeyArn } = config.kafka;
  if (credentialsSecretArn) return { secretArn: credentialsSecretArn, kmsKeyArn };
  if (credentialsSecretName) return { secretName: credentialsSecretName, kmsKeyArn };
  return { create: true };
}

import { Stack } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  type EnvironmentVariables,
  ForwarderEnvironmentSchema,
  type ForwarderEnvironmentValues,
  FunctionEnvironmentSchema,
  forwarderEnvironment,
  functionEnvironment,
  PIPELINE_NAME_VARIABLE,
  SinkEnvironmentSchema,
  type SinkEnvironmentValues,
  sinkEnvironment,
} from '../../contracts/environment';
import { METRICS_NAMESPACE, ServiceName } from '../../contracts/metrics';
import { PipelineConfigSchema } from '../../lib/config/schema';
import {
  forwarderEnvironment as localForwarder,
  localSettings,
  sinkEnvironment as localSink,
} from '../../tools/local/settings';
import { synthStack } from '../helpers/synth';

const FORWARDER: ForwarderEnvironmentValues = {
  brokers: ['b1.example.com:9092', 'b2.example.com:9092'],
  topic: 'telemetry.readings.v1',
  clientId: 'Pipeline-forwarder',
  credentialsSecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent-AbCdEf',
  ssl: true,
  compression: 'gzip',
  maxRequestBytes: 500_000,
  deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
  maxMessageBytes: 8_192,
};

const SINK: SinkEnvironmentValues = {
  mongoUriSecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas-AbCdEf',
  database: 'readings',
  maxPoolSize: 4,
  timeSeries: true,
  maxMessageBytes: 8_192,
  partialBatchResponse: false,
};

/** The variables a schema names (its object's keys, also through a transform). */
const schemaKeys = (schema: { in: { shape: object } } | { shape: object }) =>
  Object.keys('in' in schema ? schema.in.shape : schema.shape).sort();

/** The environment of a function resource in a synthesized template, by logical id prefix. */
function templateEnvironment(
  resources: Record<string, { Type: string; Properties: Record<string, unknown> }>,
  id: string,
) {
  const entry = Object.entries(resources).find(
    ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && logicalId.startsWith(id),
  );
  if (!entry) throw new Error(`no function ${id}… in the template`);
  return (entry[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('function environment builders', () => {
  it('round-trip through the forwarder schema: what the construct sets is what the function reads', () => {
    // Given typed values / When the builder formats them and the function parses the result
    const parsed = ForwarderEnvironmentSchema.parse(forwarderEnvironment(FORWARDER));
    // Then every value comes back as it went in
    expect(parsed).toEqual({
      KAFKA_BROKERS: FORWARDER.brokers,
      KAFKA_TOPIC: FORWARDER.topic,
      KAFKA_CLIENT_ID: FORWARDER.clientId,
      KAFKA_CREDENTIALS_SECRET_ID: FORWARDER.credentialsSecretId,
      KAFKA_SSL: true,
      KAFKA_COMPRESSION: 'gzip',
      KAFKA_MAX_REQUEST_BYTES: 500_000,
      DLQ_URL: FORWARDER.deadLetterQueueUrl,
      MAX_MESSAGE_BYTES: 8_192,
    });
  });

  it('round-trip through the sink schema, with a secret (AWS) or a URI (local runs)', () => {
    // Given the sink's values with the secret id / When built and parsed
    const parsed = SinkEnvironmentSchema.parse(sinkEnvironment(SINK));
    // Then they come back, and no URI variable is set
    expect(parsed).toEqual({
      MONGODB_URI_SECRET_ID: SINK.mongoUriSecretId,
      MONGODB_DATABASE: 'readings',
      MONGODB_MAX_POOL_SIZE: 4,
      MONGODB_TIME_SERIES: true,
      MAX_MESSAGE_BYTES: 8_192,
      PARTIAL_BATCH_RESPONSE: false,
    });
    // Given the local form / When built and parsed / Then the URI is read and the secret is absent
    const { mongoUriSecretId: _, ...local } = SINK;
    const uri = 'mongodb://127.0.0.1:27017';
    const parsedLocal = SinkEnvironmentSchema.parse(sinkEnvironment({ ...local, mongoUri: uri }));
    expect(parsedLocal.MONGODB_URI).toBe(uri);
    expect(parsedLocal).not.toHaveProperty('MONGODB_URI_SECRET_ID');
  });

  it('round-trip through the schema every function parses, and leave unset what is not given', () => {
    // Given what every function gets / When built and parsed
    const variables = functionEnvironment({
      serviceName: ServiceName.Sink,
      metricsNamespace: 'Custom',
      logLevel: 'DEBUG',
      pipelineName: 'Pipeline-dev',
    });
    // Then the pipeline name is read back, and the switch nobody set stays unset
    expect(FunctionEnvironmentSchema.parse(variables)[PIPELINE_NAME_VARIABLE]).toBe('Pipeline-dev');
    expect(variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'telemetry-sink',
      POWERTOOLS_METRICS_NAMESPACE: 'Custom',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      PIPELINE_NAME: 'Pipeline-dev',
    });
    expect(functionEnvironment({ ...variablesOf(variables), metricsDisabled: true }).POWERTOOLS_METRICS_DISABLED).toBe(
      'true',
    );
  });

  it('set only variables their schema names', () => {
    // Given every builder with every optional value given / Then each variable it sets is one its schema reads
    expect(Object.keys(forwarderEnvironment(FORWARDER)).sort()).toEqual(schemaKeys(ForwarderEnvironmentSchema));
    const sinkKeys = Object.keys(sinkEnvironment({ ...SINK, mongoUri: 'mongodb://h' })).sort();
    expect(sinkKeys).toEqual(schemaKeys(SinkEnvironmentSchema));
    const common = functionEnvironment({ ...variablesOf({}), metricsDisabled: false });
    expect(Object.keys(common).sort()).toEqual(schemaKeys(FunctionEnvironmentSchema));
  });

  it('pass CDK tokens through unvalidated: a queue URL resolves at deploy time, not at synth', () => {
    // Given a queue URL that is still a token at synth time
    const queueUrl = new Queue(new Stack(), 'Dlq').queueUrl;
    // When the forwarder's environment is built with it
    const variables = forwarderEnvironment({ ...FORWARDER, deadLetterQueueUrl: queueUrl });
    // Then the token is set as it is (the function validates the resolved URL when it starts)
    expect(variables.DLQ_URL).toBe(queueUrl);
    expect(variables.DLQ_URL).toMatch(/\$\{Token\[/);
  });

  it('fail to compile when a value is missing or a variable is misnamed', () => {
    // Given values without the dead-letter queue URL / Then the builder refuses them at compile time
    const { deadLetterQueueUrl: _, ...withoutDlq } = FORWARDER;
    // @ts-expect-error deadLetterQueueUrl is required: the forwarder cannot start without DLQ_URL
    expect(() => ForwarderEnvironmentSchema.parse(forwarderEnvironment(withoutDlq))).toThrow(/DLQ_URL/);
    // Given a variable set under a name the schema does not have (a builder after its schema renamed a variable)
    // Then it fails to compile
    const misnamed: EnvironmentVariables<typeof SinkEnvironmentSchema> = {
      MONGODB_URI_SECRET_ID: 'id',
      MONGODB_URI: undefined,
      MONGODB_DATABASE: 'telemetry',
      // @ts-expect-error MONGODB_DB is no variable of the sink
      MONGODB_DB: 'telemetry',
      MONGODB_MAX_POOL_SIZE: '2',
      MONGODB_TIME_SERIES: 'false',
      MAX_MESSAGE_BYTES: '16384',
      PARTIAL_BATCH_RESPONSE: 'true',
    };
    expect(misnamed).toBeDefined();
  });
});

describe('the forwarder environment topic', () => {
  it.each(['t', '.hidden', 'a/b', 'x'.repeat(250)])('refuses %s, as the config schema and Lambda do', (topic) => {
    // Given a topic name Lambda's event source mapping refuses (one character, a leading dot, a slash, too long)
    // When the forwarder parses an environment naming it
    const parsed = ForwarderEnvironmentSchema.safeParse({ KAFKA_BROKERS: 'b:9092', KAFKA_TOPIC: topic, DLQ_URL: 'q' });
    // Then it is refused, as `kafka.topic` in the configuration is (one rule: contracts/limits.ts)
    expect(parsed.success).toBe(false);
    expect(PipelineConfigSchema.in.shape.kafka.safeParse({ bootstrapServers: ['b:9092'], topic }).success).toBe(false);
  });
});

describe('both sides build the same environments', () => {
  it('sets the same variables on the deployed functions and in the local pipeline, and both parse', () => {
    // Given the stack synthesized from config/dev.json and the local pipeline's settings from the same file
    const { template, config } = synthStack();
    const resources = template.toJSON().Resources;
    const endpoints = {
      kafkaBrokers: ['127.0.0.1:9092'],
      deadLetterQueueUrl: 'http://127.0.0.1:9324/000000000000/dlq',
      sqsEndpoint: 'http://127.0.0.1:9324',
      mongoUri: 'mongodb://127.0.0.1:27017',
      logLevel: 'INFO',
    };
    const settings = localSettings(config);
    // When each side's forwarder and sink environments are read
    const deployed = {
      forwarder: templateEnvironment(resources, 'Forwarder'),
      sink: templateEnvironment(resources, 'Sink'),
    };
    const local = {
      forwarder: localForwarder(settings, config, endpoints),
      sink: localSink(settings, config, endpoints),
    };
    // Then the local side sets every deployed variable except the secret ids, which it replaces by local means
    const names = (variables: object) => Object.keys(variables).sort();
    expect(names(deployed.forwarder).filter((name) => name !== 'KAFKA_CREDENTIALS_SECRET_ID')).toEqual(
      names(local.forwarder).filter((name) => name in deployed.forwarder),
    );
    expect(names(deployed.sink).filter((name) => name !== 'MONGODB_URI_SECRET_ID')).toEqual(
      names(local.sink).filter((name) => name in deployed.sink),
    );
    // and the values that do not depend on the machine agree
    for (const name of ['KAFKA_TOPIC', 'KAFKA_CLIENT_ID', 'KAFKA_COMPRESSION', 'MAX_MESSAGE_BYTES', 'PIPELINE_NAME'])
      expect(local.forwarder[name], name).toBe(deployed.forwarder[name]);
    for (const name of [
      'MONGODB_DATABASE',
      'MONGODB_MAX_POOL_SIZE',
      'PARTIAL_BATCH_RESPONSE',
      'POWERTOOLS_SERVICE_NAME',
    ])
      expect(local.sink[name], name).toBe(deployed.sink[name]);
    // and the local environments are ones the functions accept
    expect(ForwarderEnvironmentSchema.safeParse(local.forwarder).success).toBe(true);
    expect(SinkEnvironmentSchema.safeParse(local.sink).success).toBe(true);
  });
});

/** Values for `functionEnvironment`, from a built environment (or defaults). */
function variablesOf(variables: Record<string, string>) {
  return {
    serviceName: variables.POWERTOOLS_SERVICE_NAME ?? ServiceName.Forwarder,
    metricsNamespace: variables.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    logLevel: variables.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    pipelineName: variables.PIPELINE_NAME ?? 'Pipeline',
  };
}

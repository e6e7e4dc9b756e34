import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCompliance } from '../../lib/compliance';
import { buildRuleSql } from '../../lib/ingest/rule-sql';
import { synthStack } from '../helpers/synth';

/** IoT's policy variable, spelled out so no linter mistakes it for a template placeholder. */
const THING = ['$', '{iot:Connection.Thing.ThingName}'].join('');

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('TelemetryPipelineStack (config/dev.json)', () => {
  let synth: ReturnType<typeof synthStack>;
  let resources: Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const logicalIdOf = (scope: { node: { defaultChild?: unknown } }) =>
    synth.stack.getLogicalId(scope.node.defaultChild as never);

  beforeAll(() => {
    synth = synthStack();
    resources = synth.template.toJSON().Resources as Resources;
  });

  it('sets the ingest queue visibility timeout to at least 6x the forwarder timeout', () => {
    // Given the stack synthesized from config/dev.json
    // When the forwarder and the ingest queue are read
    const [, fn] = ofType('AWS::Lambda::Function')[0] ?? [];
    const queue = resources[logicalIdOf(synth.stack.ingest.queue)];
    // Then the forwarder times out after 30 s, and the queue hides a message for 6 × 30 + 1 s
    expect(fn?.Properties.Timeout).toBe(30);
    expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 30);
    expect(queue?.Properties.VisibilityTimeout).toBe(6 * 30 + 1);
  });

  it('gives the ingest queue a dead-letter queue with the configured maxReceiveCount', () => {
    // Given the stack synthesized from config/dev.json
    // When the ingest queue is read
    const queue = resources[logicalIdOf(synth.stack.ingest.queue)];
    // Then its redrive policy sends a message to the dead-letter queue after 5 receives
    expect(queue?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(synth.stack.ingest.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('encrypts every queue and denies non-TLS access to each', () => {
    // Given the stack synthesized from config/dev.json
    // When its queues are read
    const queues = ofType('AWS::SQS::Queue');
    // Then there are three, each encrypted, each with a policy that denies access without TLS
    expect(queues).toHaveLength(3);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('reports batch item failures, with batch size, window and maximum concurrency from config', () => {
    // Given the stack synthesized from config/dev.json
    // When its SQS event source mapping is read, Then it reports batch item failures, with a batch size of 100, a 1 s
    // window and at most 10 concurrent invocations
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synth.stack.ingest.queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    // And no function reserves concurrency
    for (const [, fn] of ofType('AWS::Lambda::Function'))
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('routes each topic filter through an IoT rule with the enrichment SQL and an error action', () => {
    // Given the stack synthesized from config/dev.json
    // When its topic rule is read, Then it has the enrichment SQL, sends to the ingest queue, and its errors to the
    // error queue
    synth.template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: 'TelemetryPipeline_dev_1',
      TopicRulePayload: {
        Sql: buildRuleSql('sensors/+/telemetry'),
        AwsIotSqlVersion: '2016-03-23',
        RuleDisabled: false,
        Actions: [
          {
            Sqs: {
              QueueUrl: { Ref: logicalIdOf(synth.stack.ingest.queue) },
              UseBase64: false,
              RoleArn: Match.anyValue(),
            },
          },
        ],
        ErrorAction: {
          Sqs: {
            QueueUrl: { Ref: logicalIdOf(synth.stack.ingest.errorQueue) },
            UseBase64: false,
            RoleArn: Match.anyValue(),
          },
        },
      },
    });
  });

  it('lets a device connect only as its thing name and publish only to its own topics', () => {
    // Given the stack synthesized from config/dev.json
    // When its device policy is read
    const [[, policy] = []] = ofType('AWS::IoT::Policy');
    const json = JSON.stringify(policy?.Properties.PolicyDocument);
    // Then it lets an attached thing connect as its name and publish to its own topics, with no wildcard
    expect(json).toContain(`client/${THING}`);
    expect(json).toContain(`topic/sensors/${THING}/telemetry`);
    expect(json).toContain(`topic/$aws/rules/TelemetryPipeline_dev_1/sensors/${THING}/telemetry`);
    expect(json).toContain('"iot:Connection.Thing.IsAttached":"true"');
    expect(json).not.toMatch(/"iot:\*"|topic\/\*|client\/\*/);
  });

  it('uses no wildcard IAM actions anywhere', () => {
    // Given the stack synthesized from config/dev.json
    // When every action of its IAM policies is read, Then none has a wildcard
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      const statements = (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement;
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
      }
    }
    // And no role has a managed policy
    expect(ofType('AWS::IAM::Role').every(([, role]) => role.Properties.ManagedPolicyArns === undefined)).toBe(true);
  });

  it('runs the forwarder on arm64 with the newest Node runtime, JSON logs and a retained log group', () => {
    // Given the stack synthesized from config/dev.json
    // When its functions are read, Then one runs on arm64 with nodejs24.x, 512 MB and JSON logs
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 512,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    // And a log group keeps its logs for 30 days
    synth.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('traces neither function with X-Ray, and grants no X-Ray writes (docs/cost-and-scale.md, "Tracing")', () => {
    // Given the stack synthesized from config/dev.json
    // Lambda traces no function behind a self-managed Kafka event source mapping ("Visualize Lambda function
    // invocations using AWS X-Ray", https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html), and the
    // forwarder's traces would show no Kafka span: active tracing is off, so its wildcard IAM statement goes too
    // When its functions and IAM policies are read
    const functions = ofType('AWS::Lambda::Function');
    // Then there are at least two functions, none with tracing configured
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const [, fn] of functions) expect(fn.Properties.TracingConfig).toBeUndefined();
    // And no IAM policy grants an xray: action
    const actions = ofType('AWS::IAM::Policy').flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
        (statement) => [statement.Action].flat(),
      ),
    );
    expect(actions.filter((action) => action.startsWith('xray:'))).toEqual([]);
  });

  it('passes the secret id, never secret values, to the function, and grants it read access', () => {
    // Given the stack synthesized from config/dev.json
    // When the forwarder's environment is read
    const [[, fn] = []] = ofType('AWS::Lambda::Function');
    const env = (fn!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const secretId = logicalIdOf(synth.stack.forwarder.credentialsSecret as never);
    // Then it has the secret's id and no credential-like variable, the secret is created unfilled, and the role may
    // read it
    expect(env.KAFKA_CREDENTIALS_SECRET_ID).toEqual({ Ref: secretId });
    expect(Object.keys(env).some((key) => /PASSWORD|USERNAME|API_SECRET|SASL/i.test(key))).toBe(false);
    const secretString = (resources[secretId]!.Properties as { SecretString?: string }).SecretString;
    expect(secretString).toBe('{"username":"","password":""}');
    for (const value of Object.values(env)) expect(JSON.stringify(value)).not.toContain('password');
    synth.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Effect: 'Allow',
            Resource: { Ref: secretId },
          },
        ]),
      },
    });
  });

  it('passes the Kafka and DLQ settings the handler parses', () => {
    // Given the stack synthesized from config/dev.json
    // When the forwarder is read, Then its environment has the Kafka and DLQ settings the handler parses
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          KAFKA_BROKERS: 'pkc-12abc.eu-west-1.aws.confluent.cloud:9092',
          KAFKA_TOPIC: 'telemetry.readings.v1',
          KAFKA_SSL: 'true',
          KAFKA_COMPRESSION: 'none',
          DLQ_URL: { Ref: logicalIdOf(synth.stack.ingest.deadLetterQueue) },
          MAX_MESSAGE_BYTES: '16384',
          POWERTOOLS_SERVICE_NAME: 'telemetry-forwarder',
        }),
      },
    });
  });

  it('encrypts the alarm topic with a rotated customer key and denies non-TLS access', () => {
    // Given the stack synthesized from config/dev.json
    // When the alarm topic and its key are read
    const topicId = logicalIdOf(synth.stack.alarmTopic.topic);
    const keyId = logicalIdOf(synth.stack.alarmTopic.key);
    // Then the topic is encrypted with the key, its policy denies access without TLS, and the key rotates
    expect(resources[topicId]?.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect(resources[keyId]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('keeps the alarm topic where it was before the dashboard (same logical id, so subscriptions survive)', () => {
    // Given the stack synthesized from config/dev.json
    // When the alarm topic's logical ids are read, Then they are the ones from before the dashboard
    expect(logicalIdOf(synth.stack.alarmTopic.topic)).toBe('AlarmsTopic3A2DFEBA');
    expect(logicalIdOf(synth.stack.alarmTopic.key)).toBe('AlarmsTopicKeyAB251E47');
  });

  it('passes cdk-nag AwsSolutions and Serverless packs (synth does not fail)', () => {
    // Given the stack synthesized from config/dev.json
    // When the app is synthesized under cdk-nag's packs, Then nothing is thrown
    expect(() => synth.app.synth()).not.toThrow();
  });
});

describe('configuration variants', () => {
  it('uses an existing secret by complete ARN instead of creating one', () => {
    // Given the complete ARN of an existing secret in the config
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent/telemetry-AbCdEf';
    // When the stack is synthesized
    const { template } = synthStack({ kafka: { credentialsSecretArn: arn } });
    // Then no Confluent secret is created, and the forwarder is given the ARN
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::Secret',
      { Description: Match.stringLikeRegexp('Confluent') },
      0,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KAFKA_CREDENTIALS_SECRET_ID: arn }) },
    });
  });

  it('creates one rule per topic filter, with a device topic output for each', () => {
    // Given two topic filters
    // When the stack is synthesized
    const { template } = synthStack({ iot: { topicFilters: ['sensors/+/telemetry', 'plants/north/+/readings'] } });
    // Then there are two rules, the second with its filter's SQL, and device topic outputs for it
    template.resourceCountIs('AWS::IoT::TopicRule', 2);
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: 'TelemetryPipeline_dev_2',
      TopicRulePayload: Match.objectLike({
        Sql: Match.stringLikeRegexp("topic\\(3\\) AS deviceId.*FROM 'plants/north/\\+/readings'"),
      }),
    });
    template.hasOutput('DeviceTopic2', { Value: 'plants/north/<thingName>/readings' });
    template.hasOutput('BasicIngestTopic2', {
      Value: '$aws/rules/TelemetryPipeline_dev_2/plants/north/<thingName>/readings',
    });
  });

  it('derives the visibility timeout from a longer forwarder timeout and window', () => {
    // Given a forwarder timeout of 120 s and a 5 s batching window
    // When the stack is synthesized
    const { template } = synthStack({ forwarder: { timeoutSeconds: 120, maxBatchingWindowSeconds: 5 } });
    // Then the ingest queue's visibility timeout is 6 × 120 + 5 s
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 120 + 5 });
  });
});

describe('compliance wiring', () => {
  it('fails synth on a finding nobody acknowledged', () => {
    // Given an app whose stack holds an unencrypted queue, with compliance applied
    const app = new App();
    const stack = new Stack(app, 'Unsafe');
    new Queue(stack, 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
    applyCompliance(app);
    // When it is synthesized, Then it fails on the queue's missing encryption
    expect(() => app.synth()).toThrow(/The SQS Queue does not have server-side encryption enabled/);
  });
});

import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load';
import { ConstructValidationError } from '../../../lib/core/validation';
import { MongoSink, type MongoSinkProps } from '../../../lib/sink/mongo-sink';
import { decide } from '../../helpers/access';
import { synthStack } from '../../helpers/synth';
import { TemplatePolicies } from '../../helpers/template-policies';

describe('MongoSink in the pipeline stack (config/dev.json)', () => {
  let synth: ReturnType<typeof synthStack>;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    synth.stack.getLogicalId(construct.node.defaultChild as never);

  beforeAll(() => {
    synth = synthStack();
  });

  it('consumes the topic with SASL/PLAIN (BASIC_AUTH) using the Confluent secret, from the beginning, as its own group', () => {
    expect(synth.config.sink.consumerGroupId).toBe('TelemetryPipeline-dev-sink');
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(synth.stack.sink.function) },
      Topics: ['telemetry.readings.v1'],
      SelfManagedEventSource: {
        Endpoints: { KafkaBootstrapServers: ['pkc-12abc.eu-west-1.aws.confluent.cloud:9092'] },
      },
      SourceAccessConfigurations: [
        { Type: 'BASIC_AUTH', URI: { Ref: id(synth.stack.forwarder.credentialsSecret as never) } },
      ],
      StartingPosition: 'TRIM_HORIZON',
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: synth.config.sink.consumerGroupId },
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
    });
  });

  it('bounds retries and record age, splits failing batches, reports item failures, and keeps given-up records in a Kafka topic', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(synth.stack.sink.function) },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'kafka://telemetry.readings.v1.sink-dlt' } },
    });
  });

  it('reads the MongoDB URI and the Kafka credentials from Secrets Manager, never from the environment', () => {
    const mongoSecret = id(synth.stack.sink.mongoUriSecret as never);
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          MONGODB_URI_SECRET_ID: { Ref: mongoSecret },
          MONGODB_DATABASE: 'telemetry',
          MONGODB_MAX_POOL_SIZE: '2',
          MONGODB_TIME_SERIES: 'false',
          MAX_MESSAGE_BYTES: '16384',
          PARTIAL_BATCH_RESPONSE: 'true',
          POWERTOOLS_SERVICE_NAME: 'telemetry-sink',
          POWERTOOLS_METRICS_NAMESPACE: 'TelemetryPipeline',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          PIPELINE_NAME: 'TelemetryPipeline-dev',
        },
      },
    });
    const grants = synth.template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SinkFunctionRole') }] },
    });
    const statements = JSON.stringify(Object.values(grants).map((p) => p.Properties.PolicyDocument.Statement));
    expect(statements).toContain(`{"Ref":"${mongoSecret}"}`);
    expect(statements).toContain(`{"Ref":"${id(synth.stack.forwarder.credentialsSecret as never)}"}`);
    expect(statements).toContain('secretsmanager:GetSecretValue');
  });

  it('opts the mapping in to its event source mapping metrics and exposes the mapping', () => {
    const mappingId = synth.stack.getLogicalId(synth.stack.sink.eventSourceMapping.node.defaultChild as never);
    synth.template.hasResource('AWS::Lambda::EventSourceMapping', {
      Properties: Match.objectLike({
        FunctionName: { Ref: id(synth.stack.sink.function) },
        MetricsConfig: { Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] },
      }),
    });
    expect(synth.template.toJSON().Resources[mappingId]?.Type).toBe('AWS::Lambda::EventSourceMapping');
  });

  it('without provisioned pollers, sets none of the provisioned-only error handling (Lambda would refuse it)', () => {
    const { template, stack } = synthStack({ sink: { provisionedPollers: null } });
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: stack.getLogicalId(stack.sink.function.node.defaultChild as never) } },
      }),
    );
    expect(mappings).toHaveLength(1);
    const properties = mappings[0]?.Properties ?? {};
    for (const key of [
      'ProvisionedPollerConfig',
      'MaximumRetryAttempts',
      'DestinationConfig',
      'FunctionResponseTypes',
      'BisectBatchOnFunctionError',
      // event source mapping metrics are a provisioned-mode feature for Kafka (AWS Lambda Developer Guide, "Event
      // source mapping metrics", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics)
      'MetricsConfig',
    ]) {
      expect(properties[key]).toBeUndefined();
    }
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('SinkDeadLetterTopic');
    // and tells the function to fail whole batches, since partial responses would be ignored
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'telemetry-sink', PARTIAL_BATCH_RESPONSE: 'false' }),
      },
    });
  });

  it('runs in the configured subnets and security groups', () => {
    const { template } = synthStack({
      sink: {
        network: {
          vpcId: 'vpc-0123456789abcdef0',
          availabilityZones: ['eu-west-1a'],
          subnetIds: ['subnet-0123456789abcdef0'],
          securityGroupIds: ['sg-0123456789abcdef0'],
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'telemetry-sink' }) },
      VpcConfig: { SubnetIds: ['subnet-0123456789abcdef0'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
  });

  it('lets its own execution role create and delete its network interfaces, and raises no subnet warning', async () => {
    // Given the sink in a VPC: Lambda creates its ENIs with the function's execution role (AWS Lambda Developer
    // Guide, "Giving Lambda functions access to resources in an Amazon VPC" → "Required IAM permissions",
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions; the actions
    // of the AWS managed policy AWSLambdaVPCAccessExecutionRole,
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html)
    const network = {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a'],
      subnetIds: ['subnet-0123456789abcdef0'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    };
    const { template, stack, app } = synthStack({ sink: { network } });
    expect(() => app.synth()).not.toThrow();
    const fn = template.toJSON().Resources[stack.getLogicalId(stack.sink.function.node.defaultChild as never)];
    // the function waits for its role's policy: Lambda checks the ENI permissions when it creates the function
    expect(fn.DependsOn).toContain(
      stack.getLogicalId(stack.sink.function.role?.node.findChild('DefaultPolicy').node.defaultChild as never),
    );
    const policies = new TemplatePolicies(template.toJSON() as never, stack.stackName);
    const role = policies.arnOf(stack.getLogicalId(stack.sink.function.role?.node.defaultChild as never));
    const ec2 = (resource: string) => `arn:aws:ec2:${policies.env.region}:${policies.env.account}:${resource}`;
    // When Lambda manages the function's ENIs / Then the role is allowed each call
    const calls: [string, string][] = [
      ['ec2:CreateNetworkInterface', ec2('network-interface/*')],
      ['ec2:CreateNetworkInterface', ec2('subnet/subnet-0123456789abcdef0')],
      ['ec2:CreateNetworkInterface', ec2('security-group/sg-0123456789abcdef0')],
      ['ec2:DescribeNetworkInterfaces', '*'],
      ['ec2:DescribeSubnets', '*'],
      ['ec2:DeleteNetworkInterface', ec2('network-interface/eni-0123456789abcdef0')],
      ['ec2:AssignPrivateIpAddresses', ec2('network-interface/eni-0123456789abcdef0')],
      ['ec2:UnassignPrivateIpAddresses', ec2('network-interface/eni-0123456789abcdef0')],
    ];
    for (const [action, resource] of calls) {
      expect(await decide(policies, { principal: role, action, resource }), `${action} ${resource}`).toBe('Allowed');
    }
    // and in a subnet shared from another account (AWS RAM, VPC sharing), whose ARN names the owner's account: the
    // subnet resource has `*` for its account (the IAM engine cannot model RAM's sharing, so the statement is read)
    const subnetResources = policies
      .identityPolicies(role)
      .flatMap(({ policy }) => policy.Statement)
      .flatMap((statement) => [statement.Resource].flat())
      .filter((resource): resource is string => typeof resource === 'string' && resource.includes(':subnet/'));
    expect(subnetResources).toEqual([`arn:aws:ec2:${policies.env.region}:*:subnet/subnet-0123456789abcdef0`]);
    // but only the configured subnets
    expect(
      await decide(policies, {
        principal: role,
        action: 'ec2:CreateNetworkInterface',
        resource: ec2('subnet/subnet-0fffffffffffffff0'),
      }),
    ).not.toBe('Allowed');
    // and not in another account's network
    const foreign = ec2('network-interface/eni-0123456789abcdef0').replace(policies.env.account, '444455556666');
    expect(
      await decide(policies, { principal: role, action: 'ec2:DeleteNetworkInterface', resource: foreign }),
    ).not.toBe('Allowed');
    // and the forwarder, outside any VPC, gets none of it
    const forwarder = policies.arnOf(stack.getLogicalId(stack.forwarder.function.role?.node.defaultChild as never));
    expect(
      await decide(policies, {
        principal: forwarder,
        action: 'ec2:CreateNetworkInterface',
        resource: ec2('network-interface/*'),
      }),
    ).toBe('ImplicitlyDenied');
    // Lambda needs subnet ids only, so the missing route table ids are acknowledged, not left as a warning
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('routeTableId'))).toEqual([]);
  });

  it('creates an empty URI secret to fill, or uses an existing one', () => {
    const created = synth.template.findResources('AWS::SecretsManager::Secret', {
      Properties: { Description: Match.stringLikeRegexp('MongoDB') },
    });
    expect(Object.values(created).map((s) => s.Properties.SecretString)).toEqual(['{"uri":""}']);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas/telemetry-AbCdEf';
    const { template } = synthStack({ sink: { mongo: { uriSecretArn: arn } } });
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::Secret',
      { Description: Match.stringLikeRegexp('MongoDB') },
      0,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MONGODB_URI_SECRET_ID: arn }) },
    });
  });
});

describe('sink configuration', () => {
  const base = { stackName: 'P', kafka: { bootstrapServers: ['b:9092'], topic: 'telemetry' } };

  it('refuses a pool size that could exceed the cluster connection limit, naming the formula', () => {
    expect(() =>
      parseConfig({
        ...base,
        kafka: { ...base.kafka, partitions: 48 },
        sink: { mongo: { maxPoolSize: 5, connectionLimit: 500 } },
      }),
    ).toThrow(
      /sink\.mongo\.maxPoolSize: .*kafka\.partitions × replicaSetMembers × \(maxPoolSize \+ 2\) must stay within 80% of connectionLimit/,
    );
    expect(() =>
      parseConfig({
        ...base,
        kafka: { ...base.kafka, partitions: 48 },
        sink: { mongo: { maxPoolSize: 5, connectionLimit: 3_000 } },
      }),
    ).not.toThrow();
  });

  it('holds topic and dead-letter topic names to what Lambda accepts, at synth instead of at deploy', () => {
    // AWS Lambda API Reference, CreateEventSourceMapping → Topics: 1–249 characters, pattern ^[^.]([a-zA-Z0-9\-_.]+)
    // (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-Topics)
    // and to what Kafka accepts: ASCII letters, digits, '.', '_' and '-' only (Kafka's Topic.validate: "contains a
    // character other than ASCII alphanumerics, '.', '_' and '-'"); Lambda's first character is only "not a dot"
    for (const bad of ['.hidden', 'x', 'has space', 'a'.repeat(250), '#readings', ' readings', '/readings', 'é1']) {
      expect(() => parseConfig({ ...base, kafka: { ...base.kafka, topic: bad } }), bad).toThrow(/kafka\.topic: /);
      expect(() => parseConfig({ ...base, sink: { deadLetterTopic: bad } }), bad).toThrow(/sink\.deadLetterTopic: /);
    }
    for (const good of ['telemetry.readings.v1', 'a-b_c', 'a'.repeat(249), '_internal', '-x', '0.readings']) {
      expect(() => parseConfig({ ...base, kafka: { ...base.kafka, topic: good } }), good).not.toThrow();
    }
    // and the construct, used on its own, checks the same
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new MongoSink(stack, 'Sink', {
          bootstrapServers: ['b:9092'],
          topic: 'telemetry',
          consumerGroupId: 'g',
          deadLetterTopic: '.dlt',
          kafkaCredentials: new Secret(stack, 'K'),
          mongoUri: { create: true },
        }),
    ).toThrow(/deadLetterTopic: ".dlt" is not a topic name Lambda accepts/);
  });

  it('checks poller bounds and secret exclusivity', () => {
    expect(() => parseConfig({ ...base, sink: { provisionedPollers: { minimum: 5, maximum: 2 } } })).toThrow(
      /sink\.provisionedPollers\.minimum: minimum must not exceed maximum/,
    );
    expect(() =>
      parseConfig({
        ...base,
        sink: {
          mongo: { uriSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf', uriSecretName: 'a' },
        },
      }),
    ).toThrow(/sink\.mongo\.uriSecretName: set uriSecretArn or uriSecretName, not both/);
  });
});

describe('MongoSink validation', () => {
  /** A sink that passes every rule, in a stack that does not bundle. */
  const valid = (stack: Stack): MongoSinkProps => ({
    bootstrapServers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'],
    topic: 'readings',
    consumerGroupId: 'readings-sink',
    deadLetterTopic: 'readings.sink-dlt',
    kafkaCredentials: new Secret(stack, 'K'),
    mongoUri: { create: true },
  });
  const stackWithoutBundling = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
  const sink = (overrides: (stack: Stack) => Partial<MongoSinkProps>) => {
    const stack = stackWithoutBundling();
    return () => new MongoSink(stack, 'Sink', { ...valid(stack), ...overrides(stack) });
  };

  it('names its path and each bad prop', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new MongoSink(stack, 'Sink', {
          bootstrapServers: [],
          topic: 'same',
          consumerGroupId: 'same-sink',
          deadLetterTopic: 'same',
          kafkaCredentials: new Secret(stack, 'K'),
          mongoUri: { create: true },
          batchSize: 0,
          maxRecordAge: Duration.seconds(10),
        }),
    ).toThrow(
      /S\/Sink: invalid MongoSink props:\n.*bootstrapServers.*\n.*deadLetterTopic: must differ.*\n.*batchSize: 0.*\n.*maxRecordAge: 10 s/,
    );
  });

  it('reports every broken rule at once, in one typed error', () => {
    // Given props that break five rules
    const build = sink(() => ({
      bootstrapServers: ['broker'],
      deadLetterTopic: 'readings',
      batchSize: 20_000,
      provisionedPollers: { minimum: 3, maximum: 1 },
      maxRecordAge: Duration.days(30),
    }));
    // When the sink is built / Then one ConstructValidationError names the construct and all five, in rule order
    const error = (() => {
      try {
        build();
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect(error).toMatchObject({
      name: 'ConstructValidationError',
      constructPath: 'S/Sink',
      construct: 'MongoSink',
      problems: [
        'bootstrapServers: "broker" is not host:port',
        'deadLetterTopic: must differ from the source topic (Lambda refuses loops)',
        'batchSize: 20000 is outside 1–10000',
        'provisionedPollers: minimum 1–200, maximum minimum–2000',
        'maxRecordAge: 2592000 s is outside 60–604800',
      ],
    });
  });

  // Lambda's limits: EventSourceMappingConfiguration (BatchSize 1–10000, MaximumRecordAgeInSeconds 60–604800),
  // https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html; ProvisionedPollerConfig
  // (MinimumPollers 1–200, MaximumPollers up to 2000), https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html
  it.each<[string, Partial<MongoSinkProps>, string]>([
    ['no bootstrap server', { bootstrapServers: [] }, 'bootstrapServers: at least one host:port is required'],
    ['a server without a port', { bootstrapServers: ['broker'] }, 'bootstrapServers: "broker" is not host:port'],
    ['a topic Lambda refuses', { topic: 'bad topic' }, 'topic: "bad topic" is not a topic name Lambda accepts'],
    [
      'a dead-letter topic Lambda refuses',
      { deadLetterTopic: 'dlt/1' },
      'deadLetterTopic: "dlt/1" is not a topic name Lambda accepts',
    ],
    [
      'the source topic as dead-letter topic',
      { deadLetterTopic: 'readings' },
      'deadLetterTopic: must differ from the source topic (Lambda refuses loops)',
    ],
    ['a batch of 0', { batchSize: 0 }, 'batchSize: 0 is outside 1–10000'],
    ['a batch over 10,000', { batchSize: 10_001 }, 'batchSize: 10001 is outside 1–10000'],
    [
      'no minimum poller',
      { provisionedPollers: { minimum: 0, maximum: 3 } },
      'provisionedPollers: minimum 1–200, maximum minimum–2000',
    ],
    [
      'more than 200 minimum pollers',
      { provisionedPollers: { minimum: 201, maximum: 300 } },
      'provisionedPollers: minimum 1–200, maximum minimum–2000',
    ],
    [
      'a maximum below the minimum',
      { provisionedPollers: { minimum: 5, maximum: 2 } },
      'provisionedPollers: minimum 1–200, maximum minimum–2000',
    ],
    [
      'more than 2,000 pollers',
      { provisionedPollers: { minimum: 1, maximum: 2_001 } },
      'provisionedPollers: minimum 1–200, maximum minimum–2000',
    ],
    ['a record age under a minute', { maxRecordAge: Duration.seconds(59) }, 'maxRecordAge: 59 s is outside 60–604800'],
    ['a record age over 7 days', { maxRecordAge: Duration.days(8) }, 'maxRecordAge: 691200 s is outside 60–604800'],
  ])('refuses %s, naming the prop', (_, bad, problem) => {
    // Given props that break one rule / When the sink is built / Then that problem alone is reported
    expect(sink(() => bad)).toThrow(new ConstructValidationError('S/Sink', 'MongoSink', [problem]));
  });

  it('reports a source topic and a record age known only at deploy time, which aws-cdk-lib needs at synth', () => {
    // Given both as CloudFormation parameters
    const tokens = (stack: Stack): Partial<MongoSinkProps> => ({
      topic: new CfnParameter(stack, 'Topic').valueAsString,
      maxRecordAge: Duration.seconds(new CfnParameter(stack, 'Age', { type: 'Number' }).valueAsNumber),
    });
    // When the sink is built / Then both are named, instead of an error from inside aws-cdk-lib
    expect(sink(tokens)).toThrow(
      new ConstructValidationError('S/Sink', 'MongoSink', [
        "topic: must be known at synth time (aws-cdk-lib's Kafka event source names its mapping after it)",
        "maxRecordAge: must be known at synth time (aws-cdk-lib's EventSourceMapping checks its range)",
      ]),
    );
  });

  it('builds with the limits themselves, and on demand without pollers', () => {
    const limits: Partial<MongoSinkProps> = {
      batchSize: 10_000,
      provisionedPollers: { minimum: 200, maximum: 2_000 },
      maxRecordAge: Duration.days(7),
    };
    expect(sink(() => limits)).not.toThrow();
    expect(sink(() => ({ batchSize: 1, maxRecordAge: Duration.seconds(60), provisionedPollers: null }))).not.toThrow();
  });

  it('leaves values known only at deploy time to CloudFormation', () => {
    // Given the props a rule reads as CloudFormation parameters (tokens), but for the two aws-cdk-lib needs at synth
    // time (the topic and maxRecordAge, reported above)
    const tokens = (stack: Stack): Partial<MongoSinkProps> => {
      const parameter = (id: string, type = 'String') => new CfnParameter(stack, id, { type });
      return {
        bootstrapServers: parameter('Servers', 'CommaDelimitedList').valueAsList,
        deadLetterTopic: parameter('DeadLetterTopic').valueAsString,
        batchSize: parameter('BatchSize', 'Number').valueAsNumber,
        provisionedPollers: {
          minimum: parameter('MinimumPollers', 'Number').valueAsNumber,
          maximum: parameter('MaximumPollers', 'Number').valueAsNumber,
        },
      };
    };
    // When the sink is built and synthesized / Then no rule reported them (the token's text is no topic name, nor
    // host:port), and the mapping refers to the parameters
    const stack = stackWithoutBundling();
    new MongoSink(stack, 'Sink', { ...valid(stack), ...tokens(stack) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: { Ref: 'Servers' } } },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::Join': ['', ['kafka://', { Ref: 'DeadLetterTopic' }]] } } },
      BatchSize: { Ref: 'BatchSize' },
      ProvisionedPollerConfig: { MinimumPollers: { Ref: 'MinimumPollers' }, MaximumPollers: { Ref: 'MaximumPollers' } },
    });
  });
});

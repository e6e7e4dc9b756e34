import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { ConstructValidationError } from '../../../lib/core/validation';
import { KafkaForwarder, type KafkaForwarderProps } from '../../../lib/forward/kafka-forwarder';

describe('KafkaForwarder validation', () => {
  /** A forwarder that passes every rule, in a stack that does not bundle. */
  const forwarder = (overrides: (stack: Stack) => Partial<KafkaForwarderProps>) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const valid: KafkaForwarderProps = {
      queue: new Queue(stack, 'Q'),
      deadLetterQueue: new Queue(stack, 'D'),
      bootstrapServers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'],
      topic: 'readings',
      credentials: { create: true },
    };
    return () => new KafkaForwarder(stack, 'Fwd', { ...valid, ...overrides(stack) });
  };

  it('names its path and each bad prop', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new KafkaForwarder(stack, 'Fwd', {
          queue: new Queue(stack, 'Q'),
          deadLetterQueue: new Queue(stack, 'D'),
          bootstrapServers: ['nohost'],
          topic: 'bad topic',
          credentials: { create: true },
          batchSize: 20_000,
          maxConcurrency: 1,
        }),
    ).toThrow(
      /S\/Fwd: invalid KafkaForwarder props:\n.*bootstrapServers: "nohost".*\n.*topic: .*\n.*batchSize: 20000.*\n.*maxConcurrency: 1/,
    );
  });

  // Lambda's limits for an SQS event source: EventSourceMappingConfiguration (BatchSize 1–10000; "When you set
  // BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to at least 1"),
  // https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html; ScalingConfig
  // (MaximumConcurrency 2–1000), https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html
  it.each<[string, Partial<KafkaForwarderProps>, string]>([
    ['no bootstrap server', { bootstrapServers: [] }, 'bootstrapServers: at least one host:port is required'],
    ['a server without a port', { bootstrapServers: ['broker'] }, 'bootstrapServers: "broker" is not host:port'],
    ['a topic Lambda refuses', { topic: 'a/b' }, 'topic: "a/b" is not a topic name Lambda accepts'],
    ['a batch of 0', { batchSize: 0 }, 'batchSize: 0 is outside 1–10000'],
    ['a batch over 10,000', { batchSize: 10_001 }, 'batchSize: 10001 is outside 1–10000'],
    [
      'a batch over 10 without a one-second window',
      { batchSize: 11, maxBatchingWindow: Duration.millis(500) },
      'maxBatchingWindow: must be at least 1 second when batchSize is above 10',
    ],
    ['a concurrency of 1', { maxConcurrency: 1 }, 'maxConcurrency: 1 is outside 2–1000'],
    ['a concurrency over 1,000', { maxConcurrency: 1_001 }, 'maxConcurrency: 1001 is outside 2–1000'],
  ])('refuses %s, naming the prop', (_, bad, problem) => {
    // Given props that break one rule / When the forwarder is built / Then that problem alone is reported
    expect(forwarder(() => bad)).toThrow(new ConstructValidationError('S/Fwd', 'KafkaForwarder', [problem]));
  });

  it('builds with the limits themselves, and with a batch of 10 and no window', () => {
    expect(
      forwarder(() => ({ batchSize: 10_000, maxBatchingWindow: Duration.seconds(1), maxConcurrency: 1_000 })),
    ).not.toThrow();
    expect(
      forwarder(() => ({ batchSize: 10, maxBatchingWindow: Duration.seconds(0), maxConcurrency: 2 })),
    ).not.toThrow();
  });

  it('leaves values known only at deploy time to CloudFormation', () => {
    // Given the props a rule reads as CloudFormation parameters (tokens), a token per bootstrap server
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const parameter = (id: string, type = 'String') => new CfnParameter(stack, id, { type });
    new KafkaForwarder(stack, 'Fwd', {
      queue: new Queue(stack, 'Q'),
      deadLetterQueue: new Queue(stack, 'D'),
      credentials: { create: true },
      bootstrapServers: [parameter('Server').valueAsString, 'b2:9092'],
      topic: parameter('Topic').valueAsString,
      batchSize: parameter('BatchSize', 'Number').valueAsNumber,
      maxBatchingWindow: Duration.seconds(parameter('Window', 'Number').valueAsNumber),
      maxConcurrency: parameter('Concurrency', 'Number').valueAsNumber,
    });
    // When it is synthesized / Then no rule reported them, and the template refers to the parameters
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: { Ref: 'BatchSize' },
      ScalingConfig: { MaximumConcurrency: { Ref: 'Concurrency' } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KAFKA_TOPIC: { Ref: 'Topic' } }) },
    });
  });

  it('reports a list token for the bootstrap servers, which it joins into one variable', () => {
    // Given the servers as one CloudFormation list parameter
    const servers = (stack: Stack) => new CfnParameter(stack, 'Servers', { type: 'CommaDelimitedList' }).valueAsList;
    // When the forwarder is built / Then the problem is named, not left to a resolution error at synth
    expect(forwarder((stack) => ({ bootstrapServers: servers(stack) }))).toThrow(
      new ConstructValidationError('S/Fwd', 'KafkaForwarder', [
        'bootstrapServers: must be known at synth time (joined into KAFKA_BROKERS; pass a list with a token per server instead)',
      ]),
    );
  });
});

describe('KafkaForwarder event source', () => {
  it('keeps the mapping its SQS event source created', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const built = new KafkaForwarder(stack, 'Fwd', {
      queue: new Queue(stack, 'Q'),
      deadLetterQueue: new Queue(stack, 'D'),
      bootstrapServers: ['b:9092'],
      topic: 'readings',
      credentials: { create: true },
    });
    expect(built.eventSourceMapping.node.scope).toBe(built.function);
    expect(stack.resolve(built.eventSourceMapping.eventSourceMappingId)).toEqual(
      stack.resolve(built.eventSource.eventSourceMappingId),
    );
  });
});

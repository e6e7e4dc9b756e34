import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventSourceMapping, type IEventSource, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { PipelineFunction } from '../../../lib/core/pipeline-function';

/** A pipeline function in a stack that does not bundle. */
function pipelineFunction(): PipelineFunction {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
  return new PipelineFunction(stack, 'Fn', {
    entry: join(__dirname, '..', '..', '..', 'lambdas', 'sink', 'handler.ts'),
    serviceName: 'test',
    metricsNamespace: 'Test',
    memorySize: 128,
    timeout: Duration.seconds(3),
    logRetention: RetentionDays.ONE_DAY,
  });
}

/** An event source that creates `count` mappings on the function it is bound to. */
const creating = (count: number): IEventSource => ({
  bind: (target: IFunction) => {
    for (let i = 0; i < count; i++)
      target.addEventSourceMapping(`Mapping${i}`, {
        kafkaBootstrapServers: ['b:9092'],
        kafkaTopic: `t${i}`,
        startingPosition: StartingPosition.TRIM_HORIZON,
      });
  },
});

describe('PipelineFunction.addEventSourceWithMapping', () => {
  it('returns the event source mapping the source created, the one in the template', () => {
    // Given a function and an SQS event source (which hands back only the mapping's id)
    const fn = pipelineFunction();
    const source = new SqsEventSource(new Queue(fn, 'Q'));
    // When the source is added through addEventSourceWithMapping
    const mapping = fn.addEventSourceWithMapping(source);
    // Then the mapping returned is the mapping construct the source made, and the one resource of its kind
    expect(mapping).toBeInstanceOf(EventSourceMapping);
    const stack = Stack.of(fn);
    expect(stack.resolve(mapping.eventSourceMappingId)).toEqual(stack.resolve(source.eventSourceMappingId));
    const resources = Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping');
    expect(Object.keys(resources)).toEqual([stack.getLogicalId(mapping.node.defaultChild as never)]);
  });

  it('returns each source’s own mapping when a function has several', () => {
    const fn = pipelineFunction();
    const first = fn.addEventSourceWithMapping(creating(1));
    fn.addEventSourceMapping('Direct', {
      kafkaBootstrapServers: ['b:9092'],
      kafkaTopic: 'direct',
      startingPosition: StartingPosition.TRIM_HORIZON,
    });
    const second = fn.addEventSourceWithMapping(new SqsEventSource(new Queue(fn, 'Q')));
    expect(first.node.id).toBe('Mapping0');
    expect(second).not.toBe(first);
    expect(second.node.id).not.toBe('Direct');
  });

  it.each([
    [0, /S\/Fn: the event source created 0 event source mappings, not 1/],
    [2, /S\/Fn: the event source created 2 event source mappings, not 1/],
  ])('refuses a source that created %i mappings, naming the function', (count, message) => {
    expect(() => pipelineFunction().addEventSourceWithMapping(creating(count))).toThrow(message);
  });
});

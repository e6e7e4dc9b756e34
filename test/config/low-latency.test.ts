/**
 * config/low-latency.json, the documented low-latency profile (README, "Latency profile"): valid, and synthesized
 * into event sources that invoke as soon as records are there.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load';
import { TelemetryPipelineStack } from '../../lib/telemetry-pipeline-stack';
import { cdkJsonContext } from '../helpers/synth';

function synthesize() {
  const config = loadConfig('low-latency');
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new TelemetryPipelineStack(app, config.stackName, { config }));
}

describe('config/low-latency.json', () => {
  it('passes the configuration schema with no batching window on either event source', () => {
    // Given the documented low-latency profile, config/low-latency.json
    // When the profile is loaded as `cdk synth -c env=low-latency` loads it
    const config = loadConfig('low-latency');

    // Then neither event source waits to fill a batch
    expect(config.forwarder).toMatchObject({ batchSize: 10, maxBatchingWindowSeconds: 0 });
    expect(config.sink).toMatchObject({ maxBatchingWindowSeconds: 0, provisionedPollers: { minimum: 3, maximum: 3 } });
  });

  it('synthesizes an SQS event source of batches of 10 with no batching window', () => {
    // "For streams and Amazon SQS event sources, when you set BatchSize to a value greater than 10, you must set
    // MaximumBatchingWindowInSeconds to at least 1" — Lambda API reference, MaximumBatchingWindowInSeconds
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html): 10 is the largest batch without one
    // Given the stack synthesized from the low-latency profile
    // When its SQS event source mapping is read
    // Then it takes batches of 10 with no batching window
    synthesize().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.objectLike({ 'Fn::GetAtt': Match.arrayWith([Match.stringLikeRegexp('Ingest')]) }),
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
    });
  });

  it('synthesizes a Kafka event source in provisioned mode with a batching window of 0, as AWS requires for low latency', () => {
    // "Enable provisioned mode" and "Set the event source mapping's MaximumBatchingWindowInSeconds parameter to 0";
    // the same minimum and maximum pollers disable the autoscaling whose rebalances add latency — AWS Lambda
    // Developer Guide, "Low latency processing for Kafka event sources"
    // (https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-low-latency.html). Left out, the window would be
    // the Kafka default of 500 ms (kafka-esm-parameters.html), not 0.
    // Given the stack synthesized from the low-latency profile
    // When its Kafka event source mapping is read
    // Then it is provisioned with equal minimum and maximum pollers and no batching window
    synthesize().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: Match.anyValue(),
      MaximumBatchingWindowInSeconds: 0,
      ProvisionedPollerConfig: { MinimumPollers: 3, MaximumPollers: 3 },
    });
  });
});

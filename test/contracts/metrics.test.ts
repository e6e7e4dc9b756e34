import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, ServiceName } from '../../contracts/metrics';
import { SINK_METRICS } from '../../ops/status';
import { synthStack } from '../helpers/synth';

describe('metric names', () => {
  it('are published where `status` reads them: the namespace and service the functions are deployed with', () => {
    // Given the stack from config/dev.json
    const { stack } = synthStack();
    // When each function's metric namespace and dimensions are read
    const sink = stack.sink.function;
    const forwarder = stack.forwarder.function;
    // Then they are the contract's, and `status` reads the sink's under the same
    expect(sink.metricsNamespace).toBe(METRICS_NAMESPACE);
    expect(forwarder.metricsNamespace).toBe(METRICS_NAMESPACE);
    expect(sink.metricDimensions).toEqual({ service: ServiceName.Sink, pipeline: stack.stackName });
    expect(forwarder.metricDimensions).toEqual({ service: ServiceName.Forwarder, pipeline: stack.stackName });
    expect(SINK_METRICS).toEqual({ namespace: sink.metricsNamespace, service: sink.metricDimensions.service });
  });
});

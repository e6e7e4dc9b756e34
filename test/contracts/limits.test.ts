import { describe, expect, it } from 'vitest';
import { consumerVisibilityTimeoutSeconds, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS } from '../../contracts/limits';
import { synthStack } from '../helpers/synth';

describe('consumerVisibilityTimeoutSeconds', () => {
  it.each([
    { timeout: 30, window: 1, expected: 181 },
    { timeout: 120, window: 5, expected: 725 },
    { timeout: 900, window: 300, expected: 5_700 },
    { timeout: 10, window: undefined, expected: 60 },
  ])('is 6 × $timeout s + a $window s window = $expected s', ({ timeout, window, expected }) => {
    // Given a function timeout and batching window / When the queue's visibility timeout is derived / Then
    expect(consumerVisibilityTimeoutSeconds(timeout, window)).toBe(expected);
  });

  it('stays within SQS for every forwarder timeout and window the configuration allows', () => {
    // Given the configuration's largest timeout (900 s) and window (300 s) / Then SQS accepts the result
    expect(consumerVisibilityTimeoutSeconds(900, 300)).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS);
  });

  it("is the one the configuration resolves and the stack's ingest queue gets", () => {
    // Given a configuration with a longer forwarder timeout and window
    // When the stack is synthesized from it
    const { template, config } = synthStack({ forwarder: { timeoutSeconds: 120, maxBatchingWindowSeconds: 5 } });
    // Then the configuration's resolved value is the ingest queue's
    expect(config.ingest.visibilityTimeoutSeconds).toBe(725);
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: config.ingest.visibilityTimeoutSeconds });
  });
});

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PIPELINE_NAME_VARIABLE } from '../../../contracts/environment';
import { PIPELINE_DIMENSION } from '../../../contracts/metrics';

/** Imports a fresh copy of the shared Powertools module under the given environment. */
async function freshPowertools(env: Record<string, string>) {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return import('../../../lambdas/shared/powertools');
}

/** The EMF documents Powertools writes to stdout while `action` runs. */
function emfWrittenBy(action: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    action();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('shared Powertools metrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('publishes every metric with the service and the pipeline as its dimension set', async () => {
    // Given the environment PipelineFunction sets
    const { metrics } = await freshPowertools({
      POWERTOOLS_SERVICE_NAME: 'telemetry-sink',
      POWERTOOLS_METRICS_NAMESPACE: 'TelemetryPipeline',
      POWERTOOLS_METRICS_DISABLED: 'false',
      [PIPELINE_NAME_VARIABLE]: 'TelemetryPipeline-prod',
    });

    // When a metric is flushed
    const [document] = emfWrittenBy(() => {
      metrics.addMetric('ReadingsWritten', MetricUnit.Count, 3);
      metrics.publishStoredMetrics();
    });

    // Then it carries exactly the two dimensions the dashboard and alarms query
    const directive = (document!._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] })
      .CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('TelemetryPipeline');
    expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([[PIPELINE_DIMENSION, 'service'].sort()]);
    expect(document?.service).toBe('telemetry-sink');
    expect(document?.[PIPELINE_DIMENSION]).toBe('TelemetryPipeline-prod');
    expect(document?.ReadingsWritten).toBe(3);
  });

  it('adds no pipeline dimension where none is configured (local runs)', async () => {
    const { metrics } = await freshPowertools({
      POWERTOOLS_SERVICE_NAME: 'telemetry-forwarder',
      POWERTOOLS_METRICS_NAMESPACE: 'TelemetryPipeline',
      POWERTOOLS_METRICS_DISABLED: 'false',
    });
    const [document] = emfWrittenBy(() => {
      metrics.addMetric('RecordsForwarded', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    });
    const directive = (document!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0];
    expect(directive?.Dimensions).toEqual([['service']]);
  });

  it('fails the cold start, naming the variable, when the pipeline name is malformed', async () => {
    await expect(freshPowertools({ [PIPELINE_NAME_VARIABLE]: 'not a stack name' })).rejects.toThrow(
      /Invalid environment: PIPELINE_NAME: expected the stack name/,
    );
  });
});

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PIPELINE_NAME_VARIABLE } from '../../../contracts/environment';
import { PIPELINE_DIMENSION } from '../../../contracts/metrics';
import { lambdaContext } from '../../helpers/factories';

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

/** The JSON lines (logs and EMF documents) written to stdout while `action` runs. */
async function linesWrittenBy<T>(
  action: () => Promise<T>,
): Promise<{ lines: Record<string, unknown>[]; outcome: T | Error }> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  let outcome: T | Error;
  try {
    outcome = await action().catch((error: Error) => error);
  } finally {
    write.mockRestore();
  }
  const lines = chunks
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, outcome };
}

const isEmf = (line: Record<string, unknown>) => '_aws' in line;

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

describe('withPowertools', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** The shared module with logs and metrics on, in an on-demand execution environment as Lambda sets it up. */
  const deployed = () =>
    freshPowertools({
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_SERVICE_NAME: 'telemetry-forwarder',
      POWERTOOLS_METRICS_NAMESPACE: 'TelemetryPipeline',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      [PIPELINE_NAME_VARIABLE]: 'TelemetryPipeline-prod',
    });

  it('gives every log line the invocation context and flushes the metrics once, with a cold start first', async () => {
    // Given a handler that logs and records a metric, wrapped
    const { logger, metrics, withPowertools } = await deployed();
    const handler = withPowertools(async (event: { records: number }) => {
      logger.info('forwarding');
      metrics.addMetric('RecordsForwarded', MetricUnit.Count, event.records);
      return { batchItemFailures: [] };
    });
    const first = lambdaContext(30_000, 'telemetry-forwarder');
    const second = lambdaContext(30_000, 'telemetry-forwarder');

    // When it is invoked twice in one container
    const cold = await linesWrittenBy(() => handler({ records: 3 }, first));
    const warm = await linesWrittenBy(() => handler({ records: 2 }, second));

    // Then it answers as the handler did, each log line names its own request, each invocation flushes its metrics
    // once, and only the first carries the cold start
    expect(cold.outcome).toEqual({ batchItemFailures: [] });
    const log = (lines: Record<string, unknown>[]) => lines.find((line) => line.message === 'forwarding');
    expect(log(cold.lines)).toMatchObject({ function_request_id: first.awsRequestId, cold_start: true });
    expect(log(warm.lines)).toMatchObject({ function_request_id: second.awsRequestId, cold_start: false });
    expect(cold.lines.filter(isEmf).find((line) => 'RecordsForwarded' in line)?.RecordsForwarded).toBe(3);
    expect(cold.lines.filter(isEmf).find((line) => 'ColdStart' in line)).toMatchObject({
      ColdStart: 1,
      function_name: 'telemetry-forwarder',
    });
    expect(warm.lines.filter(isEmf).map((line) => line.RecordsForwarded)).toEqual([2]);
  });

  it('flushes the metrics of an invocation that throws, and throws the same error', async () => {
    // Given a handler that records a metric, then fails the batch (as the sink does without partial responses)
    const { metrics, withPowertools } = await deployed();
    const failure = Object.assign(new Error('3 records not stored'), { name: 'BatchNotStoredError' });
    const handler = withPowertools(async () => {
      metrics.addMetric('SinkRecordsFailed', MetricUnit.Count, 3);
      throw failure;
    });

    // When it is invoked
    const { lines, outcome } = await linesWrittenBy(() => handler({}, lambdaContext()));

    // Then Lambda sees the handler's own error, and the metrics reached the log all the same
    expect(outcome).toBe(failure);
    expect(lines.filter(isEmf).find((line) => 'SinkRecordsFailed' in line)?.SinkRecordsFailed).toBe(3);
  });

  it('leaves the deadline to the handler: no early timeout, however little time is left', async () => {
    // Given a handler that answers after its own short wait, and an invocation with no time left on the clock
    const { withPowertools } = await deployed();
    const handler = withPowertools(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { batchItemFailures: [{ itemIdentifier: 'm-1' }] };
    });

    // When it is invoked
    const { outcome } = await linesWrittenBy(() => handler({}, lambdaContext(0)));

    // Then the handler's batch response comes back (middy's early timeout would replace it with a TimeoutError)
    expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

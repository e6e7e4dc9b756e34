/**
 * The small logging and metrics interfaces the pure cores depend on. Powertools' Logger and Metrics satisfy them,
 * and so do the in-memory recorders in the tests.
 */
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';

/** Structured log attributes: JSON-serialisable values. */
export type LogFields = LogAttributes;

export interface LoggerPort {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

export interface MetricsPort {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void;
}

/**
 * The EMF dimension that keeps two pipelines in one account apart: every metric of a function carries
 * `pipeline = <stack name>` next to Powertools' `service`. The value comes from the environment variable below,
 * set by `PipelineFunction`; the dashboard and alarms use the same two names.
 */
export const PIPELINE_DIMENSION = 'pipeline';
export const PIPELINE_NAME_VARIABLE = 'PIPELINE_NAME';

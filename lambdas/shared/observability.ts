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

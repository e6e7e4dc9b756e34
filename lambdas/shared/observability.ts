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
 * The longest log line a function writes about records, as serialised attributes. Details quote producer input
 * (key names, values); each is already cut at `MAX_FAILURE_DETAIL_CHARS`, and this caps what a handful of them add up
 * to, so one batch of hostile records cannot write lines of hundreds of kilobytes.
 */
export const MAX_LOG_FIELDS_CHARS = 8_000;

/**
 * `fields` cut to fit `maxChars` once serialised: the last items of the longest lists go first, then the longest
 * strings are halved; `truncated: true` says something was left out. Fields that fit come back as they are.
 */
export function boundedFields(fields: LogFields, maxChars: number = MAX_LOG_FIELDS_CHARS): LogFields {
  if (JSON.stringify(fields).length <= maxChars) return fields;
  const copy: Record<string, unknown> = { ...fields, truncated: true };
  for (const [key, value] of Object.entries(copy)) if (Array.isArray(value)) copy[key] = [...value];
  for (let round = 0; round < 64 && JSON.stringify(copy).length > maxChars; round++) {
    const lists = Object.entries(copy).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]));
    const longest = lists.sort((a, b) => JSON.stringify(b[1]).length - JSON.stringify(a[1]).length)[0];
    if (longest && longest[1].length > 0) {
      longest[1].pop();
      continue;
    }
    const strings = Object.entries(copy).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    const widest = strings.sort((a, b) => b[1].length - a[1].length)[0];
    if (!widest || widest[1].length < 2) break;
    copy[widest[0]] = Array.from(widest[1])
      .slice(0, Math.floor(widest[1].length / 2))
      .join('');
  }
  return copy as LogFields;
}

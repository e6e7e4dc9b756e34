/**
 * Alarm thresholds of the monitoring stage in one table: each one's default and accepted range. The configuration
 * schema (`alarms.*`), the monitoring construct's validation and the README's runbook all read them from here.
 */

/** What each alarm compares against. Every field has its default and range in `ALARM_THRESHOLD_RANGES`. */
export interface AlarmThresholds {
  /** Oldest ingest-queue message, in seconds (1-minute maximum, 3 minutes in a row). */
  readonly maxIngestAgeSeconds: number;
  /** Visible messages tolerated in the ingest dead-letter queue (alarm when more). */
  readonly maxDeadLetterMessages: number;
  /** Visible messages tolerated in the IoT rule error queue (alarm when more). */
  readonly maxErrorQueueMessages: number;
  /** Failed IoT rule action invocations per rule in 5 minutes (alarm when more). */
  readonly maxRuleActionFailures: number;
  /** Records the sink's consumer group is behind the topic (function `OffsetLag`, 5 minutes in a row). */
  readonly maxOffsetLag: number;
  /** p99 of IoT receive → stored in MongoDB, in seconds (2 of 3 five-minute periods). */
  readonly maxFreshnessP99Seconds: number;
  /** Failed forwarder invocations, percent of invocations in 5 minutes (alarm when more). */
  readonly maxForwarderErrorRatePercent: number;
  /** Failed sink invocations, percent of invocations in 5 minutes (alarm when more). */
  readonly maxSinkErrorRatePercent: number;
  /** Records not acknowledged by Kafka (forwarder) or not stored (sink), percent of records (2 of 3 × 5 min). */
  readonly maxRecordsFailedPercent: number;
}

/** One threshold's default and the values it accepts: `min` to `max` inclusive, whole numbers only if `integer`. */
export interface ThresholdRange {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** A message or failure count an alarm tolerates. */
const count = (defaultValue: number): ThresholdRange => ({
  default: defaultValue,
  min: 0,
  max: 1_000_000,
  integer: true,
});
/** A share in percent; fractions allowed (0.5 = one in two hundred). */
const percent = (defaultValue: number): ThresholdRange => ({ default: defaultValue, min: 0, max: 100, integer: false });

export const ALARM_THRESHOLD_RANGES: { readonly [K in keyof AlarmThresholds]: ThresholdRange } = {
  maxIngestAgeSeconds: { default: 300, min: 60, max: 86_400, integer: true },
  maxDeadLetterMessages: count(0),
  maxErrorQueueMessages: count(0),
  maxRuleActionFailures: count(0),
  maxOffsetLag: { default: 10_000, min: 0, max: 1_000_000_000, integer: true },
  maxFreshnessP99Seconds: { default: 120, min: 1, max: 86_400, integer: true },
  maxForwarderErrorRatePercent: percent(1),
  maxSinkErrorRatePercent: percent(1),
  maxRecordsFailedPercent: percent(5),
};

const fields = Object.keys(ALARM_THRESHOLD_RANGES) as (keyof AlarmThresholds)[];

// Object.fromEntries types its keys as string: the mapping over every field is what makes this an AlarmThresholds
export const DEFAULT_ALARM_THRESHOLDS: Readonly<AlarmThresholds> = Object.fromEntries(
  fields.map((field) => [field, ALARM_THRESHOLD_RANGES[field].default]),
) as unknown as AlarmThresholds;

/** Problems with thresholds, one line per bad field. */
export function thresholdProblems(thresholds: Partial<AlarmThresholds>): string[] {
  return fields.flatMap((field) => {
    const value = thresholds[field];
    const { min, max, integer } = ALARM_THRESHOLD_RANGES[field];
    if (value === undefined) return [];
    if (!(Number.isFinite(value) && value >= min && value <= max)) {
      return [`thresholds.${field}: ${value} is outside ${min}–${max}`];
    }
    return integer && !Number.isInteger(value) ? [`thresholds.${field}: ${value} is not a whole number`] : [];
  });
}

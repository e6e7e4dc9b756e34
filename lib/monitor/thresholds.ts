/**
 * Alarm thresholds of the monitoring stage and their defaults, in one place: the configuration schema
 * (`alarms.*`) and the README's runbook take their defaults from here.
 */

/** What each alarm compares against. Every field has a default in `DEFAULT_ALARM_THRESHOLDS`. */
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

export const DEFAULT_ALARM_THRESHOLDS: Readonly<AlarmThresholds> = {
  maxIngestAgeSeconds: 300,
  maxDeadLetterMessages: 0,
  maxErrorQueueMessages: 0,
  maxRuleActionFailures: 0,
  maxOffsetLag: 10_000,
  maxFreshnessP99Seconds: 120,
  maxForwarderErrorRatePercent: 1,
  maxSinkErrorRatePercent: 1,
  maxRecordsFailedPercent: 5,
};

/** Problems with thresholds, one line per bad field. */
export function thresholdProblems(thresholds: Partial<AlarmThresholds>): string[] {
  const problems: string[] = [];
  const check = (field: keyof AlarmThresholds, min: number, max: number) => {
    const value = thresholds[field];
    if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max)) {
      problems.push(`thresholds.${field}: ${value} is outside ${min}–${max}`);
    }
  };
  check('maxIngestAgeSeconds', 60, 86_400);
  check('maxDeadLetterMessages', 0, 1_000_000);
  check('maxErrorQueueMessages', 0, 1_000_000);
  check('maxRuleActionFailures', 0, 1_000_000);
  check('maxOffsetLag', 0, 1_000_000_000);
  check('maxFreshnessP99Seconds', 1, 86_400);
  check('maxForwarderErrorRatePercent', 0, 100);
  check('maxSinkErrorRatePercent', 0, 100);
  check('maxRecordsFailedPercent', 0, 100);
  return problems;
}

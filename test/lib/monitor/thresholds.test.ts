import { describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from '../../../lib/config/schema';
import {
  ALARM_THRESHOLD_RANGES,
  type AlarmThresholds,
  DEFAULT_ALARM_THRESHOLDS,
  thresholdProblems,
} from '../../../lib/monitor/thresholds';

const fields = Object.keys(ALARM_THRESHOLD_RANGES) as (keyof AlarmThresholds)[];
const alarmsSchema = PipelineConfigSchema.in.shape.alarms;

describe('alarm thresholds: one table for the config schema and the construct', () => {
  it.each(fields)('%s: the config and the construct accept its range and refuse just outside it', (field) => {
    // Given the threshold's range in the table
    const { min, max, integer } = ALARM_THRESHOLD_RANGES[field];
    const below = min - (integer ? 1 : 0.5);
    const above = max + (integer ? 1 : 0.5);
    for (const value of [min, max]) {
      // When a value at either end is configured / Then both accept it
      expect(alarmsSchema.safeParse({ [field]: value }).success, `${field}=${value}`).toBe(true);
      expect(thresholdProblems({ [field]: value }), `${field}=${value}`).toEqual([]);
    }
    for (const value of [below, above]) {
      // When a value just outside is configured / Then both refuse it, naming the field
      expect(alarmsSchema.safeParse({ [field]: value }).success, `${field}=${value}`).toBe(false);
      expect(thresholdProblems({ [field]: value })).toEqual([expect.stringContaining(`thresholds.${field}: ${value}`)]);
    }
  });

  it.each(fields.filter((field) => ALARM_THRESHOLD_RANGES[field].integer))(
    '%s: both refuse a fraction, as the threshold counts whole things',
    (field) => {
      const value = ALARM_THRESHOLD_RANGES[field].min + 0.5;
      expect(alarmsSchema.safeParse({ [field]: value }).success).toBe(false);
      expect(thresholdProblems({ [field]: value })).toEqual([`thresholds.${field}: ${value} is not a whole number`]);
    },
  );

  it('fills every default of the table into the config', () => {
    // Given no alarm settings / Then the schema's defaults are the table's
    expect(alarmsSchema.parse({})).toEqual(DEFAULT_ALARM_THRESHOLDS);
    expect(fields.map((field) => DEFAULT_ALARM_THRESHOLDS[field])).toEqual(
      fields.map((field) => ALARM_THRESHOLD_RANGES[field].default),
    );
    // And each default lies in its own range
    for (const field of fields) expect(thresholdProblems({ [field]: DEFAULT_ALARM_THRESHOLDS[field] })).toEqual([]);
  });

  it('configures exactly the thresholds the table names, besides the e-mail', () => {
    expect(Object.keys(alarmsSchema.unwrap().shape).sort()).toEqual(['email', ...fields].sort());
  });
});

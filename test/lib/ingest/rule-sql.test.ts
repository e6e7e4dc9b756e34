/**
 * The IoT rule SQL (`buildRuleSql`) against its TypeScript twin (`contracts/enrichment.ts`) and the envelope schema
 * (`contracts/envelope.ts`): the three name the same fields in the same order, so none can drift from the others.
 */
import { describe, expect, it } from 'vitest';
import { DEVICE_FIELDS, ENRICHMENT_FIELDS } from '../../../contracts/enrichment';
import { TelemetryEnvelopeSchema } from '../../../contracts/envelope';
import { buildRuleSql } from '../../../lib/ingest/rule-sql';

describe('buildRuleSql', () => {
  it('builds rule SQL whose projection matches the TypeScript twin and the envelope, field for field', () => {
    // Given the SQL of a rule whose device id is the second topic level
    const sql = buildRuleSql('site/+/sensors/telemetry');
    // When its projection is split into the device's own fields and the rule's aliases
    const projection = /^SELECT (.*) FROM '[^']*'$/.exec(sql)?.[1] ?? '';
    const items = topLevelItems(projection);
    const deviceFields = items.filter((item) => !/ AS \w+$/.test(item));
    const aliases = items.flatMap((item) => / AS (\w+)$/.exec(item)?.[1] ?? []);
    // Then there is no `*`: what IoT does when the payload repeats an alias is undocumented, so the device's own fields are named
    // (AWS IoT Core Developer Guide, "SELECT clause": https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-select.html)
    expect(projection).not.toMatch(/(^|,\s*)\*/);
    expect(deviceFields).toEqual([...DEVICE_FIELDS]);
    expect(aliases).toEqual([...ENRICHMENT_FIELDS]);
    // Together they are exactly the envelope's fields, so the schema and the projection cannot drift apart
    expect([...deviceFields, ...aliases].sort()).toEqual(Object.keys(TelemetryEnvelopeSchema.shape).sort());
    expect(sql).toContain('topic(2) AS deviceId');
    expect(sql).toMatch(/sha256\(concat\(topic\(2\), '\/', cast\(ts AS String\), '\/', cast\(seq AS String\)\)\)/);
    expect(sql.endsWith("FROM 'site/+/sensors/telemetry'")).toBe(true);
  });
});

/** A SELECT list split at its top-level commas (function calls and the CASE expression hold commas of their own). */
function topLevelItems(projection: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of projection) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += char;
  }
  return [...items, current.trim()];
}

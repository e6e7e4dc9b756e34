/** The IoT rules on one machine: which rules a publish triggers, and what each sends to the ingest queue. */
import { describe, expect, it } from 'vitest';
import { deriveEventId, ENRICHMENT_FIELDS } from '../../../contracts/enrichment';
import { parseEnvelope } from '../../../lambdas/shared/envelope';
import { matchRules, ruleOutput } from '../../../tools/local/iot-rule';
import { localSettings } from '../../../tools/local/settings';
import { devicePayload, NOW } from '../../helpers/factories';
import { devConfig } from '../../helpers/synth';

const { rules } = localSettings(
  devConfig({ iot: { topicFilters: ['sensors/+/telemetry', 'plant/line-1/+/metrics'], ruleNamePrefix: 'dev' } }),
);
const publish = (topic: string, payload: string | object, clientId: string | undefined) => ({
  topic,
  clientId,
  payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  receivedAt: NOW,
});

describe('matchRules', () => {
  it('sends a device topic to the rule whose filter matches it', () => {
    // Given the two rules of the config (above), and a topic of each filter
    // When each topic is matched / Then it goes to its rule alone, as it is
    expect(matchRules(rules, 'sensors/sensor-7/telemetry')).toEqual([
      { rule: expect.objectContaining({ name: 'dev_1' }), topic: 'sensors/sensor-7/telemetry' },
    ]);
    expect(matchRules(rules, 'plant/line-1/press-2/metrics')).toEqual([
      { rule: expect.objectContaining({ name: 'dev_2' }), topic: 'plant/line-1/press-2/metrics' },
    ]);
  });

  it('sends a Basic Ingest topic to the named rule only, with the prefix taken off', () => {
    // Given a Basic Ingest topic naming dev_1
    // When it is matched / Then it goes to dev_1 alone, without the $aws/rules/dev_1/ prefix
    expect(matchRules(rules, '$aws/rules/dev_1/sensors/sensor-7/telemetry')).toEqual([
      { rule: expect.objectContaining({ name: 'dev_1' }), topic: 'sensors/sensor-7/telemetry' },
    ]);
  });

  it('drops topics no rule selects: other topics, unknown rules, a rule with a topic outside its filter', () => {
    // Given topics no filter matches, a Basic Ingest topic of an unknown rule, and one outside the named rule's filter
    // When each is matched / Then no rule selects it
    expect(matchRules(rules, 'sensors/sensor-7/status')).toEqual([]);
    expect(matchRules(rules, 'sensors/a/b/telemetry')).toEqual([]);
    expect(matchRules(rules, '$aws/rules/other_1/sensors/sensor-7/telemetry')).toEqual([]);
    expect(matchRules(rules, '$aws/rules/dev_2/sensors/sensor-7/telemetry')).toEqual([]);
  });

  it('names the topics devices publish to, as the stack outputs do', () => {
    // Given the two rules of the config
    // When their device topics are read / Then they are the topics the stack outputs name
    expect(rules.map((rule) => [rule.deviceTopic, rule.basicIngestTopic])).toEqual([
      ['sensors/<deviceId>/telemetry', '$aws/rules/dev_1/sensors/<deviceId>/telemetry'],
      ['plant/line-1/<deviceId>/metrics', '$aws/rules/dev_2/plant/line-1/<deviceId>/metrics'],
    ]);
  });
});

describe('ruleOutput', () => {
  it("enriches the payload as the rule SQL does: a valid envelope with the publisher's client id", () => {
    // Given a device payload published through Basic Ingest by client c-1
    const payload = devicePayload({ seq: 3 });
    const [match] = matchRules(rules, '$aws/rules/dev_1/sensors/sensor-7/telemetry');

    // When the rule twin enriches it
    const body = JSON.parse(ruleOutput(match!, publish('$aws/rules/dev_1/sensors/sensor-7/telemetry', payload, 'c-1')));

    // Then it is a valid envelope: the payload's fields, then the enrichment, with the event id and trace id
    expect(Object.keys(body)).toEqual([...Object.keys(payload), ...ENRICHMENT_FIELDS]);
    expect(body).toMatchObject({
      ...payload,
      schemaVersion: 1,
      deviceId: 'sensor-7',
      clientId: 'c-1',
      receivedAt: NOW,
      sourceTopic: 'sensors/sensor-7/telemetry',
      eventId: deriveEventId('sensor-7', payload.ts, 3),
      // An MQTT publish: IoT's traceid() has a value
      traceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(parseEnvelope(JSON.stringify(body)).ok).toBe(true);
  });

  it('uses the device id as client id when the broker does not say who published', () => {
    // Given a publish whose client id the broker does not know
    const [match] = matchRules(rules, 'plant/line-1/press-2/metrics');
    // When the rule twin enriches it
    const body = JSON.parse(ruleOutput(match!, publish('plant/line-1/press-2/metrics', devicePayload(), undefined)));
    // Then the device id stands in for the client id
    expect(body).toMatchObject({ deviceId: 'press-2', clientId: 'press-2' });
  });

  it('passes a payload nested too deep to serialise (5,000 levels) through as it is, instead of throwing', () => {
    // JSON.parse takes it; JSON.stringify of the enriched object would throw RangeError in the broker's hook
    // Given a device field the rule projects (readings) nested 5,000 levels deep
    const deep = `{"ts":1,"readings":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const [match] = matchRules(rules, 'sensors/sensor-7/telemetry');
    // When the rule twin runs, Then the payload goes through as it is for the forwarder to park
    expect(ruleOutput(match!, publish('sensors/sensor-7/telemetry', deep, 'sensor-7'))).toBe(deep);
  });

  it('drops a deeply nested field the rule does not project, as the rule SQL does, and enriches the rest', () => {
    // Given a payload whose only deep member is not a device field
    const deep = `{"ts":1,"readings":{"t":1},"a":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const [match] = matchRules(rules, 'sensors/sensor-7/telemetry');
    // When the rule twin runs
    const body = JSON.parse(ruleOutput(match!, publish('sensors/sensor-7/telemetry', deep, 'sensor-7')));
    // Then the projection leaves the deep member out and the reading is enriched
    expect(body).not.toHaveProperty('a');
    expect(body).toMatchObject({ ts: 1, readings: { t: 1 }, deviceId: 'sensor-7' });
  });

  it('passes a payload that is not a JSON object through as it is, for the forwarder to park with its reason', () => {
    // Given payloads that are not a JSON object
    const [match] = matchRules(rules, 'sensors/sensor-7/telemetry');
    // When the rule twin runs on each / Then each goes through as it is
    expect(ruleOutput(match!, publish('sensors/sensor-7/telemetry', '{"ts": 1', 'sensor-7'))).toBe('{"ts": 1');
    expect(ruleOutput(match!, publish('sensors/sensor-7/telemetry', '[1,2]', 'sensor-7'))).toBe('[1,2]');
  });
});

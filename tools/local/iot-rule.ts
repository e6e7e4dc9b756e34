/**
 * The IoT topic rules on one machine: which rules a publish triggers (topic filter, Basic Ingest), and the SQS
 * message body each one sends — the rule SQL's enrichment through its TypeScript twin (`enrich`).
 */
import { randomUUID } from 'node:crypto';
import { enrich } from '../../contracts/enrichment';
import { topicMatches } from '../../ops/failures/envelopes';
import type { LocalRule } from './settings';

/** A publish as the broker saw it. */
export interface Publish {
  readonly topic: string;
  /** The publishing client's id; unknown when subscribing to another broker (the device id stands in for it). */
  readonly clientId: string | undefined;
  readonly payload: Buffer;
  /** Broker receive time, epoch ms (IoT's `timestamp()`). */
  readonly receivedAt: number;
}

/** A rule a publish triggers, with the topic the rule sees. */
export interface Match {
  readonly rule: LocalRule;
  /** Without the Basic Ingest prefix: what `topic()` returns in the rule. */
  readonly topic: string;
}

const BASIC_INGEST = /^\$aws\/rules\/([^/]+)\/(.+)$/;

/**
 * The rules a publish triggers. `$aws/rules/<rule>/<topic>` (Basic Ingest) goes to that rule only, and only when the
 * rest of the topic matches its filter; any other topic goes to every rule whose filter matches.
 */
export function matchRules(rules: readonly LocalRule[], topic: string): Match[] {
  const basic = BASIC_INGEST.exec(topic);
  if (basic) {
    const [, name, rest = ''] = basic;
    const rule = rules.find((candidate) => candidate.name === name);
    return rule && topicMatches(rule.topicFilter, rest) ? [{ rule, topic: rest }] : [];
  }
  return rules.filter((rule) => topicMatches(rule.topicFilter, topic)).map((rule) => ({ rule, topic }));
}

function jsonObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The body the rule's SQS action sends: the payload's device fields with the enrichment fields. A payload that is not a JSON
 * object cannot be merged with them and goes through as it is, so the forwarder parks it in the dead-letter queue
 * with its reason (`not_json`, `not_object`), as it would any such record.
 */
export function ruleOutput(match: Match, publish: Publish): string {
  const payload = jsonObject(publish.payload);
  if (!payload) return publish.payload.toString('utf8');
  const deviceId = match.topic.split('/')[match.rule.deviceSegment - 1] ?? '';
  try {
    return enrichedBody(match, publish, payload, deviceId);
  } catch {
    // JSON.parse takes any depth, JSON.stringify recurses and throws RangeError on thousands of levels: such a payload
    // goes through as it is, like one that is not an object, and the forwarder parks it with its reason
    return publish.payload.toString('utf8');
  }
}

function enrichedBody(match: Match, publish: Publish, payload: Record<string, unknown>, deviceId: string): string {
  return JSON.stringify(
    enrich(
      {
        topic: match.topic,
        // The stack's device policy makes a device connect as its own thing name
        clientId: publish.clientId ?? deviceId,
        payload,
        receivedAt: publish.receivedAt,
        // Every publish here came over MQTT, where IoT's traceid() always has a value
        traceId: randomUUID(),
      },
      match.rule.deviceSegment,
    ),
  );
}

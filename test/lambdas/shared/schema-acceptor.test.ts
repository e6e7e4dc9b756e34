import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TelemetryEnvelopeSchema } from '../../../contracts/envelope';
import { findUnsafeKey } from '../../../lambdas/shared/envelope';
import { compileAcceptor, UnsupportedSchemaError } from '../../../lambdas/shared/schema-acceptor';
import { envelope, NOW } from '../../helpers/factories';
import { BODY_CASES, hostileKeyBodies } from '../corpus/cases';

/** The acceptor as `parseEnvelope` builds it: the envelope schema, refusing what the unsafe-key scan rejects. */
const accepts = compileAcceptor(TelemetryEnvelopeSchema, {
  refuseKey: (key) => findUnsafeKey({ [key]: 0 }) !== undefined,
  maxDepth: 8,
});

/** What the acceptor must agree with: zod accepts it and the unsafe-key scan finds nothing. */
const zodAndScan = (value: unknown) => TelemetryEnvelopeSchema.safeParse(value).success && !findUnsafeKey(value);

const parsedOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Deterministic pseudo-random numbers (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values at and around every bound and pattern of the envelope schema, plus wrong types. */
const EDGE_VALUES: readonly unknown[] = [
  0,
  -0,
  -1,
  1,
  1.5,
  0.1,
  1e21,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  8.64e15,
  8.64e15 + 2,
  NOW,
  NOW + 15 * 60_000,
  NOW + 15 * 60_000 + 1,
  Date.UTC(2020, 0, 1),
  Date.UTC(2020, 0, 1) - 1,
  '',
  'a',
  '1',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(256),
  'x'.repeat(257),
  'sensor-0001',
  'sensor 0001',
  'sensor/1',
  'ä',
  '0123456789abcdef'.repeat(4),
  '0123456789ABCDEF'.repeat(4),
  '0123456789abcdef'.repeat(4).slice(1),
  '8f7f1c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f',
  '8F7F1C4E-1D2B-4C3A-9E8F-0A1B2C3D4E5F',
  true,
  false,
  null,
  [],
  [1],
  {},
  { a: 1 },
  { temperature: 1 },
  { 'a.b': 1 },
  { $gt: 0 },
  { _x: 1, 'y-z': 2 },
  { '1a': 1 },
  { constructor: 1 },
  { prototype: 1 },
  { a: '1' },
  { a: null },
  { a: { b: 1 } },
];
const FIELDS = [
  'schemaVersion',
  'eventId',
  'deviceId',
  'clientId',
  'receivedAt',
  'traceId',
  'sourceTopic',
  'ts',
  'seq',
  'readings',
  'extra',
  '$set',
  'a.b',
] as const;

/** A valid envelope with 1–4 random mutations: a field dropped, set to an edge value, or readings reshaped. */
function mutated(next: () => number): Record<string, unknown> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const value: Record<string, unknown> = { ...envelope(`sensor-${Math.floor(next() * 1000)}`) };
  const changes = 1 + Math.floor(next() * 4);
  for (let i = 0; i < changes; i++) {
    const field = pick(FIELDS);
    const action = next();
    if (action < 0.2) delete value[field];
    else if (action < 0.8) value[field] = pick(EDGE_VALUES);
    else {
      const count = pick([0, 1, 2, 63, 64, 65]);
      value.readings = Object.fromEntries(
        Array.from({ length: count }, (_, n) => [next() < 0.05 ? pick(['$x', 'a.b', '1a', '']) : `r${n}`, n / 3]),
      );
    }
  }
  return value;
}

describe('compileAcceptor on the envelope schema', () => {
  it('agrees with zod and the unsafe-key scan on every body of the hostile-input corpus', () => {
    // Given every body the corpus holds, parsed as parseEnvelope parses them
    const bodies = [...BODY_CASES.map((c) => c.body), ...hostileKeyBodies()];
    const values = bodies.map(parsedOrUndefined).filter((value) => value !== undefined);
    expect(values.length).toBeGreaterThan(30);
    // When the acceptor and zod judge each, Then they agree on every one, both ways
    const disagreements = values.filter((value) => accepts(value) !== zodAndScan(value));
    expect(disagreements).toEqual([]);
    // (and the corpus holds both kinds)
    expect(values.filter((value) => accepts(value)).length).toBeGreaterThan(0);
    expect(values.filter((value) => !accepts(value)).length).toBeGreaterThan(10);
  });

  it('agrees with zod on 20,000 generated envelopes, accepted and refused, as JSON text round-trips them', () => {
    // Given valid envelopes with random fields dropped, set to edge values or readings reshaped (seeded)
    const next = random(14);
    let accepted = 0;
    const disagreements: unknown[] = [];
    for (let i = 0; i < 20_000; i++) {
      const value = JSON.parse(JSON.stringify(mutated(next)));
      // When both judge it
      const verdict = accepts(value);
      if (verdict !== zodAndScan(value)) disagreements.push(value);
      if (verdict) accepted++;
    }
    // Then they never disagree, and both directions were exercised in earnest
    expect(disagreements.slice(0, 3)).toEqual([]);
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });

  it('accepts only values zod outputs unchanged, and counts their members as the scan walks them', () => {
    // Given a valid envelope
    const value = JSON.parse(JSON.stringify(envelope()));
    // When accepted
    expect(accepts(value)).toBe(true);
    // Then zod's output equals the value itself (parseEnvelope hands the value on, not zod's copy)
    expect(TelemetryEnvelopeSchema.parse(value)).toEqual(value);
    // And the members are the top-level fields plus the readings
    expect(accepts.members()).toBe(Object.keys(value).length + Object.keys(value.readings).length);
  });

  it('refuses record keys the caller refuses even where the schema would take them', () => {
    // Given a record whose key schema allows any string, compiled refusing `$`-prefixed keys
    const schema = z.strictObject({ r: z.record(z.string(), z.number()) });
    const acceptor = compileAcceptor(schema, { refuseKey: (key) => key.startsWith('$') });
    // When a value carries one, Then zod accepts it but the acceptor does not (parseEnvelope's scan then decides)
    expect(schema.safeParse({ r: { $gt: 1 } }).success).toBe(true);
    expect(acceptor({ r: { $gt: 1 } })).toBe(false);
    expect(acceptor({ r: { gt: 1 } })).toBe(true);
  });

  it('leaves every verdict to zod where code generation is disallowed, instead of failing to load', () => {
    // Given a process that forbids generating code from strings, which loads the envelope module
    const script = join(mkdtempSync(join(tmpdir(), 'acceptor-')), 'verdicts.ts');
    const envelopeModule = join(__dirname, '../../../lambdas/shared/envelope');
    writeFileSync(
      script,
      `import { parseEnvelope } from ${JSON.stringify(envelopeModule)};
      const valid = ${JSON.stringify(JSON.stringify(envelope()))};
      console.log(JSON.stringify([parseEnvelope(valid).ok, parseEnvelope(valid.replace('"readings":', '"$x":1,"readings":')).ok]));`,
    );
    // When it parses a valid and an invalid envelope
    const output = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', script],
      { encoding: 'utf8' },
    );
    // Then it loaded, and zod decided both
    expect(JSON.parse(output)).toEqual([true, false]);
  });

  it('counts a minimum length in code points as zod does: never accepts an astral string zod finds too short', () => {
    // Given a string bounded in length, where UTF-16 units and code points differ for astral characters
    const schema = z.strictObject({ a: z.string().min(2).max(3) });
    const accept = compileAcceptor(schema);
    const texts = ['😀', 'a', 'ab', '😀😀', 'a😀', '😀a😀', '\ud800', '\ud800\udc00', 'abcd', '😀😀😀😀'];
    // When both judge each, Then the acceptor accepts nothing zod refuses (it may refuse more: a fast path only)
    const looser = texts.filter((a) => accept({ a }) && !schema.safeParse({ a }).success);
    expect(looser).toEqual([]);
    // And it accepts what zod accepts within the UTF-16 bound (the fast path is used at all)
    expect(accept({ a: 'a😀' }) && accept({ a: 'ab' })).toBe(true);
  });

  it('refuses to compile what it does not model, rather than checking less than zod', () => {
    const cases: [string, z.ZodType][] = [
      ['a stripping object', z.object({ a: z.string() })],
      ['a transform', z.strictObject({ a: z.string().transform((s) => s.length) })],
      ['coercion', z.strictObject({ a: z.coerce.number() })],
      ['a default', z.strictObject({ a: z.string().default('x') })],
      ['a string format', z.strictObject({ a: z.email() })],
      ['a union', z.strictObject({ a: z.union([z.string(), z.number()]) })],
      ['a partial record (z.partialRecord)', z.strictObject({ a: z.partialRecord(z.string(), z.number()) })],
      ['a loose record (z.looseRecord)', z.strictObject({ a: z.looseRecord(z.string(), z.number()) })],
      ['a record of an enum key', z.strictObject({ a: z.record(z.enum(['x']), z.number()) })],
      ['a refused field name', z.strictObject({ $set: z.number() })],
      ['nesting deeper than allowed', z.strictObject({ a: z.strictObject({ b: z.strictObject({}) }) })],
    ];
    for (const [name, schema] of cases) {
      expect(() => compileAcceptor(schema, { refuseKey: (key) => key.startsWith('$'), maxDepth: 1 }), name).toThrow(
        UnsupportedSchemaError,
      );
    }
  });
});

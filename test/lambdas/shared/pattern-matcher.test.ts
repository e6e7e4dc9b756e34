import { describe, expect, it } from 'vitest';
import { TelemetryEnvelopeSchema } from '../../../contracts/envelope';
import { compilePattern } from '../../../lambdas/shared/pattern-matcher';

interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, { _zod: { def: Def } }>>;
  readonly innerType?: { _zod: { def: Def } };
  readonly keyType?: { _zod: { def: Def } };
  readonly valueType?: { _zod: { def: Def } };
  readonly checks?: ReadonlyArray<{ _zod: { def: { pattern?: RegExp } } }>;
}

/** Every regular expression of a zod schema, read from its definition as the acceptor reads it. */
function patternsOf(def: Def): RegExp[] {
  const own = (def.checks ?? []).flatMap(({ _zod }) => (_zod.def.pattern ? [_zod.def.pattern] : []));
  const children = [
    ...Object.values(def.shape ?? {}),
    ...[def.innerType, def.keyType, def.valueType].filter((child) => child !== undefined),
  ];
  return [...own, ...children.flatMap((child) => patternsOf(child._zod.def))];
}

const SCHEMA_PATTERNS = patternsOf(TelemetryEnvelopeSchema._zod.def as unknown as Def);

/** Characters at and around every range the patterns use, plus non-ASCII and a lone surrogate. */
const POOL = [...'/09:;@AFGZ[_`afgz{-.$ \u0000\u007f\u0080\u00e4\u0130\u212a\ud800'];

/** Deterministic pseudo-random numbers in [0, 1) (the Park–Miller generator), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}

/** Strings of every length up to `maxLength`: random over the pool, and accepted ones changed at one position. */
function inputsFor(pattern: RegExp, maxLength: number, seed: number): string[] {
  const next = random(seed);
  const pick = () => POOL[Math.floor(next() * POOL.length)] as string;
  const inputs: string[] = ['', '__proto__', 'constructor', 'prototype', '__proto__x', 'prototypes', 'constructo'];
  const hex = '0123456789abcdef';
  const uuid = '8f7f1c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f';
  const accepted = [
    hex.repeat(4),
    uuid,
    'sensor-0042',
    'a:b_c-D',
    'temperature',
    '_x',
    'A'.repeat(64),
    'a'.repeat(128),
  ];
  for (let length = 0; length <= maxLength; length++) {
    for (let n = 0; n < 20; n++) inputs.push(Array.from({ length }, pick).join(''));
    // Mostly characters the pattern takes, so that acceptance is reached, with one from anywhere in the pool
    inputs.push(
      Array.from({ length }, (_, at) => (at === length - 1 ? pick() : (hex[Math.floor(next() * 16)] as string))).join(
        '',
      ),
    );
  }
  for (const valid of accepted.filter((text) => pattern.test(text))) {
    for (let at = 0; at <= valid.length; at++) {
      for (const char of POOL) inputs.push(valid.slice(0, at) + char + valid.slice(at + 1));
      inputs.push(valid.slice(0, at) + valid.slice(at + 1), valid.slice(0, at));
    }
  }
  return inputs;
}

describe('compilePattern', () => {
  it('compiles every pattern of the envelope schema, and each answers as its regular expression on every input', () => {
    // Given the schema's own patterns (eventId, deviceId, reading names)
    expect(SCHEMA_PATTERNS.length).toBe(3);
    for (const [index, pattern] of SCHEMA_PATTERNS.entries()) {
      // When compiled
      const matcher = compilePattern(pattern);
      expect(matcher, pattern.source).toBeDefined();
      // Then it agrees with the regular expression on inputs around every bound and range, accepting some
      const inputs = inputsFor(pattern, 131, index + 1);
      const disagreements = inputs.filter((text) => matcher?.(text) !== pattern.test(text));
      expect(disagreements, pattern.source).toEqual([]);
      expect(inputs.filter((text) => pattern.test(text)).length, pattern.source).toBeGreaterThan(50);
      expect(inputs.filter((text) => !pattern.test(text)).length, pattern.source).toBeGreaterThan(1000);
    }
  });

  it('answers as the regular expression for every string up to length 4 over a small alphabet', () => {
    const patterns = [
      /^(?:a{2}|[b-d]{1,3})$/,
      /^[-a]{0,2}$/,
      /^x[0-9]$/,
      /^(?!(?:ab|b)$)[a-c]{1,3}$/,
      /^(?:a-b|[a-]{3,4})$/,
      /^[a-]b{0}c{0,1}$/,
    ];
    const alphabet = ['a', 'b', 'c', 'd', 'x', '-', '0', '9', '\u00e1'];
    const strings = [''];
    for (let length = 1; length <= 4; length++) {
      for (const prefix of strings.filter((text) => text.length === length - 1)) {
        for (const char of alphabet) strings.push(prefix + char);
      }
    }
    for (const pattern of patterns) {
      const matcher = compilePattern(pattern);
      expect(matcher, pattern.source).toBeDefined();
      expect(
        strings.filter((text) => matcher?.(text) !== pattern.test(text)),
        pattern.source,
      ).toEqual([]);
    }
  });

  it('tells which characters a matching string may contain (what the acceptor counts colons in)', () => {
    // Given the eventId, deviceId and reading-name patterns, and one excluding words
    const [eventId, deviceId, readingName] = SCHEMA_PATTERNS.map((pattern) => compilePattern(pattern));
    // Then only a thing name may hold a colon, and an excluded word's characters are still in its classes
    expect([eventId, deviceId, readingName].map((matcher) => matcher?.mayContain(':'))).toEqual([false, true, false]);
    expect(eventId?.mayContain('-')).toBe(true);
    expect(eventId?.mayContain('g')).toBe(false);
    expect(readingName?.mayContain('_')).toBe(true);
    expect(deviceId?.mayContain('\u00e4')).toBe(false);
  });

  it.each([
    ['a flag (case-insensitive)', /^[a-f]{2}$/i],
    ['a flag (unicode)', /^[a-f]{2}$/u],
    ['a flag (multiline: ^ and $ at line ends)', /^[a-f]{2}$/m],
    ['no start anchor', /[a-f]{2}$/],
    ['no end anchor', /^[a-f]{2}/],
    ['+', /^[a-f]+$/],
    ['*', /^a*$/],
    ['?', /^ab?$/],
    ['a lazy quantifier', /^a{1,2}?$/],
    ['an open quantifier', /^a{2,}$/],
    ['any character', /^a.$/],
    ['an escape', /^\d{2}$/],
    ['an escape in a class', /^[a\]]$/],
    ['a negated class', /^[^a]$/],
    ['a range ending outside [A-Za-z0-9]', /^[+-z]$/],
    ['a count that varies before the last item', /^[a-c]{1,3}c$/],
    ['alternation outside a group', /^a|b$/],
    ['a nested group', /^(?:a(?:b|c))$/],
    ['two groups', /^(?:a)(?:b)$/],
    ['a capturing group', /^(a|b)$/],
    ['an empty alternative', /^(?:a|)$/],
    ['a positive lookahead', /^(?=a)a$/],
    ['a lookahead that is not whole words', /^(?!a)b$/],
    ['a character outside the plain set', /^a\/b$/],
    ['an empty pattern', /^$/],
  ])('refuses %s: the caller keeps the regular expression', (_name, pattern) => {
    expect(compilePattern(pattern)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { failureDetail, MAX_FAILURE_DETAIL_CHARS } from '../../contracts/failure';

describe('failureDetail', () => {
  it('replaces characters SQS rejects and never splits a character', () => {
    // Given details with a control character, with a surrogate pair across the cut, with tab and newline
    // When each is made a failure.error value / Then SQS can carry it, cut whole, and what SQS accepts stays
    expect(failureDetail('readings.a\u0001b: Invalid key')).toBe('readings.a\uFFFDb: Invalid key');
    expect(failureDetail(`${'x'.repeat(999)}😀😀`)).toBe(`${'x'.repeat(999)}😀`);
    expect(failureDetail('tab\tand newline\n stay')).toBe('tab\tand newline\n stay');
  });
});

describe('MAX_FAILURE_DETAIL_CHARS', () => {
  it('bounds every detail, counted in characters', () => {
    // Given a detail far longer than the bound / When made a failure.error value / Then it holds the bound exactly
    expect(Array.from(failureDetail('é'.repeat(5_000)))).toHaveLength(MAX_FAILURE_DETAIL_CHARS);
  });
});

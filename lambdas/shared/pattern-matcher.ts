/**
 * Anchored regular expressions of a small, exactly modelled form compiled into character-table loops: the envelope's
 * eventId pattern (64 hex digits or a UUID) cost the sink half a microsecond per record in the regular expression
 * engine, for what is a table lookup per character.
 *
 * The matcher is built from the schema's own `RegExp` (its `source`), so the schema stays the single source of
 * truth. It is equal to `pattern.test` by construction for the form it accepts, and `compilePattern` returns
 * undefined for anything else (the caller keeps the regular expression):
 *
 * - no flags at all (so `^` and `$` are the start and end of the input, and characters are UTF-16 code units compared
 *   exactly, as `charCodeAt` reads them);
 * - `^`, optionally `(?!(?:word|word…)$)` (the whole input is none of these words), then either one sequence or
 *   `(?:sequence|sequence…)`, then `$`;
 * - a sequence is items, each a character (`A-Za-z0-9_:-`) or a class of such characters and ranges (`[0-9a-f]`, no
 *   negation, no escapes), with `{n}` or `{m,n}` or nothing; only the last item of a sequence may vary in count, so
 *   a sequence matches an input exactly when the input's length is in its bounds and every character is in its
 *   position's class: no backtracking to model.
 *
 * `test/lambdas/shared/pattern-matcher.test.ts` compares each matcher with its regular expression on generated
 * inputs around every bound and character range, and checks that each construct outside this form is refused.
 */

/** Whether a string matches; the same answer as the `RegExp` it was compiled from. */
export type PatternMatcher = ((text: string) => boolean) & {
  /** Whether some matching string contains `char` (one UTF-16 code unit). */
  readonly mayContain: (char: string) => boolean;
};

/** Characters that may stand for themselves, in a class or outside one. */
const PLAIN = /^[A-Za-z0-9_:-]$/;

interface Item {
  readonly table: Uint8Array;
  readonly min: number;
  readonly max: number;
}

interface Alternative {
  /** Consecutive positions of one class, in order: every item but possibly the last, then the last if fixed. */
  readonly runs: readonly Item[];
  /** The class of the positions after the runs, when the last item varies in count. */
  readonly tail: Uint8Array | undefined;
  readonly minLength: number;
  readonly maxLength: number;
}

/** Compiles `pattern` (see the module comment for the form), or returns undefined when it is not of that form. */
export function compilePattern(pattern: RegExp): PatternMatcher | undefined {
  if (pattern.flags !== '') return undefined;
  const source = pattern.source;
  if (!source.startsWith('^') || !source.endsWith('$')) return undefined;
  let body = source.slice(1, -1);
  let excluded: ReadonlySet<string> = new Set();
  const lookahead = /^\(\?!\(\?:([A-Za-z0-9_|]+)\)\$\)/.exec(body);
  if (lookahead) {
    const words = (lookahead[1] as string).split('|');
    if (words.some((word) => word === '')) return undefined;
    excluded = new Set(words);
    body = body.slice(lookahead[0].length);
  }
  let branches: string[];
  if (body.startsWith('(?:') && body.endsWith(')')) {
    branches = body.slice(3, -1).split('|');
    // A parenthesis left inside means nesting, which this form does not model
    if (branches.some((branch) => /[()]/.test(branch))) return undefined;
  } else {
    if (/[()|]/.test(body)) return undefined;
    branches = [body];
  }
  const alternatives: Alternative[] = [];
  for (const branch of branches) {
    const items = parseSequence(branch);
    if (!items) return undefined;
    const last = items[items.length - 1] as Item;
    if (items.slice(0, -1).some((item) => item.min !== item.max)) return undefined;
    const variable = last.min !== last.max;
    const runs = variable ? items.slice(0, -1) : items;
    const fixedLength = runs.reduce((sum, item) => sum + item.min, 0);
    alternatives.push({
      runs,
      tail: variable ? last.table : undefined,
      minLength: fixedLength + (variable ? last.min : 0),
      maxLength: fixedLength + (variable ? last.max : 0),
    });
  }
  const matcher = (text: string): boolean => {
    if (excluded.has(text)) return false;
    for (const alternative of alternatives) if (matches(alternative, text)) return true;
    return false;
  };
  const tables = alternatives.flatMap(({ runs, tail }) => [...runs.map((run) => run.table), ...(tail ? [tail] : [])]);
  const mayContain = (char: string): boolean => {
    const code = char.charCodeAt(0);
    return code < 128 && tables.some((table) => table[code] === 1);
  };
  return Object.assign(matcher, { mayContain });
}

function matches({ runs, tail, minLength, maxLength }: Alternative, text: string): boolean {
  const length = text.length;
  if (length < minLength || length > maxLength) return false;
  let at = 0;
  for (const { table, min } of runs) {
    if (!allIn(table, text, at, at + min)) return false;
    at += min;
  }
  return tail === undefined || allIn(tail, text, at, length);
}

/** Whether every character of `text` from `from` to `to` (exclusive) is in the class `table`. */
function allIn(table: Uint8Array, text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code > 127 || table[code] === 0) return false;
  }
  return true;
}

/** The items of a sequence, or undefined if anything in it is outside the form. */
function parseSequence(sequence: string): Item[] | undefined {
  const items: Item[] = [];
  let at = 0;
  while (at < sequence.length) {
    const table = new Uint8Array(128);
    if (sequence[at] === '[') {
      const close = sequence.indexOf(']', at + 1);
      if (close < 0 || !fillClass(sequence.slice(at + 1, close), table)) return undefined;
      at = close + 1;
    } else if (PLAIN.test(sequence[at] as string)) {
      table[sequence.charCodeAt(at)] = 1;
      at++;
    } else {
      return undefined;
    }
    let min = 1;
    let max = 1;
    if (sequence[at] === '{') {
      const quantifier = /^\{(\d{1,4})(?:,(\d{1,4}))?\}/.exec(sequence.slice(at));
      if (!quantifier) return undefined;
      min = Number(quantifier[1]);
      max = quantifier[2] === undefined ? min : Number(quantifier[2]);
      if (max < min) return undefined;
      at += quantifier[0].length;
    }
    items.push({ table, min, max });
  }
  return items.length > 0 ? items : undefined;
}

/** Marks a class's characters (`a-z` ranges, plain characters, `-` first or last) in `table`; false if outside the form. */
function fillClass(content: string, table: Uint8Array): boolean {
  if (content === '' || content.startsWith('^')) return false;
  let at = 0;
  while (at < content.length) {
    const char = content[at] as string;
    if (!PLAIN.test(char)) return false;
    const isRange = content[at + 1] === '-' && at + 2 < content.length;
    if (isRange) {
      const end = content[at + 2] as string;
      if (!/^[A-Za-z0-9]$/.test(char) || !/^[A-Za-z0-9]$/.test(end)) return false;
      const from = char.charCodeAt(0);
      const to = end.charCodeAt(0);
      if (to < from) return false;
      for (let code = from; code <= to; code++) table[code] = 1;
      at += 3;
    } else {
      table[char.charCodeAt(0)] = 1;
      at++;
    }
  }
  return true;
}

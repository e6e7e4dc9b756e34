/**
 * How the functions parse one serialized envelope (the schema is the contract, `contracts/envelope.ts`): size and
 * UTF-8 first, then JSON, duplicate and unsafe keys, and the schema, through a compiled fast path for the valid
 * case (`schema-acceptor.ts`). Function logic: every check here guards what the functions pass on as it is.
 */
import type * as z from 'zod';
import { InvalidReason, type TelemetryEnvelope, TelemetryEnvelopeSchema } from '../../contracts/envelope';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../contracts/limits';
import { compileAcceptor, countColons } from './schema-acceptor';

/** Keys that would reach prototypes if an object were ever spread or merged. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type EnvelopeParseResult =
  | { readonly ok: true; readonly envelope: TelemetryEnvelope }
  | { readonly ok: false; readonly reason: InvalidReason; readonly detail: string };

const MAX_DEPTH = 8;

/** A key that must never reach MongoDB or an object merge: `$`-prefixed, dotted, containing NUL, or a prototype name. */
function isUnsafeKey(key: string): boolean {
  return key.startsWith('$') || key.includes('.') || key.includes('\u0000') || PROTOTYPE_KEYS.has(key);
}

/**
 * The envelope schema compiled into a predicate (see `compileAcceptor`): the valid path's validation, without zod's
 * allocations. It refuses every unsafe key and any nesting the scan would reject, so a value it accepts is one the
 * unsafe-key scan passes and zod accepts as it is: the scan and zod then run only for what it refuses, to decide
 * and to say why.
 */
const acceptsEnvelope = compileAcceptor(TelemetryEnvelopeSchema, { refuseKey: isUnsafeKey, maxDepth: MAX_DEPTH });

/**
 * Finds the first key, at any depth, that must never reach MongoDB or an object merge: `$`-prefixed, dotted,
 * containing NUL, or a prototype name. Returns its path, or undefined.
 */
export function findUnsafeKey(value: unknown): string | undefined {
  return scanKeys(value, '', 0, { members: 0 });
}

/** Walks a parsed value: returns the first unsafe key's path (see `findUnsafeKey`) and counts object members. */
function scanKeys(value: unknown, path: string, depth: number, count: { members: number }): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return `${path || '(root)'} (nested deeper than ${MAX_DEPTH})`;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const nested = scanKeys(value[index], path ? `${path}.${index}` : String(index), depth + 1, count);
      if (nested !== undefined) return nested;
    }
    return undefined;
  }
  // Own keys only: `for…in` would also count (and scan) an enumerable property of a polluted Object.prototype
  for (const key of Object.keys(value)) {
    count.members++;
    const childPath = path ? `${path}.${key}` : key;
    if (isUnsafeKey(key)) {
      return JSON.stringify(childPath);
    }
    const nested = scanKeys((value as Record<string, unknown>)[key], childPath, depth + 1, count);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/**
 * Object members in valid JSON text: every `:` outside a string separates a member's name from its value. Compared
 * with the members `JSON.parse` kept, it tells whether a name appeared twice, in one linear pass of `indexOf` jumps
 * (no tokenizer, no per-object key sets) on the valid path.
 */
function countMembers(text: string): number {
  let members = 0;
  let position = 0;
  let colon = text.indexOf(':');
  while (colon >= 0) {
    const quote = text.indexOf('"', position);
    if (quote < 0 || colon < quote) {
      members++;
      position = colon + 1;
      colon = text.indexOf(':', position);
      continue;
    }
    position = stringEnd(text, quote) + 1;
    if (colon < position) colon = text.indexOf(':', position);
  }
  return members;
}

/** Index of the quote that closes the string opening at `quote` (the text is valid JSON). */
function stringEnd(text: string, quote: number): number {
  let end = text.indexOf('"', quote + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

interface Container {
  readonly path: string;
  /** Member names seen so far; undefined for an array. */
  readonly names: Set<string> | undefined;
  /** The current member name, or array index. */
  current: string;
  index: number;
}

/**
 * The path of the first member name that repeats within its object, for the detail of a `duplicate_key` rejection.
 * Only runs once `countMembers` found one, so it may afford a set per object. Iterative: nesting depth is input.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: Container[] = [];
  let expectName = false;
  const childPath = (parent: Container | undefined) =>
    parent ? (parent.path ? `${parent.path}.${parent.current}` : parent.current) : '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = stack[stack.length - 1];
    if (char === '"') {
      const end = stringEnd(text, i);
      if (expectName && top?.names) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.names.has(name)) return JSON.stringify(top.path ? `${top.path}.${name}` : name);
        top.names.add(name);
        top.current = name;
        expectName = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      stack.push({ path: childPath(top), names: char === '{' ? new Set() : undefined, current: '0', index: 0 });
      expectName = char === '{';
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',' && top) {
      if (top.names) expectName = true;
      else top.current = String(++top.index);
    }
  }
  return undefined;
}

/** Formats zod issues as `path: message` pairs, the first few only. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], limit = 5): string {
  const shown = issues.slice(0, limit).map((issue) => {
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    return `${issue.path.join('.') || '(root)'}: ${message}`;
  });
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return shown.join('; ') + more;
}

/**
 * Parses and validates one serialized envelope. Never throws: every way the input can be wrong comes back as a
 * reason (stable, for metrics and DLQ attributes) and a detail (human-readable, names the field).
 */
export function parseEnvelope(text: string, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): EnvelopeParseResult {
  // Cheap upper bound first: a UTF-8 string is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      return { ok: false, reason: InvalidReason.TooLarge, detail: `${bytes} bytes exceeds the ${maxBytes}-byte limit` };
    }
  }
  // RFC 8259 §8.1 lets a parser ignore a byte order mark; one rule for every stage: it is not JSON, so no two readers
  // of the same bytes can disagree about it
  if (text.charCodeAt(0) === 0xfeff) {
    return { ok: false, reason: InvalidReason.NotJson, detail: 'starts with a byte order mark (U+FEFF)' };
  }
  if (!(text as WellFormed).isWellFormed()) {
    return { ok: false, reason: InvalidReason.NotUtf8, detail: 'contains a lone surrogate: not encodable as UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: InvalidReason.NotJson, detail: (error as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: InvalidReason.NotObject, detail: `expected a JSON object, got ${jsonType(value)}` };
  }
  // Valid path: one walk (the compiled schema), then the duplicate-name count it makes possible. What it refuses
  // goes through the full checks below in their order, so reasons and details are zod's and the scan's as before.
  if (acceptsEnvelope(value)) {
    // Without a backslash, every string's text is its value (no escapes) and no escaped surrogate can hide in it:
    // the text's colons are one per member plus those the acceptor counted in the strings, unless a name repeats
    // (JSON.parse dropped a member, not its colon). With one, the tokenizing count and the surrogate walk decide.
    if (text.indexOf('\\') < 0) {
      if (countColons(text) !== acceptsEnvelope.members() + acceptsEnvelope.colons()) return duplicateKey(text);
      return { ok: true, envelope: value as TelemetryEnvelope };
    }
    if (countMembers(text) !== acceptsEnvelope.members()) return duplicateKey(text);
    if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) return escapedLoneSurrogate();
    return { ok: true, envelope: value as TelemetryEnvelope };
  }
  // Always scanned, even though the strict schema rejects most unsafe keys: zod skips a JSON `__proto__` key inside
  // records instead of rejecting it, and the raw text (not zod's output) is what travels on to Kafka and MongoDB.
  const count = { members: 0 };
  const unsafe = scanKeys(value, '', 0, count);
  // The text travels on as it is, so it must say exactly what was validated: a repeated name (`JSON.parse` keeps the
  // last, other readers the first) could hide an operator key or a second deviceId behind a harmless one.
  // (The member count is complete only when the walk found nothing; otherwise the slower exact search decides.)
  const duplicated = unsafe === undefined ? countMembers(text) !== count.members : findDuplicateKey(text) !== undefined;
  if (duplicated) return duplicateKey(text);
  if (unsafe !== undefined) {
    return { ok: false, reason: InvalidReason.UnsafeKey, detail: `forbidden key ${unsafe}` };
  }
  // `isWellFormed` above sees the raw text, where an escaped lone surrogate ("\ud800") is plain ASCII; parsed, it has no
  // UTF-8 form either. Only text with such an escape is walked (cheap: depth is bounded by the scan above).
  if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) return escapedLoneSurrogate();
  const result = TelemetryEnvelopeSchema.safeParse(value);
  if (!result.success) {
    return { ok: false, reason: InvalidReason.SchemaViolation, detail: formatIssues(result.error.issues) };
  }
  return { ok: true, envelope: result.data };
}

function escapedLoneSurrogate(): EnvelopeParseResult {
  return {
    ok: false,
    reason: InvalidReason.NotUtf8,
    detail: 'contains an escaped lone surrogate: not encodable as UTF-8',
  };
}

function duplicateKey(text: string): EnvelopeParseResult {
  return {
    ok: false,
    reason: InvalidReason.DuplicateKey,
    detail: `duplicate key ${findDuplicateKey(text) ?? '(root)'}`,
  };
}

/** `String.prototype.isWellFormed` (ES2024, Node 20): the project's TypeScript lib stops at ES2023. */
type WellFormed = string & { isWellFormed(): boolean };

/** A JSON escape of a UTF-16 surrogate (`\uD800`–`\uDFFF`); a pair of them is fine, which the walk tells apart. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Whether any string or member name in a parsed value (nesting already bounded) is not well-formed UTF-16. */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !(value as WellFormed).isWellFormed();
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  return Object.entries(value).some(([key, nested]) => hasLoneSurrogate(key) || hasLoneSurrogate(nested));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

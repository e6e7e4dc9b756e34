/**
 * A zod schema compiled into a predicate that says whether zod would accept a value — the hot path of validation,
 * without zod's per-field result objects, issue arrays and output copies (a third of the sink's CPU per record).
 *
 * It is built from the schema's own definition (`schema._zod.def`: the same regular expressions, bounds and refine
 * functions zod runs), so the schema stays the single source of truth; a construct it does not know makes
 * `compileAcceptor` throw at load, never a silently looser check. Callers use it as a fast path only: when it says
 * no, zod runs and decides, with its messages. Its one obligation is therefore "accepts ⇒ zod accepts, with an
 * output equal to the input" (no transforms, defaults or stripped keys), which `compileAcceptor` guarantees by
 * refusing every construct that would change the value, and which `test/lambdas/shared/schema-acceptor.test.ts`
 * checks against zod on the hostile-input corpus and on generated envelopes, in both directions.
 */
import type * as z from 'zod';
import { PipelineError } from '../../contracts/errors';
import { compilePattern } from './pattern-matcher';

/** Whether a value would pass the schema; counts the object members it walked on the way (see `members`). */
export interface Acceptor {
  (value: unknown): boolean;
  /** Object members (shape fields and record entries) of the value last accepted. */
  readonly members: () => number;
  /**
   * `:` characters inside the strings (member names and string values) of the value last accepted. The JSON text
   * of a value without escapes has exactly `members() + colons()` colons unless a member name repeats (the parser
   * dropped a member, and its colon with it): `parseEnvelope`'s duplicate-name check without a tokenizer.
   */
  readonly colons: () => number;
}

export interface AcceptorOptions {
  /**
   * Keys an accepted value may never carry, whatever the schema says: checked on every record key of the value
   * and, when compiling, on every field name of every object in the schema (those must not match).
   * @default no key is refused beyond the schema's own rules
   */
  readonly refuseKey?: (key: string) => boolean;
  /**
   * Deepest object nesting an accepted value may have (the root object is at depth 0): a schema that allows deeper
   * objects does not compile.
   * @default unbounded
   */
  readonly maxDepth?: number;
}

/** Thrown at load when the schema uses a construct the acceptor does not model. */
/** Code points of a string as zod counts them: a surrogate pair is one, a lone surrogate one. */
function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The schema uses a zod feature the compiled predicate cannot check exactly as zod does (the caller keeps zod). */
export class UnsupportedSchemaError extends PipelineError {
  public override readonly name = 'UnsupportedSchemaError';
}

// The parts of zod's definitions read here (zod 4's `$ZodTypeDef` and check definitions; internal, so the test
// compiles the real envelope schema and compares with zod on every upgrade)
interface CheckDef {
  readonly check: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly fn?: (value: unknown) => unknown;
  readonly when?: unknown;
}
interface TypeDef {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: CheckDef } }>;
  readonly coerce?: boolean;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly catchall?: Schema;
  readonly innerType?: Schema;
  readonly keyType?: Schema;
  readonly valueType?: Schema;
  readonly values?: readonly unknown[];
}
interface Schema {
  readonly _zod: { readonly def: TypeDef };
}

/** The definition properties each supported zod type may carry (`error` only shapes messages). */
const DEFINITION_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(['type', 'checks', 'coerce', 'error']),
  number: new Set(['type', 'checks', 'coerce', 'error']),
  literal: new Set(['type', 'values', 'checks', 'error']),
  optional: new Set(['type', 'innerType', 'checks', 'error']),
  object: new Set(['type', 'shape', 'catchall', 'checks', 'error']),
  record: new Set(['type', 'keyType', 'valueType', 'checks', 'error']),
};

/**
 * Compiles `schema` into an `Acceptor`. Supported: strict objects, records with string keys, strings (length
 * bounds, regular expressions), finite numbers (safe-integer format, inclusive or exclusive bounds), literals,
 * optional fields, and refinements (their functions, run after every other check of the value passed, as zod runs
 * them on a value without issues).
 *
 * The checks become one generated function (straight-line code, as zod's own JIT does for objects): a tree of
 * closures costs a call per check and per field, twice what the envelope's validation is allowed in all. Only
 * code written here is generated; the schema's values (patterns, literal sets, refine functions, `refuseKey`) are
 * passed in as references, never as source text, except field names, which go in as JSON string literals.
 */
export function compileAcceptor(schema: z.ZodType, options: AcceptorOptions = {}): Acceptor {
  const refuseKey = options.refuseKey ?? (() => false);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const refs: unknown[] = [];
  const ref = (value: unknown): string => `refs[${refs.push(value) - 1}]`;
  let names = 0;
  const fresh = (prefix: string): string => `${prefix}${names++}`;

  /** Statements that `return -1` unless `value` (a variable name) passes `node`; `depth`: enclosing objects. */
  const compile = (node: Schema, value: string, path: string, depth: number): string => {
    const def = node._zod.def;
    // Every property of the definition must be one modelled here: a string format (z.email()) is a `string` whose
    // definition carries its own pattern, and ignoring that would check less than zod
    const known = DEFINITION_KEYS[def.type];
    const present = Object.keys(def).filter((key) => (def as unknown as Record<string, unknown>)[key] !== undefined);
    if (!known || present.some((key) => !known.has(key))) {
      throw new UnsupportedSchemaError(`${path}: zod ${def.type} with ${present.join(', ')} is not supported`);
    }
    if (def.coerce) throw new UnsupportedSchemaError(`${path}: coercion changes the value`);
    if ((def.type === 'object' || def.type === 'record') && depth > maxDepth) {
      throw new UnsupportedSchemaError(`${path}: objects nested deeper than ${maxDepth}`);
    }
    const checks = (def.checks ?? []).map(({ _zod }) => compileCheck(_zod.def, value, def.type, path)).join('\n');
    return `${compileType(def, value, path, depth)}\n${checks}`;
  };

  const compileType = (def: TypeDef, value: string, path: string, depth: number): string => {
    switch (def.type) {
      case 'string': {
        // A string that passes a pattern with no colon in any of its classes adds none to the text: not counted
        const colonFree = (def.checks ?? []).some(({ _zod: { def: check } }) => {
          const matcher = check.check === 'string_format' && check.pattern ? compilePattern(check.pattern) : undefined;
          return matcher?.mayContain(':') === false;
        });
        return `if (typeof ${value} !== 'string') return -1;${colonFree ? '' : `\ncolons += countColons(${value});`}`;
      }
      case 'number':
        // zod 4's number: finite only
        return `if (typeof ${value} !== 'number' || !Number.isFinite(${value})) return -1;`;
      case 'literal':
        return `if (!${ref(new Set(def.values))}.has(${value})) return -1;
          if (typeof ${value} === 'string') colons += countColons(${value});`;
      case 'optional':
        if (!def.innerType) throw new UnsupportedSchemaError(`${path}: optional without inner type`);
        return `if (${value} !== undefined) {\n${compile(def.innerType, value, path, depth)}\n}`;
      case 'object':
        return compileObject(def, value, path, depth);
      case 'record':
        return compileRecord(def, value, path, depth);
      default:
        throw new UnsupportedSchemaError(`${path}: zod type "${def.type}" is not supported`);
    }
  };

  const compileObject = (def: TypeDef, value: string, path: string, depth: number): string => {
    // Only a strict object accepts exactly what it outputs: a stripping object would drop unknown keys from zod's
    // output but not from the value the caller keeps
    if (def.catchall?._zod.def.type !== 'never') {
      throw new UnsupportedSchemaError(`${path}: only strict objects (z.strictObject) are supported`);
    }
    const key = fresh('key');
    const seen = fresh('seen');
    let required = 0;
    const cases = Object.entries(def.shape ?? {}).map(([name, field]) => {
      if (refuseKey(name)) throw new UnsupportedSchemaError(`${path}: field name ${JSON.stringify(name)} is refused`);
      const isRequired = field._zod.def.type !== 'optional';
      if (isRequired) required++;
      const member = fresh('field');
      const nameColons = countColons(name);
      return `case ${JSON.stringify(name)}: {
        const ${member} = ${value}[${key}];
        ${nameColons > 0 ? `colons += ${nameColons};` : ''}
        ${compile(field, member, `${path}.${name}`, depth + 1)}
        ${isRequired ? `${seen}++;` : ''}
        break;
      }`;
    });
    // One pass over the value's own keys: each must be a field and pass it; then every required field was seen
    return `if (${value} === null || typeof ${value} !== 'object' || Array.isArray(${value})) return -1;
      let ${seen} = 0;
      for (const ${key} in ${value}) {
        switch (${key}) {
          ${cases.join('\n')}
          default: return -1;
        }
        members++;
      }
      if (${seen} !== ${required}) return -1;`;
  };

  const compileRecord = (def: TypeDef, value: string, path: string, depth: number): string => {
    if (!def.keyType || !def.valueType) throw new UnsupportedSchemaError(`${path}: record without key or value type`);
    if (def.keyType._zod.def.type !== 'string') {
      throw new UnsupportedSchemaError(`${path}: only records with string keys are supported`);
    }
    const key = fresh('key');
    const entry = fresh('entry');
    return `if (${value} === null || typeof ${value} !== 'object' || Object.getPrototypeOf(${value}) !== Object.prototype) return -1;
      for (const ${key} in ${value}) {
        if (!Object.hasOwn(${value}, ${key}) || ${ref(refuseKey)}(${key})) return -1;
        ${compile(def.keyType, key, `${path}.(key)`, depth + 1)}
        const ${entry} = ${value}[${key}];
        ${compile(def.valueType, entry, `${path}.(value)`, depth + 1)}
        members++;
      }`;
  };

  const compileCheck = (check: CheckDef, value: string, type: string, path: string): string => {
    if (check.when !== undefined && check.check !== 'min_length' && check.check !== 'max_length') {
      throw new UnsupportedSchemaError(`${path}: a check with a custom "when" is not supported`);
    }
    switch (check.check) {
      case 'string_format': {
        const pattern = check.pattern;
        if (check.format !== 'regex' || !pattern || pattern.global || pattern.sticky) {
          throw new UnsupportedSchemaError(`${path}: string format "${check.format}" is not supported`);
        }
        // A character-table loop where the pattern has the form `compilePattern` models exactly (on the strings
        // JSON.parse makes, twice as fast as the regular expression engine for the eventId); the pattern otherwise
        const matcher = compilePattern(pattern);
        if (matcher) return `if (!${ref(matcher)}(${value})) return -1;`;
        return `if (!${ref(pattern)}.test(${value})) return -1;`;
      }
      case 'min_length': {
        // zod counts a string's length in code points (a surrogate pair is one), UTF-16 units only above that: with a
        // minimum of 0 or 1 the two agree (a non-empty string has a code point), above it only code points do
        const minimum = requireNumber(check.minimum, path);
        if (minimum <= 1) return `if (${value}.length < ${ref(minimum)}) return -1;`;
        return `if (${ref(codePointLength)}(${value}) < ${ref(minimum)}) return -1;`;
      }
      // At most as many code points as UTF-16 units: a maximum on units refuses no more than zod's, only earlier
      case 'max_length':
        return `if (${value}.length > ${ref(requireNumber(check.maximum, path))}) return -1;`;
      case 'number_format':
        if (check.format !== 'safeint') throw new UnsupportedSchemaError(`${path}: number format "${check.format}"`);
        return `if (!Number.isSafeInteger(${value})) return -1;`;
      case 'greater_than':
        return `if (!(${value} ${check.inclusive ? '>=' : '>'} ${ref(requireNumber(check.value, path))})) return -1;`;
      case 'less_than':
        return `if (!(${value} ${check.inclusive ? '<=' : '<'} ${ref(requireNumber(check.value, path))})) return -1;`;
      case 'custom': {
        if (!check.fn) throw new UnsupportedSchemaError(`${path}: refinement without a function`);
        // A refinement returning a promise (or any object) would make zod's parse async: never an acceptance here
        const result = fresh('refined');
        return `const ${result} = ${ref(check.fn)}(${value});
          if (${result} !== true && (typeof ${result} === 'object' || !${result})) return -1;`;
      }
      default:
        throw new UnsupportedSchemaError(`${path}: ${type} check "${check.check}" is not supported`);
    }
  };

  const body = compile(schema as unknown as Schema, 'value', '(root)', 0);
  const counted: Counted = { colons: 0 };
  const generated = generate(body, refs, counted);
  let members = 0;
  const acceptor = (value: unknown): boolean => {
    members = generated(value);
    return members >= 0;
  };
  return Object.assign(acceptor, { members: () => members, colons: () => counted.colons });
}

/** `:` characters in `text`. */
export function countColons(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at >= 0; at = text.indexOf(':', at + 1)) count++;
  return count;
}

/**
 * The generated function: returns the members it counted, or -1 for a value zod must judge. Where code generation
 * is disallowed (`node --disallow-code-generation-from-strings`), every value goes to zod: slower, never looser.
 */
function generate(body: string, refs: readonly unknown[], counted: Counted): (value: unknown) => number {
  type Factory = (
    refs: readonly unknown[],
    counted: Counted,
    countColons: (text: string) => number,
  ) => (value: unknown) => number;
  let factory: Factory;
  try {
    factory = new Function(
      'refs',
      'counted',
      'countColons',
      `return function accepts(value) {\nlet members = 0;\nlet colons = 0;\n${body}\ncounted.colons = colons;\nreturn members;\n};`,
    ) as Factory;
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'EvalError') throw error;
    return () => -1;
  }
  return factory(refs, counted, countColons);
}

/** What the generated function counted besides members in the value it last accepted. */
interface Counted {
  colons: number;
}

function requireNumber(value: unknown, path: string): number {
  if (typeof value !== 'number') throw new UnsupportedSchemaError(`${path}: bound ${String(value)} is not a number`);
  return value;
}

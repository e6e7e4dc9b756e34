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

/** Whether a value would pass the schema; counts the object members it walked on the way (see `members`). */
export interface Acceptor {
  (value: unknown): boolean;
  /** Object members (shape fields and record entries) of the value last accepted. */
  readonly members: () => number;
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
export class UnsupportedSchemaError extends Error {
  public override readonly name = 'UnsupportedSchemaError';
}

type Check = (value: unknown) => boolean;

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
 */
export function compileAcceptor(schema: z.ZodType, options: AcceptorOptions = {}): Acceptor {
  let members = 0;
  const refuseKey = options.refuseKey ?? (() => false);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;

  /** `depth`: how many objects enclose this node's value. */
  const compile = (node: Schema, path: string, depth: number): Check => {
    const def = node._zod.def;
    // Every property of the definition must be one modelled here: a string format (z.email()) is a `string` whose
    // definition carries its own pattern, and ignoring that would check less than zod
    const known = DEFINITION_KEYS[def.type];
    const unknown = Object.keys(def).filter((key) => (def as unknown as Record<string, unknown>)[key] !== undefined);
    if (!known || unknown.some((key) => !known.has(key))) {
      throw new UnsupportedSchemaError(`${path}: zod ${def.type} with ${unknown.join(', ')} is not supported`);
    }
    if (def.coerce) throw new UnsupportedSchemaError(`${path}: coercion changes the value`);
    if ((def.type === 'object' || def.type === 'record') && depth > maxDepth) {
      throw new UnsupportedSchemaError(`${path}: objects nested deeper than ${maxDepth}`);
    }
    const base = compileType(def, path, depth);
    const checks = (def.checks ?? []).map(({ _zod }) => compileCheck(_zod.def, def.type, path));
    if (checks.length === 0) return base;
    return (value) => {
      if (!base(value)) return false;
      for (const check of checks) if (!check(value)) return false;
      return true;
    };
  };

  const compileType = (def: TypeDef, path: string, depth: number): Check => {
    switch (def.type) {
      case 'string':
        return (value) => typeof value === 'string';
      case 'number':
        // zod 4's number: finite only
        return (value) => typeof value === 'number' && Number.isFinite(value);
      case 'literal': {
        const values = new Set(def.values);
        return (value) => values.has(value);
      }
      case 'optional': {
        if (!def.innerType) throw new UnsupportedSchemaError(`${path}: optional without inner type`);
        const inner = compile(def.innerType, path, depth);
        return (value) => value === undefined || inner(value);
      }
      case 'object':
        return compileObject(def, path, depth);
      case 'record':
        return compileRecord(def, path, depth);
      default:
        throw new UnsupportedSchemaError(`${path}: zod type "${def.type}" is not supported`);
    }
  };

  const compileObject = (def: TypeDef, path: string, depth: number): Check => {
    // Only a strict object accepts exactly what it outputs: a stripping object would drop unknown keys from zod's
    // output but not from the value the caller keeps
    if (def.catchall?._zod.def.type !== 'never') {
      throw new UnsupportedSchemaError(`${path}: only strict objects (z.strictObject) are supported`);
    }
    const fields: Record<string, { check: Check; required: boolean }> = Object.create(null);
    let required = 0;
    for (const [key, field] of Object.entries(def.shape ?? {})) {
      if (refuseKey(key)) throw new UnsupportedSchemaError(`${path}: field name ${JSON.stringify(key)} is refused`);
      const isRequired = field._zod.def.type !== 'optional';
      fields[key] = { check: compile(field, `${path}.${key}`, depth + 1), required: isRequired };
      if (isRequired) required++;
    }
    return (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      let seen = 0;
      // One pass over the value's own keys: each must be a field and pass it; then every required field was seen
      for (const key in value) {
        const field = fields[key];
        if (field === undefined || !field.check((value as Record<string, unknown>)[key])) return false;
        members++;
        if (field.required) seen++;
      }
      return seen === required;
    };
  };

  const compileRecord = (def: TypeDef, path: string, depth: number): Check => {
    if (!def.keyType || !def.valueType) throw new UnsupportedSchemaError(`${path}: record without key or value type`);
    if (def.keyType._zod.def.type !== 'string') {
      throw new UnsupportedSchemaError(`${path}: only records with string keys are supported`);
    }
    const key = compile(def.keyType, `${path}.(key)`, depth + 1);
    const entry = compile(def.valueType, `${path}.(value)`, depth + 1);
    return (value) => {
      if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
        return false;
      }
      for (const name in value) {
        if (!Object.hasOwn(value, name) || refuseKey(name) || !key(name)) return false;
        if (!entry((value as Record<string, unknown>)[name])) return false;
        members++;
      }
      return true;
    };
  };

  const compileCheck = (check: CheckDef, type: string, path: string): Check => {
    if (check.when !== undefined && check.check !== 'min_length' && check.check !== 'max_length') {
      throw new UnsupportedSchemaError(`${path}: a check with a custom "when" is not supported`);
    }
    switch (check.check) {
      case 'string_format': {
        const pattern = check.pattern;
        if (check.format !== 'regex' || !pattern || pattern.global || pattern.sticky) {
          throw new UnsupportedSchemaError(`${path}: string format "${check.format}" is not supported`);
        }
        return (value) => pattern.test(value as string);
      }
      case 'min_length': {
        const minimum = requireNumber(check.minimum, path);
        return (value) => (value as string).length >= minimum;
      }
      case 'max_length': {
        const maximum = requireNumber(check.maximum, path);
        return (value) => (value as string).length <= maximum;
      }
      case 'number_format':
        if (check.format !== 'safeint') throw new UnsupportedSchemaError(`${path}: number format "${check.format}"`);
        return (value) => Number.isSafeInteger(value);
      case 'greater_than': {
        const bound = requireNumber(check.value, path);
        return check.inclusive ? (value) => (value as number) >= bound : (value) => (value as number) > bound;
      }
      case 'less_than': {
        const bound = requireNumber(check.value, path);
        return check.inclusive ? (value) => (value as number) <= bound : (value) => (value as number) < bound;
      }
      case 'custom': {
        const fn = check.fn;
        if (!fn) throw new UnsupportedSchemaError(`${path}: refinement without a function`);
        // A refinement returning a promise would make zod's parse async: never an acceptance here
        return (value) => {
          const result = fn(value);
          return result === true || (typeof result !== 'object' && Boolean(result));
        };
      }
      default:
        throw new UnsupportedSchemaError(`${path}: ${type} check "${check.check}" is not supported`);
    }
  };

  const accepts = compile(schema as unknown as Schema, '(root)', 0);
  const acceptor = (value: unknown): boolean => {
    members = 0;
    return accepts(value);
  };
  return Object.assign(acceptor, { members: () => members });
}

function requireNumber(value: unknown, path: string): number {
  if (typeof value !== 'number') throw new UnsupportedSchemaError(`${path}: bound ${String(value)} is not a number`);
  return value;
}

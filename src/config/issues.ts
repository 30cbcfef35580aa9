/**
 * Turns schema violations into one-line diagnostics at the offending key or
 * value: unknown keys (with "did you mean"), wrong types named after TOML's
 * kinds, bad enum values with the allowed ones, missing keys at their table.
 */
import type * as z from 'zod';
import { StrataError } from '../util/errors.js';
import { closest, didYouMean } from '../util/suggest.js';
import { isTable } from './config-file.js';
import type { MergedDocument } from './merge.js';
import { formatPath, formatTable, type KeyPath } from './key-path.js';
import { describeKind, kindOf } from './value-kinds.js';

/** The parts of zod's schema definitions this module reads. */
interface SchemaDef {
  type: string;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  keyType?: Schema;
  valueType?: Schema;
  element?: Schema;
  entries?: Record<string, string>;
  format?: string;
}
interface Schema {
  _zod: { def: SchemaDef };
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly']);

function unwrap(schema: Schema): Schema {
  let s = schema;
  while (WRAPPERS.has(s._zod.def.type) && s._zod.def.innerType) s = s._zod.def.innerType;
  return s;
}

/** The schema of the value at `path`, if the schema describes it. */
export function schemaAt(root: z.ZodType, path: KeyPath): Schema | undefined {
  let s: Schema | undefined = unwrap(root as unknown as Schema);
  for (const segment of path) {
    const def: SchemaDef = s._zod.def;
    if (def.type === 'object') s = def.shape?.[String(segment)];
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'array') s = def.element;
    else return undefined;
    if (!s) return undefined;
    s = unwrap(s);
  }
  return s;
}

function isIntegerSchema(schema: Schema | undefined): boolean {
  return schema?._zod.def.format === 'safeint';
}

/** The keys a table at `path` accepts (for suggestions). */
function knownKeys(root: z.ZodType, path: KeyPath): string[] {
  const def = schemaAt(root, path)?._zod.def;
  if (def?.type === 'object') return Object.keys(def.shape ?? {});
  const keyDef = def?.keyType ? unwrap(def.keyType)._zod.def : undefined;
  return keyDef?.type === 'enum' ? Object.values(keyDef.entries ?? {}) : [];
}

function valueAtPath(doc: unknown, path: KeyPath): unknown {
  let value = doc;
  for (const segment of path) {
    if (Array.isArray(value)) value = value[segment as number];
    else if (isTable(value)) value = value[String(segment)];
    else return undefined;
  }
  return value;
}

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  array: 'an array',
  object: 'a table',
  record: 'a table',
};

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

export function issueErrors(issue: z.core.$ZodIssue, merged: MergedDocument, schema: z.ZodType): StrataError[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  const value = valueAtPath(merged.doc, path);
  const where = formatPath(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, path);
      return issue.keys.map(
        (key) =>
          new StrataError(`unknown ${path.length === 0 ? 'top-level key' : 'key'} '${key}'${path.length === 0 ? '' : ` in ${formatTable(path)}`}${didYouMean(key, known)}`, {
            location: merged.keyAt([...path, key]),
            ...(known.length > 0 && !closest(key, known) ? { hint: `known keys: ${known.join(', ')}` } : {}),
          }),
      );
    }
    case 'invalid_type': {
      if (value === undefined) {
        const key = path[path.length - 1];
        const parent = path.slice(0, -1);
        const what = issue.expected === 'object' ? `table [${formatPath(path)}]` : `key '${String(key)}' in ${formatTable(parent)}`;
        return [new StrataError(`missing required ${what}`, { location: merged.keyAt(parent) })];
      }
      // Integers too large for a JavaScript number are reported by numberKindErrors.
      if (typeof value === 'bigint') return [];
      const got = kindOf(merged.origin(path), value);
      const expected = isIntegerSchema(schemaAt(schema, path)) ? 'int' : issue.expected;
      return [new StrataError(`${where}: expected ${EXPECTED[expected] ?? expected}, got ${describeKind(got)}`, { location: merged.valueAt(path) })];
    }
    case 'invalid_value': {
      const allowed = issue.values.map(show);
      const suggestion = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : '';
      return [new StrataError(`${where}: bad value ${show(value)}, expected one of ${allowed.join(', ')}${suggestion}`, { location: merged.valueAt(path) })];
    }
    case 'too_small':
    case 'too_big': {
      const bound = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const message =
        issue.origin === 'array'
          ? issue.code === 'too_small'
            ? `needs at least ${bound} ${bound === '1' ? 'entry' : 'entries'}`
            : `takes at most ${bound} entries`
          : issue.origin === 'string'
            ? issue.code === 'too_small' ? 'must not be empty' : `must be at most ${bound} characters`
            : `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound}, got ${show(value)}`;
      return [new StrataError(`${where}: ${message}`, { location: merged.valueAt(path) })];
    }
    case 'invalid_format':
      return [new StrataError(`${where}: expected ${issue.message}, got ${show(value)}`, { location: merged.valueAt(path) })];
    case 'invalid_key': {
      const reason = issue.issues[0]?.message ?? issue.message;
      return [new StrataError(`${formatTable(path.slice(0, -1))}: '${String(path[path.length - 1])}' is not ${reason}`, { location: merged.keyAt(path) })];
    }
    default:
      return [new StrataError(`${where}: ${issue.message}`, { location: merged.valueAt(path) })];
  }
}

/**
 * Number kinds the schema cannot see: `1.0` parses to the number 1, which an
 * integer schema accepts, and integers beyond 2^53 parse to BigInts, which no
 * later stage could use (or print as JSON). Checked over the merged document.
 */
export function numberKindErrors(merged: MergedDocument, schema: z.ZodType): StrataError[] {
  const errors: StrataError[] = [];
  const visit = (value: unknown, path: KeyPath): void => {
    if (Array.isArray(value)) value.forEach((element, index) => visit(element, [...path, index]));
    else if (isTable(value)) for (const [key, inner] of Object.entries(value)) visit(inner, [...path, key]);
    else if (typeof value === 'bigint') {
      errors.push(new StrataError(`${formatPath(path)}: integer out of range (at most ±${Number.MAX_SAFE_INTEGER})`, { location: merged.valueAt(path) }));
    } else if (typeof value === 'number' && merged.origin(path)?.kind === 'float' && isIntegerSchema(schemaAt(schema, path))) {
      errors.push(new StrataError(`${formatPath(path)}: expected an integer, got a float`, { location: merged.valueAt(path) }));
    }
  };
  visit(merged.doc, []);
  return errors;
}

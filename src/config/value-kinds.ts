/** Naming TOML value kinds in messages ("expected an integer, got a string"). */
import type { KeyPositions, ValueKind } from './toml-positions.js';

/** The kind as written in the file when the scanner saw it, else as parsed. */
export function kindOf(at: KeyPositions | undefined, value: unknown): ValueKind {
  if (at) return at.kind;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (value instanceof Date) return 'datetime';
  if (Array.isArray(value)) return 'array';
  return 'table';
}

const ARTICLE: Record<ValueKind, string> = {
  string: 'a string',
  integer: 'an integer',
  float: 'a float',
  boolean: 'a boolean',
  datetime: 'a date-time',
  array: 'an array',
  table: 'a table',
};

export function describeKind(kind: ValueKind): string {
  return ARTICLE[kind];
}

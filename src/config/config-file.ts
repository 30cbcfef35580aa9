/** One TOML file of the config: parsed values plus where each key sits. */
import { readFile } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import TOML from '@iarna/toml';
import { StrataError, type SourceLocation } from '../util/errors.js';
import { toPosix } from '../util/paths.js';
import { formatPath } from './key-path.js';
import { findDuplicateKeys, scanPositions, type Position, type PositionMap } from './toml-positions.js';

export type TomlTable = Record<string, unknown>;

export interface ConfigFile {
  /** Absolute path. */
  path: string;
  /** The path as messages show it. */
  display: string;
  doc: TomlTable;
  positions: PositionMap;
}

/** A path as messages show it: relative to `base` (the process cwd) when inside it, else absolute. */
export function displayPath(path: string, base: string): string {
  const rel = relative(base, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? toPosix(rel) : path;
}

export function locationIn(file: Pick<ConfigFile, 'display'>, position: Position): SourceLocation {
  return { file: file.display, line: position.line, col: position.col };
}

export function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Reads and parses one file; a syntax error becomes a StrataError at its position. */
export async function readConfigFile(path: string, display: string): Promise<ConfigFile> {
  let text: string;
  try {
    // A byte-order mark is no part of the TOML text (and not a column in editors).
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new StrataError(`cannot read ${display}: ${reason}`);
  }
  let doc: TomlTable;
  try {
    doc = TOML.parse(text) as TomlTable;
  } catch (error) {
    throw syntaxError(error, text, display);
  }
  return { path, display, doc, positions: scanPositions(text) };
}

function syntaxError(error: unknown, text: string, display: string): unknown {
  const e = error as { message?: string; line?: number; col?: number };
  if (typeof e.line !== 'number' || typeof e.col !== 'number') return error;
  // @iarna/toml counts lines and columns from 0; its message repeats them with context lines.
  const message = String(e.message).split('\n')[0]!.replace(/ at row \d+, col \d+, pos \d+:?$/, '');
  const [duplicate] = /redefine/.test(message) ? findDuplicateKeys(text) : [];
  if (duplicate) {
    const what = duplicate.path.length > 0 && typeof duplicate.path[duplicate.path.length - 1] === 'string' ? `'${formatPath(duplicate.path)}'` : 'this table';
    return new StrataError(`${what} is defined twice in this file: here and at ${display}:${duplicate.first.line}:${duplicate.first.col}`, {
      location: locationIn({ display }, duplicate.second),
    });
  }
  return new StrataError(`TOML syntax error: ${message}`, { location: { file: display, line: e.line + 1, col: e.col + 1 } });
}

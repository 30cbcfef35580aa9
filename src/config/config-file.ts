/** One TOML file of the config: parsed values plus where each key sits. */
import { readFile } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import TOML from '@iarna/toml';
import { StrataError, type SourceLocation } from '../util/errors.js';
import { toPosix } from '../util/paths.js';
import { scanPositions, type Position, type PositionMap } from './toml-positions.js';

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
  const text = await readFile(path, 'utf8');
  let doc: TomlTable;
  try {
    doc = TOML.parse(text) as TomlTable;
  } catch (error) {
    const e = error as { message?: string; line?: number; col?: number };
    if (typeof e.line !== 'number' || typeof e.col !== 'number') throw error;
    // @iarna/toml counts lines and columns from 0; its message repeats them with context lines.
    const message = String(e.message).split('\n')[0]!.replace(/ at row \d+, col \d+, pos \d+:?$/, '');
    throw new StrataError(`TOML syntax error: ${message}`, {
      location: { file: display, line: e.line + 1, col: e.col + 1 },
    });
  }
  return { path, display, doc, positions: scanPositions(text) };
}

/**
 * The include tree: the root file, then each `include` entry in order (a glob's
 * matches in path order), depth first, so that the merge order is fixed by the
 * text of the files alone. A file reached twice without a cycle (two files
 * including a shared one) is read once, at its first place in that order.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StrataError, type SourceLocation } from '../util/errors.js';
import { isInside } from '../util/paths.js';
import { displayPath, locationIn, readConfigFile, type ConfigFile } from './config-file.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import { pathKey } from './key-path.js';
import { describeKind, kindOf } from './value-kinds.js';

export interface IncludeTree {
  /** Files in merge order. */
  files: ConfigFile[];
  errors: StrataError[];
}

export async function readIncludeTree(configFile: string, root: string, displayBase: string): Promise<IncludeTree> {
  const files: ConfigFile[] = [];
  const errors: StrataError[] = [];
  const seen = new Set<string>();

  async function visit(path: string, chain: string[], includedAt?: SourceLocation): Promise<void> {
    seen.add(path);
    let file: ConfigFile;
    try {
      file = await readConfigFile(path, displayPath(path, displayBase));
    } catch (error) {
      if (error instanceof StrataError) return void errors.push(includedAt ? error.withContext({ location: includedAt }) : error);
      throw error;
    }
    files.push(file);
    for (const entry of includeEntries(file, errors)) {
      const at = locationIn(file, entry.position);
      const full = resolve(dirname(path), entry.pattern);
      if (!isInside(root, full)) {
        errors.push(new StrataError(`include '${entry.pattern}' points outside the project`, { location: at, hint: 'included files must lie inside the project folder' }));
        continue;
      }
      let matches: string[];
      if (hasGlobMagic(entry.pattern)) {
        matches = expandGlob(dirname(path), entry.pattern).map((match) => resolve(dirname(path), match)).filter((match) => isInside(root, match));
      } else if (existsSync(full)) {
        matches = [full];
      } else {
        errors.push(new StrataError(`included file '${entry.pattern}' does not exist`, { location: at, hint: 'the path is relative to the including file; a glob may match nothing, a plain path must exist' }));
        continue;
      }
      for (const match of matches) {
        const loop = chain.indexOf(match);
        if (loop !== -1) {
          const cycle = [...chain.slice(loop), match].map((p) => displayPath(p, displayBase)).join(' → ');
          errors.push(new StrataError(`include cycle: ${cycle}`, { location: at, hint: 'remove one of these includes' }));
        } else if (!seen.has(match)) {
          await visit(match, [...chain, match], at);
        }
      }
    }
  }

  await visit(configFile, [configFile]);
  return { files, errors };
}

interface IncludeEntry {
  pattern: string;
  position: { line: number; col: number };
}

/** The file's `include` list, each entry with its position; a malformed list is reported and skipped. */
function includeEntries(file: ConfigFile, errors: StrataError[]): IncludeEntry[] {
  const value = file.doc.include;
  if (value === undefined) return [];
  const listAt = file.positions.get(pathKey(['include']));
  const fallback = { line: 1, col: 1 };
  if (!Array.isArray(value)) {
    errors.push(
      new StrataError(`include: expected an array of strings, got ${describeKind(kindOf(listAt, value))}`, {
        location: locationIn(file, listAt?.value ?? listAt?.key ?? fallback),
      }),
    );
    return [];
  }
  const entries: IncludeEntry[] = [];
  value.forEach((pattern, index) => {
    const at = file.positions.get(pathKey(['include', index]));
    const position = at?.value ?? listAt?.key ?? fallback;
    if (typeof pattern !== 'string' || pattern === '') {
      errors.push(new StrataError(`include[${index}]: expected a non-empty string, got ${describeKind(kindOf(at, pattern))}`, { location: locationIn(file, position) }));
    } else {
      entries.push({ pattern, position });
    }
  });
  return entries;
}

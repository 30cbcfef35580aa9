/**
 * Paths written in the config: relative to the project root and confined to it.
 * A path that leaves the project or names a missing input is reported at its
 * value; the resolved absolute path is returned either way so that checking
 * can go on and report every problem in one pass.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StrataError } from '../util/errors.js';
import { isInside } from '../util/paths.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import type { MergedDocument } from './merge.js';
import { formatPath, formatTable, type KeyPath } from './key-path.js';

export class ProjectPaths {
  constructor(
    readonly root: string,
    private readonly merged: MergedDocument,
    readonly errors: StrataError[],
  ) {}

  fail(path: KeyPath, message: string, hint?: string): void {
    this.errors.push(new StrataError(message, { location: this.merged.valueAt(path), ...(hint ? { hint } : {}) }));
  }

  /** A problem with the key (not the value) at `path`. */
  failKey(path: KeyPath, message: string): void {
    this.errors.push(new StrataError(message, { location: this.merged.keyAt(path) }));
  }

  /** A key the table at `table` lacks, reported at the table's header. */
  missing(table: KeyPath, key: string, why: string): void {
    this.errors.push(new StrataError(`missing required key '${key}' in ${formatTable(table)} (${why})`, { location: this.merged.keyAt(table) }));
  }

  /** `value` (written at `path`) resolved against the project root. */
  inside(path: KeyPath, value: string): string {
    const full = resolve(this.root, value);
    if (!isInside(this.root, full)) {
      this.fail(path, `${formatPath(path)}: '${value}' points outside the project`, 'paths are relative to the project root and must stay inside it');
    }
    return full;
  }

  /** Like `inside`, and the file or folder must exist. */
  existing(path: KeyPath, value: string, type: 'file' | 'folder'): string {
    const full = this.inside(path, value);
    if (!isInside(this.root, full)) return full;
    const stat = existsSync(full) ? statSync(full) : undefined;
    if (!stat) this.fail(path, `${formatPath(path)}: ${type} '${value}' does not exist`);
    else if (type === 'file' ? !stat.isFile() : !stat.isDirectory()) this.fail(path, `${formatPath(path)}: '${value}' is not a ${type}`);
    return full;
  }

  /**
   * A list of files where each entry is a path (which must exist) or a glob
   * (which may match nothing); a glob's matches come in path order.
   */
  files(path: KeyPath, values: string[]): string[] {
    return values.flatMap((value, index) => {
      const at = [...path, index];
      if (!hasGlobMagic(value)) return [this.existing(at, value, 'file')];
      if (!isInside(this.root, this.inside(at, value))) return [];
      return expandGlob(this.root, value).map((match) => resolve(this.root, match));
    });
  }

  /** Folders that must exist. */
  folders(path: KeyPath, values: string[]): string[] {
    return values.map((value, index) => this.existing([...path, index], value, 'folder'));
  }
}

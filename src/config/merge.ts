/**
 * Merging the include tree into one document while remembering, for every key
 * path of the result, the file and position it came from.
 *
 * Rules (documented in docs/config.md): tables merge key by key; arrays of
 * tables (`[[component-globs]]`, `[[graph.cycle-breaks]]`) are concatenated in
 * merge order; any other value may be set in one file only. A component or an
 * image is one unit: its stanza may appear in one file only.
 */
import { StrataError, formatLocation, type SourceLocation } from '../util/errors.js';
import { isTable, locationIn, type ConfigFile, type TomlTable } from './config-file.js';
import { pathKey, type KeyPath } from './key-path.js';
import type { KeyPositions } from './toml-positions.js';

export interface Origin extends KeyPositions {
  file: ConfigFile;
}

/** Tables whose entries are defined whole, in one place: [components.NAME], [images.NAME]. */
const UNITS: Record<string, string> = { components: 'component', images: 'image' };

export class MergedDocument {
  readonly doc: TomlTable = {};
  private readonly origins = new Map<string, Origin>();

  constructor(private readonly rootFile: ConfigFile) {}

  origin(path: KeyPath): Origin | undefined {
    return this.origins.get(pathKey(path));
  }

  /** The file the key at `path` (or its nearest written ancestor) is written in. */
  fileOf(path: KeyPath): ConfigFile {
    for (let n = path.length; n > 0; n--) {
      const origin = this.origin(path.slice(0, n));
      if (origin) return origin.file;
    }
    return this.rootFile;
  }

  /** Where the key at `path` is written, or its nearest written ancestor. */
  keyAt(path: KeyPath): SourceLocation {
    for (let n = path.length; n > 0; n--) {
      const origin = this.origin(path.slice(0, n));
      if (origin) return locationIn(origin.file, origin.key);
    }
    return locationIn(this.rootFile, { line: 1, col: 1 });
  }

  /** Where the value at `path` starts (its key for a table made by a header). */
  valueAt(path: KeyPath): SourceLocation {
    const origin = this.origin(path);
    return origin?.value ? locationIn(origin.file, origin.value) : this.keyAt(path);
  }

  /** Merges one file's document; conflicts with earlier files are returned. */
  add(file: ConfigFile): StrataError[] {
    const errors: StrataError[] = [];
    const { include: _include, ...doc } = file.doc;
    this.mergeTable(this.doc, doc, [], [], file, errors);
    return errors;
  }

  private mergeTable(target: TomlTable, source: TomlTable, path: KeyPath, sourcePath: KeyPath, file: ConfigFile, errors: StrataError[]): void {
    for (const [key, value] of Object.entries(source)) {
      const here = [...path, key];
      const from = [...sourcePath, key];
      const existing = target[key];
      if (existing === undefined) {
        target[key] = value;
        this.record(value, here, from, file);
      } else if (path.length === 1 && typeof path[0] === 'string' && UNITS[path[0]] !== undefined) {
        errors.push(this.conflict(`${UNITS[path[0]]} '${key}' is defined twice`, here, from, file));
      } else if (isTable(existing) && isTable(value)) {
        this.mergeTable(existing, value, here, from, file, errors);
      } else if (isTableArray(existing) && isTableArray(value)) {
        const offset = existing.length;
        value.forEach((element, index) => {
          existing.push(element);
          this.record(element, [...here, offset + index], [...from, index], file);
        });
      } else {
        errors.push(this.conflict(`'${here.join('.')}' is set twice`, here, from, file));
      }
    }
  }

  private conflict(message: string, path: KeyPath, sourcePath: KeyPath, file: ConfigFile): StrataError {
    const at = file.positions.get(pathKey(sourcePath));
    return new StrataError(`${message}: here and at ${formatLocation(this.keyAt(path))}`, {
      location: locationIn(file, at?.key ?? { line: 1, col: 1 }),
      hint: 'each setting belongs to one file; remove one of the two',
    });
  }

  /** Notes the origin of `value` and of everything inside it. */
  private record(value: unknown, path: KeyPath, sourcePath: KeyPath, file: ConfigFile): void {
    const at = file.positions.get(pathKey(sourcePath));
    if (at) this.origins.set(pathKey(path), { ...at, file });
    if (Array.isArray(value)) value.forEach((element, index) => this.record(element, [...path, index], [...sourcePath, index], file));
    else if (isTable(value)) for (const [key, inner] of Object.entries(value)) this.record(inner, [...path, key], [...sourcePath, key], file);
  }
}

function isTableArray(value: unknown): value is TomlTable[] {
  return Array.isArray(value) && value.every(isTable);
}

/**
 * Where each key and value of a TOML document sits. @iarna/toml returns values
 * without positions, so this scanner walks the same text (already known to be
 * valid TOML) and maps every key path — through [tables], [[arrays of tables]],
 * dotted keys, inline tables and arrays — to the line:col of its key and value.
 * It also records the lexical kind of each value, which the parsed value loses
 * (`1.0` parses to the JavaScript number 1).
 */
import { pathKey, type KeyPath } from './key-path.js';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line. */
  col: number;
}

export type ValueKind = 'string' | 'integer' | 'float' | 'boolean' | 'datetime' | 'array' | 'table';

export interface KeyPositions {
  /** The key itself; for a [table] or [[array]] header, its opening bracket; for an array element, the element. */
  key: Position;
  /** Start of the value; null for tables made by a header or implied by a dotted key. */
  value: Position | null;
  kind: ValueKind;
}

export type PositionMap = Map<string, KeyPositions>;

const BARE_KEY = /[A-Za-z0-9_-]/;
const BARE_VALUE = /[A-Za-z0-9_+\-.:]/;

class Scanner {
  private i = 0;
  private readonly lineStarts: number[] = [0];
  readonly entries: PositionMap = new Map();
  /** Keys and [table] headers defined explicitly, to find the ones defined twice. */
  private readonly defined = new Map<string, number>();
  readonly duplicates: Array<{ path: KeyPath; first: Position; second: Position }> = [];
  /** Element count of each array of tables, by its resolved path. */
  private readonly arrayTables = new Map<string, number>();

  constructor(private readonly text: string) {
    for (let k = 0; k < text.length; k++) if (text[k] === '\n') this.lineStarts.push(k + 1);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.lineStarts[lo]! + 1 };
  }

  scanDocument(): void {
    let table: KeyPath = [];
    for (;;) {
      this.skipBlank(true);
      if (this.i >= this.text.length) return;
      if (this.text[this.i] === '[') table = this.header();
      else this.keyValue(table);
    }
  }

  private define(path: KeyPath, offset: number): void {
    const id = pathKey(path);
    const first = this.defined.get(id);
    if (first === undefined) this.defined.set(id, offset);
    else this.duplicates.push({ path: [...path], first: this.position(first), second: this.position(offset) });
  }

  private record(path: KeyPath, key: number, value: number | null, kind: ValueKind, replace = false): void {
    const id = pathKey(path);
    if (!replace && this.entries.has(id)) return;
    this.entries.set(id, { key: this.position(key), value: value === null ? null : this.position(value), kind });
  }

  /** Skips spaces, tabs and comments, and newlines too when `newlines`. */
  private skipBlank(newlines: boolean): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.i++;
      else if (c === '#') while (this.i < t.length && t[this.i] !== '\n') this.i++;
      else return;
    }
  }

  private header(): KeyPath {
    const start = this.i;
    const isArray = this.text[this.i + 1] === '[';
    this.i += isArray ? 2 : 1;
    const segments = this.key();
    this.i += isArray ? 2 : 1;
    const resolved: Array<string | number> = [];
    segments.forEach((segment, n) => {
      resolved.push(segment.name);
      const last = n === segments.length - 1;
      if (!last) {
        this.record(resolved, segment.offset, null, 'table');
        const count = this.arrayTables.get(pathKey(resolved));
        if (count !== undefined) resolved.push(count - 1);
      } else if (isArray) {
        const id = pathKey(resolved);
        const count = this.arrayTables.get(id) ?? 0;
        this.arrayTables.set(id, count + 1);
        this.record(resolved, segment.offset, null, 'array');
        resolved.push(count);
        this.record(resolved, start, null, 'table', true);
      } else {
        this.define(resolved, start);
        this.record(resolved, start, null, 'table', true);
      }
    });
    return resolved;
  }

  private keyValue(table: KeyPath): void {
    const segments = this.key();
    const path: Array<string | number> = [...table];
    segments.forEach((segment, n) => {
      path.push(segment.name);
      if (n < segments.length - 1) this.record(path, segment.offset, null, 'table');
    });
    this.skipBlank(false);
    this.i++; // '='
    this.skipBlank(false);
    const keyOffset = segments[segments.length - 1]!.offset;
    this.define(path, keyOffset);
    this.value(path, keyOffset);
  }

  /** A dotted key: its segments (unquoted) and where each starts. */
  private key(): Array<{ name: string; offset: number }> {
    const segments: Array<{ name: string; offset: number }> = [];
    for (;;) {
      this.skipBlank(false);
      const offset = this.i;
      const c = this.text[this.i];
      let name: string;
      if (c === '"') name = decodeBasic(this.text.slice(offset + 1, this.skipString() - 1));
      else if (c === "'") name = this.text.slice(offset + 1, this.skipString() - 1);
      else {
        while (this.i < this.text.length && BARE_KEY.test(this.text[this.i]!)) this.i++;
        name = this.text.slice(offset, this.i);
      }
      segments.push({ name, offset });
      this.skipBlank(false);
      if (this.text[this.i] !== '.') return segments;
      this.i++;
    }
  }

  private value(path: KeyPath, keyOffset: number): void {
    const start = this.i;
    const c = this.text[this.i];
    if (c === '"' || c === "'") {
      this.skipString();
      this.record(path, keyOffset, start, 'string', true);
    } else if (c === '[') {
      this.record(path, keyOffset, start, 'array', true);
      this.i++;
      for (let index = 0; this.i < this.text.length; index++) {
        this.skipBlank(true);
        if (this.text[this.i] === ']') break;
        const before = this.i;
        this.value([...path, index], this.i);
        this.skipBlank(true);
        if (this.text[this.i] === ',' || this.i === before) this.i++;
      }
      this.i++;
    } else if (c === '{') {
      this.record(path, keyOffset, start, 'table', true);
      this.i++;
      while (this.i < this.text.length) {
        this.skipBlank(false);
        if (this.text[this.i] === '}' || this.text[this.i] === '\n') break;
        this.keyValue(path);
        this.skipBlank(false);
        if (this.text[this.i] === ',') this.i++;
      }
      this.i++;
    } else {
      while (this.i < this.text.length && BARE_VALUE.test(this.text[this.i]!)) this.i++;
      // A date and a time may be separated by one space.
      if (/^\d{4}-\d{2}-\d{2}$/.test(this.text.slice(start, this.i)) && this.text[this.i] === ' ' && /\d/.test(this.text[this.i + 1] ?? '')) {
        this.i++;
        while (this.i < this.text.length && BARE_VALUE.test(this.text[this.i]!)) this.i++;
      }
      this.record(path, keyOffset, start, bareKind(this.text.slice(start, this.i)), true);
    }
  }

  /** Moves past a string of any of the four kinds; returns the offset just after it. */
  private skipString(): number {
    const t = this.text;
    const quote = t[this.i]!;
    const multi = t.startsWith(quote.repeat(3), this.i);
    this.i += multi ? 3 : 1;
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (c === '\\' && quote === '"') {
        this.i += 2;
      } else if (c === quote && (!multi || t.startsWith(quote.repeat(3), this.i))) {
        if (!multi) return ++this.i;
        // Up to two quotes may end the content right before the closing delimiter.
        let run = 0;
        while (t[this.i + run] === quote) run++;
        this.i += Math.min(run, 5);
        return this.i;
      } else {
        this.i++;
      }
    }
    return this.i;
  }
}

function bareKind(token: string): ValueKind {
  if (token === 'true' || token === 'false') return 'boolean';
  if (/^\d{4}-\d{2}-\d{2}/.test(token) || /^\d{2}:\d{2}/.test(token)) return 'datetime';
  if (/^[+-]?(inf|nan)$/.test(token)) return 'float';
  if (/^[+-]?0[xob]/.test(token)) return 'integer';
  return /[.eE]/.test(token) ? 'float' : 'integer';
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\u001b', '"': '"', '\\': '\\' };

/** The content of a basic (double-quoted) string with its escapes resolved. */
function decodeBasic(raw: string): string {
  return raw.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, escape: string) =>
    escape.length > 1 ? String.fromCodePoint(parseInt(escape.slice(1), 16)) : (ESCAPES[escape] ?? escape),
  );
}

/** Positions of every key path in `text`, which must be valid TOML. */
export function scanPositions(text: string): PositionMap {
  const scanner = new Scanner(text);
  scanner.scanDocument();
  return scanner.entries;
}

/**
 * Keys and tables defined twice, for a clearer report than the parser's "can't
 * redefine existing key". Tolerates the rest of the text being invalid.
 */
export function findDuplicateKeys(text: string): Array<{ path: KeyPath; first: Position; second: Position }> {
  const scanner = new Scanner(text);
  scanner.scanDocument();
  return scanner.duplicates;
}

/**
 * The files an overlay works on: the component folder's files (never the spec),
 * or the files inside one source archive. Both are in-memory views, so a
 * component's overlays change nothing on disk until the whole set succeeded.
 */
import { readFile } from 'node:fs/promises';

export interface FileEntry {
  mode: number;
  /** An untouched file is read from here when needed. */
  absPath?: string;
  /** A file an overlay made or changed. */
  data?: Buffer;
}

export async function entryData(entry: FileEntry): Promise<Buffer> {
  if (entry.data) return entry.data;
  if (entry.absPath === undefined) throw new Error('file entry without data or path');
  return readFile(entry.absPath);
}

/** What file-* overlays see. Paths are relative, '/'-separated. */
export interface FileSet {
  /** "the component folder" or "archive foo-1.0.tar.gz". */
  readonly label: string;
  /** Regular files, sorted. */
  paths(): string[];
  /** Any entry (file, folder, link) at this path. */
  has(path: string): boolean;
  read(path: string): Promise<Buffer>;
  mode(path: string): number;
  write(path: string, data: Buffer, mode: number): void;
  remove(path: string): void;
  rename(from: string, to: string): void;
}

export function sortedPaths(paths: Iterable<string>): string[] {
  return [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The component folder's files, keyed by relative path. */
export class LooseFiles implements FileSet {
  readonly label = 'the component folder';
  constructor(readonly entries: Map<string, FileEntry>) {}

  paths(): string[] {
    return sortedPaths(this.entries.keys());
  }
  has(path: string): boolean {
    return this.entries.has(path) || this.paths().some((p) => p.startsWith(`${path}/`));
  }
  read(path: string): Promise<Buffer> {
    return entryData(this.get(path));
  }
  mode(path: string): number {
    return this.get(path).mode;
  }
  write(path: string, data: Buffer, mode: number): void {
    this.entries.set(path, { mode, data });
  }
  remove(path: string): void {
    this.entries.delete(path);
  }
  rename(from: string, to: string): void {
    const entry = this.get(from);
    this.entries.delete(from);
    this.entries.set(to, entry);
  }
  private get(path: string): FileEntry {
    const entry = this.entries.get(path);
    if (!entry) throw new Error(`no file ${path} in the component folder`);
    return entry;
  }
}

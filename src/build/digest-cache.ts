/**
 * SHA-256 of large files (source tarballs, imported roots) remembered by
 * (path, size, mtime, inode, ctime), so that a no-op build does not re-read
 * gigabytes. The record is advisory: a change to any stat field re-hashes, and
 * the record file itself is written atomically.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256File } from '../util/hash.js';

interface Entry {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: number;
  sha256: string;
}

export class DigestCache {
  private entries = new Map<string, Entry>();
  private values = new Map<string, { inputSha: string; value: string }>();
  private dirty = false;
  private constructor(private readonly file: string) {}

  static async open(cacheDir: string): Promise<DigestCache> {
    const cache = new DigestCache(join(cacheDir, 'build', 'digests.json'));
    try {
      const data = JSON.parse(await readFile(cache.file, 'utf8')) as { files?: Record<string, Entry>; derived?: Record<string, { inputSha: string; value: string }> };
      cache.entries = new Map(Object.entries(data.files ?? {}));
      cache.values = new Map(Object.entries(data.derived ?? {}));
    } catch {
      // Missing or unreadable: start empty, every file gets hashed.
    }
    return cache;
  }

  async sha256(path: string): Promise<string> {
    const st = await stat(path, { bigint: true });
    const known = this.entries.get(path);
    const key = { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: Number(st.ino) };
    if (known && known.size === key.size && known.mtimeNs === key.mtimeNs && known.ctimeNs === key.ctimeNs && known.ino === key.ino) {
      return known.sha256;
    }
    const sha256 = await sha256File(path);
    this.entries.set(path, { ...key, sha256 });
    this.dirty = true;
    return sha256;
  }

  /**
   * A value computed from a file, recomputed only when that file's digest
   * changes (the host's package list from the dpkg status file).
   */
  async derived(name: string, inputPath: string, compute: () => Promise<string>): Promise<string> {
    const inputSha = await this.sha256(inputPath);
    const known = this.values.get(name);
    if (known && known.inputSha === inputSha) return known.value;
    const value = await compute();
    this.values.set(name, { inputSha, value });
    this.dirty = true;
    return value;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    const sorted = <T>(map: Map<string, T>): Record<string, T> => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFileAtomic(this.file, JSON.stringify({ files: sorted(this.entries), derived: sorted(this.values) }));
    this.dirty = false;
  }
}

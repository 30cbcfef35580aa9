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
  private dirty = false;
  private constructor(private readonly file: string) {}

  static async open(cacheDir: string): Promise<DigestCache> {
    const cache = new DigestCache(join(cacheDir, 'build', 'digests.json'));
    try {
      const data = JSON.parse(await readFile(cache.file, 'utf8')) as Record<string, Entry>;
      cache.entries = new Map(Object.entries(data));
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

  async save(): Promise<void> {
    if (!this.dirty) return;
    const sorted = Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFileAtomic(this.file, JSON.stringify(sorted));
    this.dirty = false;
  }
}

/**
 * A worker's local copy of blobs, by digest, so that the inputs many jobs share
 * (the rpm config tree, common dependency RPMs) cross the network once. Files
 * are read-only and named by their SHA-256; each is hashed again the first time
 * this process uses it (an earlier run's copy may have been damaged on disk)
 * and whenever its inode, size or mtime changed since.
 */
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempSibling } from '../util/atomic.js';
import { sha256File } from '../util/hash.js';
import { unpackInline } from './inline.js';
import { BadBlobError, type BlobStore } from './object-store.js';
import type { InlineBlob } from './protocol.js';

export class BlobCache {
  private readonly verified = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Fan-out folders known to exist. */
  private readonly folders = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly store: BlobStore,
  ) {}

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** The local path of a verified copy, fetching it when needed; BadBlobError when the store cannot supply it. */
  get(sha256: string): Promise<string> {
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = this.ensure(sha256).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    return pending;
  }

  private async ensure(sha256: string): Promise<string> {
    const path = this.pathOf(sha256);
    const identity = fileIdentity(path);
    if (identity !== null) {
      if (this.verified.get(sha256) === identity) return path;
      if ((await sha256File(path)) === sha256) {
        this.verified.set(sha256, identity);
        return path;
      }
      // A damaged local copy: drop it and fetch again.
      await rm(path, { force: true });
    }
    await this.store.fetchToFile(sha256, path);
    this.verified.set(sha256, fileIdentity(path)!);
    return path;
  }

  /**
   * Takes blobs that came by value inside a message, so that getAll finds them
   * here instead of asking the store; returns the ones whose bytes do not match
   * their name (nothing of those is kept).
   */
  putInline(blobs: readonly InlineBlob[], where: string): BadBlobError[] {
    const bad: BadBlobError[] = [];
    for (const blob of blobs) {
      let bytes: Buffer;
      try {
        bytes = unpackInline(blob, where);
      } catch (error) {
        if (!(error instanceof BadBlobError)) throw error;
        bad.push(error);
        continue;
      }
      const path = this.pathOf(blob.sha256);
      // A copy already here is checked by ensure() when it is used.
      if (fileIdentity(path) !== null) continue;
      // Small by construction (see inline.ts): synchronous calls are cheaper.
      const folder = dirname(path);
      if (!this.folders.has(folder)) {
        mkdirSync(folder, { recursive: true });
        this.folders.add(folder);
      }
      const tmp = tempSibling(path);
      writeFileSync(tmp, bytes, { mode: 0o444 });
      renameSync(tmp, path);
      this.verified.set(blob.sha256, fileIdentity(path)!);
    }
    return bad;
  }

  /** Fetches every blob, returning digest → path; collects all the bad ones before failing. */
  async getAll(digests: readonly string[], parallel: number): Promise<{ paths: Map<string, string>; bad: BadBlobError[] }> {
    const paths = new Map<string, string>();
    const bad: BadBlobError[] = [];
    const queue = [...digests];
    const runners = Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let sha = queue.shift(); sha !== undefined; sha = queue.shift()) {
        try {
          paths.set(sha, await this.get(sha));
        } catch (error) {
          if (!(error instanceof BadBlobError)) throw error;
          bad.push(error);
        }
      }
    });
    await Promise.all(runners);
    return { paths, bad };
  }
}

/** inode, size and mtime, or null when there is no file (a stat is cheaper done synchronously than through the thread pool). */
function fileIdentity(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? null : `${st.ino}:${st.size}:${st.mtimeMs}`;
}

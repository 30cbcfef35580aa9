/**
 * Spec facts cached by their key, the hash of (rendered spec, macro context,
 * arch): one small JSON file per key, written atomically, so a run over an
 * unchanged tree evaluates nothing and an interrupted run never leaves a
 * half-written entry behind.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SpecFacts } from './model.js';
import { tempSibling } from '../util/atomic.js';
import { hashRecord } from '../util/hash.js';

export class FactsCache {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The cached facts, or undefined when absent or unreadable (then they are evaluated again). */
  async get(key: string): Promise<SpecFacts | undefined> {
    try {
      const facts = JSON.parse(await readFile(this.path(key), 'utf8')) as SpecFacts;
      return facts.key === key ? facts : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The facts of a whole tree in one file: a warm run over thousands of
   * unchanged specs reads one file instead of one per spec. Only the latest set
   * is kept; the per-spec entries still serve a tree that changed a little.
   */
  async getSet(keys: string[]): Promise<SpecFacts[] | undefined> {
    try {
      const set = JSON.parse(await readFile(join(this.dir, 'latest-set.json'), 'utf8')) as { id: string; facts: SpecFacts[] };
      if (set.id !== hashRecord(keys) || set.facts.length !== keys.length) return undefined;
      return set.facts.every((facts, i) => facts.key === keys[i]) ? set.facts : undefined;
    } catch {
      return undefined;
    }
  }

  async putSet(keys: string[], facts: SpecFacts[]): Promise<void> {
    await this.write(join(this.dir, 'latest-set.json'), JSON.stringify({ id: hashRecord(keys), facts }));
  }

  async put(facts: SpecFacts): Promise<void> {
    await this.write(this.path(facts.key), JSON.stringify(facts));
  }

  /**
   * Temp file + rename, like every strata write, but without the fsync of
   * writeFileAtomic: an entry costs ~8 ms to sync, 16 s over a 2,000-spec tree.
   * An entry a crash leaves empty fails to parse or carries the wrong key, and
   * `get` then treats it as absent: it is never trusted, only evaluated again.
   */
  private async write(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempSibling(path);
    try {
      await writeFile(tmp, `${text}\n`);
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }
}

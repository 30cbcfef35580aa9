/**
 * Spec facts cached by their key, the hash of (rendered spec, macro context,
 * arch): one small JSON file per key, written atomically, so a run over an
 * unchanged tree evaluates nothing and an interrupted run never leaves a
 * half-written entry behind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpecFacts } from './model.js';
import { writeFileAtomic } from '../util/atomic.js';

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

  async put(facts: SpecFacts): Promise<void> {
    await writeFileAtomic(this.path(facts.key), `${JSON.stringify(facts)}\n`);
  }
}

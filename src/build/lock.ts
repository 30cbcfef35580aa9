/**
 * Process-level exclusion for shared folders (the output folder) and cleanup
 * of what killed processes left behind. A lock is a file created with O_EXCL
 * holding the owner's pid; a lock whose owner is gone is taken over.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { interrupted } from '../util/errors.js';
import { processAlive } from '../util/process.js';
import type { Logger } from '../util/log.js';

async function owner(path: string): Promise<number | null> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : null;
}

export interface Lock {
  release(): Promise<void>;
}

/** Takes `path` as a lock, waiting while another live process holds it. */
export async function acquireLock(path: string, what: string, log: Logger, signal?: AbortSignal): Promise<Lock> {
  let announced = false;
  for (;;) {
    if (signal?.aborted) throw interrupted();
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = await owner(path);
    if (pid === null) {
      await rm(path, { force: true });
      continue;
    }
    if (!announced) {
      log.info(`waiting for strata (pid ${pid}) to finish with ${what}`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Names of scratch entries carry their creator's pid: `<prefix><pid>-…`. */
export function scratchName(prefix: string, rest: string): string {
  return `${prefix}${process.pid}-${rest}`;
}

/** Removes scratch entries in `dir` whose creating process is gone (an interrupted or killed run). */
export async function removeStaleScratch(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from './process.js';

/**
 * Outputs are written next to their final place under a temporary name and
 * renamed into place, so a reader (or a later run) sees either the old complete
 * file or the new complete file, never a half-written one.
 */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data, { mode });
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const TEMP_SIBLING = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}(?:\.old)?$/;

/**
 * Temporary siblings of `path` whose writer is gone (a run killed mid-write).
 * They were never trusted; this removes them so they do not pile up.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = TEMP_SIBLING.exec(name);
    if (!match || match[1] !== basename(path)) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Builds a whole folder under a temporary name, then swaps it in for `target`.
 * The previous folder stays intact until the new one is complete.
 */
export async function replaceDirAtomic(target: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await removeStaleTemps(target);
  const tmp = tempSibling(target);
  const old = `${tmp}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  let hadOld = false;
  try {
    await rename(target, old);
    hadOld = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(tmp, target);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

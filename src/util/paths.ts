import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StrataError } from './errors.js';

/** True when `child` is `parent` or lies below it (after resolving `..`). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves a relative path written by the user and refuses one that leaves
 * `root` (through `..` or an absolute path).
 */
export function confinedPath(root: string, userPath: string, what: string): string {
  const full = resolve(root, userPath);
  if (!isInside(root, full)) {
    throw new StrataError(`${what} '${userPath}' points outside ${root}`, {
      hint: 'paths must stay inside their folder; use a path relative to it without ..',
    });
  }
  return full;
}

/** Slash-separated relative path, the same on every host. */
export function toPosix(path: string): string {
  return path.split(sep).join('/');
}

export interface TreeEntry {
  /** Relative to the walked root, '/'-separated. */
  path: string;
  absPath: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
}

/** Every entry below `root`, sorted by path bytes so that listings are stable. */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function visit(dir: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const absPath = join(dir, name);
      const st = await lstat(absPath);
      const path = toPosix(relative(root, absPath));
      const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
      out.push({ path, absPath, type, mode: st.mode & 0o7777, size: st.size });
      if (type === 'dir') await visit(absPath);
    }
  }
  await visit(root);
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/**
 * minimise_tree: what an immutable image never reads goes (documentation,
 * man/info pages, unwanted locales, caches, logs, the package manager's runtime
 * leftovers); what an auditor needs stays (the rpm database, licenses).
 * /etc/machine-id is left empty so the first boot generates the identity:
 * an image must not ship one machine's id to every machine.
 * Then every package gets a size report: the bytes of its files that remain.
 */
import { lstat, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { walkTree } from '../../util/paths.js';
import { isDirectory, pathExists } from '../fs.js';
import { type ComposeContext, type ComposeStep, type MinimiseReport } from '../context.js';
import { RPMDB_PATH } from './install_packages.js';
import { globToRegExp } from '../../util/glob.js';

/** Whole folders removed when `docs` is on. */
const DOC_DIRS = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/gtk-doc', 'usr/share/help'];
/** Folders whose contents go (the folder itself stays: packages own it, services expect it). */
const CACHE_DIRS = ['var/cache', 'var/lib/dnf', 'var/lib/yum'];
const LOG_DIRS = ['var/log'];
const TEMP_DIRS = ['tmp', 'var/tmp', 'run'];
/** rpm's runtime files next to its database: lock, and sqlite's shared-memory and write-ahead files. */
const RPMDB_RUNTIME = ['.rpm.lock', '.dbenv.lock', 'rpmdb.sqlite-shm', 'rpmdb.sqlite-wal'];
const LOCALE_DIRS = ['usr/share/locale', 'usr/lib/locale'];

/** A locale folder is kept when it is a kept language or one of its variants (de → de_AT, de.UTF-8, de@euro). */
export function keepLocale(dirName: string, keep: readonly string[]): boolean {
  return keep.some((lang) => dirName === lang || dirName.startsWith(`${lang}_`) || dirName.startsWith(`${lang}.`) || dirName.startsWith(`${lang}@`));
}

/** A `remove` rule of [images.NAME.minimise] over paths relative to the image root (a leading '/' is allowed). */
export function removalPattern(glob: string): RegExp {
  return globToRegExp(glob.replace(/^\/+/, ''), { strict: false });
}

async function sizeOf(path: string): Promise<{ entries: number; bytes: number }> {
  const st = await lstat(path);
  if (!st.isDirectory()) return { entries: 1, bytes: st.isFile() ? st.size : 0 };
  const tree = await walkTree(path);
  return { entries: tree.length + 1, bytes: tree.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0) };
}

export const minimiseTree: ComposeStep = {
  name: 'minimise_tree',
  applies: () => true,
  async run(context) {
    const root = context.stageRoot;
    const rules = context.image.minimise;
    const removed: MinimiseReport['removed'] = {};
    const remove = async (category: string, rel: string): Promise<void> => {
      const path = join(root, rel);
      if (!(await pathExists(path))) return;
      const size = await sizeOf(path);
      const entry = (removed[category] ??= { entries: 0, bytes: 0 });
      entry.entries += size.entries;
      entry.bytes += size.bytes;
      await rm(path, { recursive: true, force: true });
    };
    const removeContents = async (category: string, rel: string): Promise<void> => {
      const path = join(root, rel);
      const st = await lstat(path).catch(() => null);
      if (!st?.isDirectory()) return;
      for (const name of (await readdir(path)).sort()) await remove(category, `${rel}/${name}`);
    };

    if (rules.docs) for (const dir of DOC_DIRS) await remove('docs', dir);
    if (rules.locales.length > 0) {
      for (const dir of LOCALE_DIRS) {
        const path = join(root, dir);
        if (!(await isDirectory(path))) continue;
        for (const name of (await readdir(path)).sort()) {
          const st = await lstat(join(path, name));
          if (st.isDirectory() && !keepLocale(name, rules.locales)) await remove('locales', `${dir}/${name}`);
        }
      }
    }
    for (const dir of CACHE_DIRS) await removeContents('caches', dir);
    for (const dir of LOG_DIRS) await removeContents('logs', dir);
    for (const dir of TEMP_DIRS) await removeContents('temporary files', dir);
    for (const name of RPMDB_RUNTIME) await remove('rpm runtime files', `${RPMDB_PATH.slice(1)}/${name}`);
    if (rules.remove.length > 0) {
      const patterns = rules.remove.map(removalPattern);
      for (const entry of await walkTree(root)) {
        if (patterns.some((p) => p.test(entry.path))) await remove('configured removals', entry.path);
      }
    }

    const machineId = join(root, 'etc/machine-id');
    if (await pathExists(join(root, 'etc'))) {
      await rm(machineId, { force: true });
      await writeFile(machineId, '');
      await chmod(machineId, 0o444);
    }

    for (const [category, { entries, bytes }] of Object.entries(removed)) {
      context.log.verbose(`  removed ${category}: ${entries} entries, ${bytes} bytes`);
    }
    return { ...context, minimise: { removed }, installed: await withImageBytes(context) };
  },
};

/** Each package's bytes still present: its regular files that survived minimisation. */
async function withImageBytes(context: ComposeContext): Promise<ComposeContext['installed']> {
  const sizes = new Map<string, number>();
  for (const entry of await walkTree(context.stageRoot)) if (entry.type === 'file') sizes.set(`/${entry.path}`, entry.size);
  return context.installed.map((p) => ({ ...p, imageBytes: (context.packageFiles.get(p.name) ?? []).reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0) }));
}

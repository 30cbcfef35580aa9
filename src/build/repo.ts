/**
 * The local repository of one arch, `out/repo/<arch>/`: the RPMs of the
 * build and createrepo_c metadata. The folder is assembled under a temporary
 * name and swapped in whole. Metadata is reproducible: RPM mtimes set to
 * SOURCE_DATE_EPOCH, `--revision` and `--set-timestamp-to-revision`, no
 * sqlite databases. An unchanged set of RPMs leaves the folder untouched.
 * A build of some components replaces just their RPMs and keeps the others'.
 */
import { copyFile, link, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { hashRecord, sha256File } from '../util/hash.js';
import { run } from '../util/process.js';
import { publishProvenance } from '../audit/provenance.js';

export interface RepoPackage {
  /** The component that built it. */
  component: string;
  file: string;
  sha256: string;
  size: number;
  /** Where the RPM is now (the cache). */
  path: string;
}

const STAMP = '.strata-repo.json';

async function placeFile(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch {
    await copyFile(source, target);
  }
}

interface Stamp {
  identity: string;
  packages: Array<Omit<RepoPackage, 'path'>>;
}

async function readStamp(dir: string): Promise<Stamp | null> {
  try {
    return JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

/**
 * Writes the repository unless it already holds exactly these RPMs. With
 * `keepOthers`, the RPMs of components not among `packages` stay as they are.
 * Returns whether the folder changed.
 */
export async function publishRepo(dir: string, packages: RepoPackage[], sourceDateEpoch: number, keepOthers: boolean, signal?: AbortSignal): Promise<boolean> {
  const all = [...packages];
  if (keepOthers) {
    const built = new Set(packages.map((p) => p.component));
    for (const kept of (await readStamp(dir))?.packages ?? []) {
      if (built.has(kept.component) || !(await stat(join(dir, kept.file)).catch(() => null))) continue;
      all.push({ ...kept, path: join(dir, kept.file) });
    }
  }
  const sorted = all.sort((a, b) => (a.file < b.file ? -1 : 1));
  const identity = hashRecord({ packages: sorted.map((p) => [p.file, p.sha256]), sourceDateEpoch, format: 1 });
  if (await upToDate(dir, identity, sorted)) return false;
  await replaceDirAtomic(dir, async (tmp) => {
    const when = new Date(sourceDateEpoch * 1000);
    for (const pkg of sorted) {
      const target = join(tmp, pkg.file);
      await placeFile(pkg.path, target);
      await utimes(target, when, when);
      await publishProvenance(pkg.path, target);
    }
    await run(
      'createrepo_c',
      ['--quiet', '--no-database', '--workers', '1', '--revision', String(sourceDateEpoch), '--set-timestamp-to-revision', '--general-compress-type', 'gz', tmp],
      { env: { SOURCE_DATE_EPOCH: String(sourceDateEpoch) }, signal },
    );
    const stamp: Stamp = { identity, packages: sorted.map(({ component, file, sha256, size }) => ({ component, file, sha256, size })) };
    await writeFileAtomic(join(tmp, STAMP), `${JSON.stringify(stamp, null, 1)}\n`);
  });
  return true;
}

async function upToDate(dir: string, identity: string, packages: RepoPackage[]): Promise<boolean> {
  try {
    const stamp = await readStamp(dir);
    if (stamp?.identity !== identity) return false;
    // Re-hashed, not just sized: a damaged RPM of the same size must not stay published.
    for (const pkg of packages) {
      const path = join(dir, pkg.file);
      if ((await stat(path)).size !== pkg.size || (await sha256File(path)) !== pkg.sha256) return false;
    }
    return (await stat(join(dir, 'repodata', 'repomd.xml'))).isFile();
  } catch {
    return false;
  }
}

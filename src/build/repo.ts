/**
 * The local repository of one arch, `out/repo/<arch>/`: the RPMs of the
 * build and createrepo_c metadata. The folder is assembled under a temporary
 * name and swapped in whole. Metadata is reproducible: RPM mtimes set to
 * SOURCE_DATE_EPOCH, `--revision` and `--set-timestamp-to-revision`, no
 * sqlite databases. An unchanged set of RPMs leaves the folder untouched.
 */
import { copyFile, link, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { hashRecord } from '../util/hash.js';
import { run } from '../util/process.js';

export interface RepoPackage {
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

/** Writes the repository unless it already holds exactly these RPMs. Returns whether it changed. */
export async function publishRepo(dir: string, packages: RepoPackage[], sourceDateEpoch: number, signal?: AbortSignal): Promise<boolean> {
  const sorted = [...packages].sort((a, b) => (a.file < b.file ? -1 : 1));
  const identity = hashRecord({ packages: sorted.map((p) => [p.file, p.sha256]), sourceDateEpoch, format: 1 });
  if (await upToDate(dir, identity, sorted)) return false;
  await replaceDirAtomic(dir, async (tmp) => {
    const when = new Date(sourceDateEpoch * 1000);
    for (const pkg of sorted) {
      const target = join(tmp, pkg.file);
      await placeFile(pkg.path, target);
      await utimes(target, when, when);
    }
    await run(
      'createrepo_c',
      ['--quiet', '--no-database', '--workers', '1', '--revision', String(sourceDateEpoch), '--set-timestamp-to-revision', '--general-compress-type', 'gz', tmp],
      { env: { SOURCE_DATE_EPOCH: String(sourceDateEpoch) }, signal },
    );
    await writeFileAtomic(join(tmp, STAMP), `${JSON.stringify({ identity, packages: sorted.map((p) => ({ file: p.file, sha256: p.sha256, size: p.size })) }, null, 1)}\n`);
  });
  return true;
}

async function upToDate(dir: string, identity: string, packages: RepoPackage[]): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as { identity: string };
    if (stamp.identity !== identity) return false;
    for (const pkg of packages) {
      if ((await stat(join(dir, pkg.file))).size !== pkg.size) return false;
    }
    return (await stat(join(dir, 'repodata', 'repomd.xml'))).isFile();
  } catch {
    return false;
  }
}

/**
 * Assembling job bundles from local files, and the cache key of a bundle.
 * The key covers every field that can change what rpmbuild writes; the
 * version of strata's build recipe is part of it, so a change to how strata
 * runs builds (sandbox layout, rpmbuild defines) invalidates every entry.
 */
import { stat } from 'node:fs/promises';
import type { Arch } from '../config/model.js';
import { hashRecord } from '../util/hash.js';
import { walkTree } from '../util/paths.js';
import { BUNDLE_FORMAT, type BuildRootIdentity, type BundleFile, type JobBundle } from './executor.js';
import type { DigestCache } from './digest-cache.js';

/** Bump when the way jobs are run changes what they produce. */
export const BUILD_RECIPE = 'strata-rpmbuild/1';

/** A bundle file plus where its bytes are on this host. */
export interface LocalFile {
  file: BundleFile;
  localPath: string;
}

export async function localFile(localPath: string, path: string, digests: DigestCache): Promise<LocalFile> {
  const st = await stat(localPath);
  return { file: { path, sha256: await digests.sha256(localPath), size: st.size, mode: st.mode & 0o777 }, localPath };
}

/** Every file of an rpm configuration folder (RPM_CONFIGDIR), symlinks followed. */
export async function configTree(configDir: string, digests: DigestCache): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const entry of await walkTree(configDir)) {
    if (entry.type === 'dir') continue;
    const st = await stat(entry.absPath).catch(() => null);
    if (!st?.isFile()) continue;
    files.push(await localFile(entry.absPath, entry.path, digests));
  }
  return files;
}

export interface BundleParts {
  component: string;
  arch: Arch;
  noarch: boolean;
  specFile: string;
  sources: LocalFile[];
  dependencyRpms: LocalFile[];
  rpmConfig: LocalFile[];
  /** The macro context's private config folder, as named in rpmArgs/env (rewritten to /usr/lib/rpm). */
  configDir: string;
  rpmArgs: string[];
  env: Record<string, string>;
  buildRoot: BuildRootIdentity;
  buildRootBlobs: ReadonlyMap<string, string>;
  sourceDateEpoch: number;
  check: boolean;
  timeoutSeconds: number;
}

/** The fields of a bundle that can change its output. */
export function keyInputs(bundle: Omit<JobBundle, 'key'>): Record<string, unknown> {
  const files = (list: BundleFile[]): string[] => list.map((f) => `${f.path} ${f.sha256} ${(f.mode & 0o111) !== 0 ? 'x' : '-'}`).sort();
  return {
    recipe: bundle.recipe,
    component: bundle.component,
    arch: bundle.arch,
    noarch: bundle.noarch,
    specFile: bundle.specFile,
    sources: files(bundle.sources),
    dependencyRpms: bundle.dependencyRpms.map((f) => f.sha256).sort(),
    rpmConfig: files(bundle.rpmConfig),
    rpmArgs: bundle.rpmArgs,
    env: bundle.env,
    buildRoot: { type: bundle.buildRoot.type, id: bundle.buildRoot.id, provides: bundle.buildRoot.provides },
    sourceDateEpoch: bundle.sourceDateEpoch,
    check: bundle.check,
  };
}

export function cacheKey(bundle: Omit<JobBundle, 'key'>): string {
  return hashRecord(keyInputs(bundle));
}

/** The sandbox shows the config tree at /usr/lib/rpm, so references to the host folder are rewritten. */
function relocate(value: string, configDir: string): string {
  return value.split(configDir).join('/usr/lib/rpm');
}

export function makeBundle(parts: BundleParts): { bundle: JobBundle; blobs: Map<string, string> } {
  const sorted = (list: LocalFile[]): BundleFile[] => list.map((l) => l.file).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const withoutKey: Omit<JobBundle, 'key'> = {
    format: BUNDLE_FORMAT,
    job: `${parts.component}/${parts.noarch ? 'noarch' : parts.arch}`,
    component: parts.component,
    arch: parts.arch,
    noarch: parts.noarch,
    specFile: parts.specFile,
    sources: sorted(parts.sources),
    dependencyRpms: sorted(parts.dependencyRpms),
    rpmConfig: sorted(parts.rpmConfig),
    rpmArgs: parts.rpmArgs.map((arg) => relocate(arg, parts.configDir)),
    env: Object.fromEntries(
      Object.entries(parts.env)
        .filter(([name]) => name !== 'RPM_CONFIGDIR')
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => [name, relocate(value, parts.configDir)]),
    ),
    buildRoot: parts.buildRoot,
    sourceDateEpoch: parts.sourceDateEpoch,
    check: parts.check,
    timeoutSeconds: parts.timeoutSeconds,
    recipe: BUILD_RECIPE,
  };
  const blobs = new Map<string, string>(parts.buildRootBlobs);
  for (const local of [...parts.sources, ...parts.dependencyRpms, ...parts.rpmConfig]) blobs.set(local.file.sha256, local.localPath);
  return { bundle: { ...withoutKey, key: cacheKey(withoutKey) }, blobs };
}

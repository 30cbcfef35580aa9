/**
 * Build roots: what a job sees as its operating system. `host` is this
 * machine's toolchain, read-only; `tarball` and `oci` are root filesystems
 * imported into a content-addressed folder of the cache. Either way the root
 * has an identity that is part of every cache key.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRootSpec } from '../config/model.js';
import { StrataError } from '../util/errors.js';
import { hashRecord, sha256Hex } from '../util/hash.js';
import { run } from '../util/process.js';
import { tempSibling } from '../util/atomic.js';
import type { BuildRootIdentity, BundleFile } from './executor.js';
import type { DigestCache } from './digest-cache.js';
import { unpackArchives } from './root-import.js';

export interface ResolvedBuildRoot {
  identity: BuildRootIdentity;
  /** Local paths of the archives named in the identity, by SHA-256. */
  blobs: Map<string, string>;
}

const DPKG_STATUS = '/var/lib/dpkg/status';

/**
 * Identity of the host's installed package set (name, version, arch per
 * line, sorted): any toolchain upgrade changes it, and so every cache key.
 * Hosts with the same packages get the same identity (farm workers rely on
 * it). The list is recomputed only when the package database changes.
 */
export async function hostRootId(digests: DigestCache): Promise<string> {
  const list = async (command: string, args: string[]): Promise<string> => {
    const out = await run(command, args);
    return sha256Hex(`host\n${out.stdout.split('\n').filter(Boolean).sort().join('\n')}`);
  };
  if (existsSync(DPKG_STATUS)) {
    return digests.derived('host-root-id', DPKG_STATUS, () => list('dpkg-query', ['-W', '-f', '${Package} ${Version} ${Architecture}\\n']));
  }
  return list('rpm', ['-qa', '--qf', '%{NAME} %{EVR} %{ARCH}\\n']);
}

export async function resolveBuildRoot(spec: BuildRootSpec, digests: DigestCache): Promise<ResolvedBuildRoot> {
  const provides = [...new Set(spec.provides)].sort();
  if (spec.type === 'host') {
    const id = await hostRootId(digests);
    return { identity: { type: 'host', id, provides, archives: [] }, blobs: new Map() };
  }
  const paths = spec.type === 'tarball' ? [spec.path] : await ociLayers(spec.path);
  const archives: BundleFile[] = [];
  const blobs = new Map<string, string>();
  for (const [index, path] of paths.entries()) {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) throw new StrataError(`build root archive ${path} does not exist`, { kind: 'input', hint: 'check [build.build-root] path' });
    const sha256 = await digests.sha256(path);
    archives.push({ path: `layer-${String(index).padStart(3, '0')}`, sha256, size: st.size, mode: 0o644 });
    blobs.set(sha256, path);
  }
  const id = hashRecord({ type: spec.type, archives: archives.map((a) => a.sha256) });
  return { identity: { type: spec.type, id, provides, archives }, blobs };
}

interface OciDescriptor {
  mediaType?: string;
  digest: string;
  platform?: { architecture?: string; os?: string };
}

/** The layer blobs of the image in an OCI image layout folder, bottom layer first. */
async function ociLayers(layoutDir: string): Promise<string[]> {
  const blob = (digest: string): string => {
    const [algorithm, hex] = digest.split(':');
    if (algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex ?? '')) {
      throw new StrataError(`OCI layout ${layoutDir}: unsupported digest ${digest}`, { kind: 'input' });
    }
    return join(layoutDir, 'blobs', 'sha256', hex!);
  };
  const readJson = async (path: string): Promise<Record<string, unknown>> => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new StrataError(`OCI layout ${layoutDir}: cannot read ${path}`, { kind: 'input', cause: error });
    }
  };
  let descriptor: OciDescriptor | undefined;
  let doc = await readJson(join(layoutDir, 'index.json'));
  // Follow image indexes down to one image manifest, preferring this host's arch.
  for (let depth = 0; depth < 4 && Array.isArray(doc.manifests); depth++) {
    const manifests = doc.manifests as OciDescriptor[];
    const hostArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    descriptor = manifests.find((m) => m.platform?.architecture === hostArch) ?? manifests[0];
    if (!descriptor) throw new StrataError(`OCI layout ${layoutDir} holds no image`, { kind: 'input' });
    doc = await readJson(blob(descriptor.digest));
  }
  const layers = doc.layers as OciDescriptor[] | undefined;
  if (!Array.isArray(layers)) throw new StrataError(`OCI layout ${layoutDir}: no image manifest with layers found`, { kind: 'input' });
  return layers.map((layer) => blob(layer.digest));
}

/**
 * The folder that is the root: `/` for the host, else the unpacked import under
 * `<cacheDir>/build/roots/<id>`, unpacked once (into a temporary folder renamed
 * into place, so an interrupted import is never used).
 */
export async function materializeRoot(identity: BuildRootIdentity, blobs: ReadonlyMap<string, string>, cacheDir: string): Promise<string> {
  if (identity.type === 'host') return '/';
  const target = join(cacheDir, 'build', 'roots', identity.id);
  if ((await lstat(target).catch(() => null))?.isDirectory()) return target;
  const archives = identity.archives.map((archive) => {
    const path = blobs.get(archive.sha256);
    if (!path) throw new StrataError(`build root archive ${archive.sha256} is not available here`, { kind: 'build' });
    return path;
  });
  await mkdir(join(cacheDir, 'build', 'roots'), { recursive: true });
  const tmp = tempSibling(target);
  await mkdir(tmp);
  try {
    await unpackArchives(archives, tmp);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') return target;
    throw error;
  }
  return target;
}

/** Where the pieces of a root are, for mounting it. */
export interface RootLayout {
  root: string;
  /** Top-level names that are symlinks in the root (`bin -> usr/bin` on merged-/usr systems). */
  symlinks: Array<{ name: string; target: string }>;
  /** Top-level folders besides usr and etc that the sandbox shows read-only. */
  extraDirs: string[];
}

export async function rootLayout(root: string): Promise<RootLayout> {
  const symlinks: RootLayout['symlinks'] = [];
  const extraDirs: string[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'opt']) {
    const st = await lstat(join(root, name)).catch(() => null);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      symlinks.push({ name, target: await readlink(join(root, name)) });
    } else if (st.isDirectory()) {
      extraDirs.push(name);
    }
  }
  return { root, symlinks, extraDirs };
}

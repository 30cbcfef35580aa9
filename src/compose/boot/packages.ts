/**
 * Debian packages the boot test needs (kernel, busybox-static), fetched with
 * `apt-get download` and unpacked with `dpkg-deb -x` into the cache folder,
 * never installed on the host. Each unpacked tree is keyed by the .deb's
 * SHA-256, so a new kernel upload in the archive is a new cache entry.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { pathExists } from '../fs.js';
import { join } from 'node:path';
import type { Arch } from '../../config/model.js';
import { StrataError } from '../../util/errors.js';
import { sha256File } from '../../util/hash.js';
import type { Logger } from '../../util/log.js';
import { run } from '../../util/process.js';

export const DEBIAN_ARCH: Record<Arch, string> = { x86_64: 'amd64', aarch64: 'arm64' };

const ADD_ARCH = (debArch: string): string => `dpkg --add-architecture ${debArch} && apt-get update`;

/** Makes apt know the foreign architecture's packages (as root), or says exactly what to run. */
export async function ensureDebianArch(arch: Arch, log: Logger, signal?: AbortSignal): Promise<void> {
  const debArch = DEBIAN_ARCH[arch];
  const native = (await run('dpkg', ['--print-architecture'], { signal })).stdout.trim();
  if (native === debArch) return;
  const foreign = (await run('dpkg', ['--print-foreign-architectures'], { signal })).stdout.split('\n').map((s) => s.trim());
  const known = (await run('apt-cache', ['show', `busybox-static:${debArch}`], { allowFailure: true, signal })).exitCode === 0;
  if (foreign.includes(debArch) && known) return;
  if (process.getuid?.() !== 0) {
    throw new StrataError(`apt does not know ${debArch} packages yet`, { kind: 'input', hint: `as root, run: ${ADD_ARCH(debArch)}` });
  }
  log.info(`  adding the ${debArch} architecture to apt: ${ADD_ARCH(debArch)}`);
  await run('dpkg', ['--add-architecture', debArch], { signal });
  await run('apt-get', ['update', '-qq'], { signal, timeoutMs: 600_000 });
}

/** The versioned kernel package the arch's metapackage depends on (linux-image-amd64 → linux-image-6.1.0-56-amd64). */
export async function kernelPackage(arch: Arch, signal?: AbortSignal): Promise<string> {
  const debArch = DEBIAN_ARCH[arch];
  const result = await run('apt-cache', ['depends', `linux-image-${debArch}:${debArch}`], { signal, allowFailure: true });
  const dep = /Depends: (linux-image-[0-9][^\s:]*)/.exec(result.stdout)?.[1];
  if (!dep) {
    throw new StrataError(`apt knows no kernel package for ${debArch}`, { kind: 'input', details: result.all.split('\n').slice(0, 5), hint: `run: ${ADD_ARCH(debArch)}` });
  }
  return dep;
}

/**
 * Downloads `pkg` for the arch (unless the cache has that exact version) and
 * returns the folder it is unpacked in.
 */
export async function fetchDeb(pkg: string, arch: Arch, cacheDir: string, log: Logger, signal?: AbortSignal): Promise<string> {
  const debArch = DEBIAN_ARCH[arch];
  const policy = await run('apt-cache', ['policy', `${pkg}:${debArch}`], { signal });
  const version = /Candidate:\s*(\S+)/.exec(policy.stdout)?.[1];
  if (!version || version === '(none)') throw new StrataError(`apt has no candidate for ${pkg}:${debArch}`, { kind: 'input', hint: `run: ${ADD_ARCH(debArch)}` });
  const debDir = join(cacheDir, 'debs', debArch);
  await mkdir(debDir, { recursive: true });
  const fileVersion = version.replace(/:/g, '%3a');
  const debName = `${pkg}_${fileVersion}_${debArch}.deb`;
  if (!(await pathExists(join(debDir, debName)))) {
    log.info(`  downloading ${pkg}:${debArch} ${version}`);
    await run('apt-get', ['download', '-q', `${pkg}:${debArch}=${version}`], { cwd: debDir, signal, timeoutMs: 600_000 });
  }
  const digest = await sha256File(join(debDir, debName));
  const tree = join(cacheDir, 'unpacked', `${pkg}-${digest.slice(0, 16)}`);
  if (await pathExists(tree)) return tree;
  const tmp = `${tree}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await run('dpkg-deb', ['-x', join(debDir, debName), tmp], { signal });
  await rename(tmp, tree);
  return tree;
}

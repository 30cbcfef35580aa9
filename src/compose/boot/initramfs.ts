/**
 * The boot-test initramfs: busybox-static, the kernel modules verity and the
 * image's filesystem need, the strata-verity helper and /init, as a newc cpio
 * archive. It is cached under the key of all its inputs and built reproducibly
 * (sorted entries, fixed times). It stays uncompressed: under TCG the guest
 * kernel's gunzip costs more boot time than reading a few more megabytes.
 */
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../../config/model.js';
import { hashRecord, sha256File } from '../../util/hash.js';
import type { Logger } from '../../util/log.js';
import { walkTree } from '../../util/paths.js';
import { run } from '../../util/process.js';
import { pathExists } from '../fs.js';
import { INIT_SCRIPT } from './init-script.js';
import { planModules } from './modules.js';

/** Source of strata-verity, next to this module in the source tree. */
export const HELPER_SOURCE = fileURLToPath(new URL('../../../../src/compose/boot/verity-helper.c', import.meta.url));

const COMPILER: Record<Arch, string> = { x86_64: 'gcc', aarch64: 'aarch64-linux-gnu-gcc' };

/** Modules the initramfs asks for; their dependencies follow from modinfo. */
export const WANTED_MODULES: Record<Arch, string[]> = {
  x86_64: ['virtio_pci', 'virtio_blk', 'dm_verity', 'crc32c_generic', 'erofs', 'squashfs'],
  aarch64: ['virtio_mmio', 'virtio_blk', 'dm_verity', 'crc32c_generic', 'erofs', 'squashfs'],
};

/** Compiles strata-verity statically for the arch (cached by source and compiler). */
export async function buildHelper(arch: Arch, cacheDir: string, signal?: AbortSignal): Promise<string> {
  const compilerVersion = (await run(COMPILER[arch], ['--version'], { signal })).stdout.split('\n')[0];
  const key = hashRecord({ source: await sha256File(HELPER_SOURCE), compiler: compilerVersion, arch });
  const out = join(cacheDir, 'helpers', `strata-verity-${arch}-${key.slice(0, 16)}`);
  if (await pathExists(out)) return out;
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  await run(COMPILER[arch], ['-static', '-Os', '-s', '-Wall', '-o', tmp, HELPER_SOURCE], { signal });
  await rename(tmp, out);
  return out;
}

export interface InitramfsInputs {
  arch: Arch;
  kernelTree: string;
  kernelVersion: string;
  busyboxTree: string;
  helper: string;
}

export async function buildInitramfs(inputs: InitramfsInputs, cacheDir: string, log: Logger, signal?: AbortSignal): Promise<string> {
  const moduleDir = join(inputs.kernelTree, 'lib/modules', inputs.kernelVersion);
  const plan = await planModules(moduleDir, WANTED_MODULES[inputs.arch]);
  // The unpacked trees are named after their .deb's digest: their names, not their paths, identify them.
  const key = hashRecord({
    init: INIT_SCRIPT,
    modules: plan.order,
    kernel: basename(inputs.kernelTree),
    busybox: basename(inputs.busyboxTree),
    helper: await sha256File(inputs.helper),
  });
  const name = `initramfs-${inputs.arch}-${key.slice(0, 16)}.cpio`;
  const out = join(cacheDir, 'initramfs', name);
  if (await pathExists(out)) return out;
  log.info(`  building the boot-test initramfs (${plan.order.length} modules${plan.builtin.length > 0 ? `; built in: ${plan.builtin.join(', ')}` : ''})`);
  const stage = await mkdtemp(join(tmpdir(), 'strata-initramfs-'));
  try {
    for (const dir of ['bin', 'dev', 'proc', 'sys', 'newroot', 'etc/strata', 'lib/modules']) await mkdir(join(stage, dir), { recursive: true });
    await copyFile(join(inputs.busyboxTree, 'bin/busybox'), join(stage, 'bin/busybox'));
    await copyFile(inputs.helper, join(stage, 'bin/strata-verity'));
    await writeFile(join(stage, 'init'), INIT_SCRIPT);
    await symlink('busybox', join(stage, 'bin/sh'));
    for (const file of ['init', 'bin/busybox', 'bin/strata-verity']) await chmod(join(stage, file), 0o755);
    for (const module of plan.order) {
      await mkdir(dirname(join(stage, 'lib/modules', module)), { recursive: true });
      await copyFile(join(moduleDir, module), join(stage, 'lib/modules', module));
    }
    await writeFile(join(stage, 'etc/strata/modules'), `${plan.order.join('\n')}\n`);
    const entries = await walkTree(stage);
    for (const entry of entries) if (entry.type !== 'symlink') await utimes(entry.absPath, 0, 0);
    await mkdir(dirname(out), { recursive: true });
    const list = entries.map((e) => e.path).join('\n');
    const cpio = `${out}.tmp-${process.pid}`;
    await run('cpio', ['--quiet', '-o', '-H', 'newc', '--reproducible', '-R', '0:0', '-O', cpio], { cwd: stage, input: `${list}\n`, signal });
    await rename(cpio, out);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  return out;
}

/**
 * strata boot: boots a composed disk image under qemu (TCG; no KVM needed)
 * with Debian's kernel and the generated initramfs, and decides from the
 * console: the image's boot marker means success; a verity error, a kernel
 * panic, an initramfs failure or a timeout mean failure.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Arch, DistroModel } from '../../config/model.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { StrataError } from '../../util/errors.js';
import { sha256Hex } from '../../util/hash.js';
import type { Logger } from '../../util/log.js';
import { run } from '../../util/process.js';
import { findImage, imageDir } from '../image.js';
import { readManifest } from '../manifest.js';
import { FAILURE_MARKER } from './init-script.js';
import { buildHelper, buildInitramfs } from './initramfs.js';
import { ensureDebianArch, fetchDeb, kernelPackage } from './packages.js';

export type BootOutcome = 'marker' | 'verity-error' | 'kernel-panic' | 'initramfs-failure' | 'timeout' | 'no-marker';

export interface BootReport {
  ok: boolean;
  outcome: BootOutcome;
  image: string;
  arch: Arch;
  /** The console line that decided the outcome. */
  evidence: string | null;
  seconds: number;
  kernel: string;
  console: string;
  consoleLog: string;
}

export interface BootOptions {
  log: Logger;
  signal?: AbortSignal;
  outRoot?: string;
  /** Boot this image folder instead of out/images/IMAGE/ARCH (tests boot tampered copies). */
  dir?: string;
  timeoutSeconds?: number;
}

/** Reads the console: the first decisive line wins, in the order the boot would reach them. */
export function classifyConsole(console: string, marker: string, timedOut: boolean): { outcome: BootOutcome; evidence: string | null } {
  const lines = console.split(/\r?\n/);
  const find = (re: RegExp): string | undefined => lines.find((l) => re.test(l));
  const verity = find(/device-mapper: verity: .*(corrupted|error)|verity: .* does not match/);
  if (verity) return { outcome: 'verity-error', evidence: verity.trim() };
  const panic = find(/Kernel panic/);
  if (panic) return { outcome: 'kernel-panic', evidence: panic.trim() };
  const failed = find(new RegExp(FAILURE_MARKER));
  if (failed) return { outcome: 'initramfs-failure', evidence: failed.trim() };
  const ok = lines.find((l) => l.trim() === marker);
  if (ok) return { outcome: 'marker', evidence: ok.trim() };
  return timedOut ? { outcome: 'timeout', evidence: null } : { outcome: 'no-marker', evidence: null };
}

interface Machine {
  binary: string;
  console: string;
  args: (kernel: string, initrd: string, disk: string, append: string) => string[];
}

const MACHINES: Record<Arch, Machine> = {
  x86_64: {
    binary: 'qemu-system-x86_64',
    console: 'ttyS0',
    args: (kernel, initrd, disk, append) => [
      '-machine', 'q35,accel=tcg', '-cpu', 'max', '-m', '512', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
      '-kernel', kernel, '-initrd', initrd, '-append', append,
      '-drive', `file=${disk},format=raw,if=virtio,readonly=on`,
    ],
  },
  aarch64: {
    binary: 'qemu-system-aarch64',
    console: 'ttyAMA0',
    args: (kernel, initrd, disk, append) => [
      '-machine', 'virt', '-cpu', 'cortex-a57', '-m', '512', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
      '-kernel', kernel, '-initrd', initrd, '-append', append,
      '-drive', `if=none,file=${disk},format=raw,id=disk0,readonly=on`, '-device', 'virtio-blk-device,drive=disk0',
    ],
  },
};

export interface BootInputs {
  kernel: string;
  kernelPackage: string;
  initramfs: string;
}

/** Kernel and initramfs for the arch, from the cache or fetched and built now. */
export async function bootInputs(arch: Arch, cacheDir: string, log: Logger, signal?: AbortSignal): Promise<BootInputs> {
  const bootCache = join(cacheDir, 'boot');
  await mkdir(bootCache, { recursive: true });
  await ensureDebianArch(arch, log, signal);
  const pkg = await kernelPackage(arch, signal);
  const kernelTree = await fetchDeb(pkg, arch, bootCache, log, signal);
  const busyboxTree = await fetchDeb('busybox-static', arch, bootCache, log, signal);
  const kernelVersion = pkg.replace(/^linux-image-/, '');
  const helper = await buildHelper(arch, bootCache, signal);
  const initramfs = await buildInitramfs({ arch, kernelTree, kernelVersion, busyboxTree, helper }, bootCache, log, signal);
  return { kernel: join(kernelTree, 'boot', `vmlinuz-${kernelVersion}`), kernelPackage: pkg, initramfs };
}

export async function bootImage(model: DistroModel, imageName: string, arch: Arch, options: BootOptions): Promise<BootReport> {
  const image = findImage(model, imageName);
  if (image.bootMarker === '') {
    throw new StrataError(`image ${imageName} has no boot-marker, so a boot cannot be told from a hang`, {
      location: image.definedAt,
      hint: `set boot-marker in [images.${imageName}] to the line its init prints once the system is up`,
    });
  }
  const dir = options.dir ?? imageDir(model, imageName, arch, options.outRoot);
  const manifest = await readManifest(dir);
  if (!manifest.disk || manifest.cmdline === null) throw new StrataError(`image ${imageName} (${arch}) has no disk image to boot`, { hint: 'compose it again' });
  const inputs = await bootInputs(arch, resolve(model.root, model.build.cacheDir), options.log, options.signal);
  const machine = MACHINES[arch];
  const append = `console=${machine.console} panic=-1 loglevel=4 ${manifest.cmdline}`;
  const logDir = join(options.outRoot ?? resolve(model.root, model.build.outDir), 'logs');
  await mkdir(logDir, { recursive: true });
  // A boot of another folder (a tampered copy, a release mirror) keeps its own log beside the image's.
  const consoleLog = join(logDir, options.dir ? `boot-${imageName}-${arch}-${sha256Hex(resolve(options.dir)).slice(0, 8)}.log` : `boot-${imageName}-${arch}.log`);
  const timeoutSeconds = options.timeoutSeconds ?? 180;
  options.log.info(`booting ${imageName}/${arch} under ${machine.binary} (TCG) with ${inputs.kernelPackage}`);
  const started = Date.now();
  const result = await run(machine.binary, machine.args(inputs.kernel, inputs.initramfs, join(dir, manifest.disk.file), append), {
    allowFailure: true,
    timeoutMs: timeoutSeconds * 1000,
    signal: options.signal,
    input: '',
  });
  const seconds = (Date.now() - started) / 1000;
  await writeFileAtomic(consoleLog, result.all);
  const { outcome, evidence } = classifyConsole(result.all, manifest.bootMarker, result.timedOut);
  return {
    ok: outcome === 'marker',
    outcome,
    image: imageName,
    arch,
    evidence,
    seconds,
    kernel: inputs.kernelPackage,
    console: result.all,
    consoleLog,
  };
}

/**
 * The podman backend, for hosts where podman is the sanctioned sandbox. The
 * container's root is an empty read-only folder holding only the top-level
 * symlinks; every tree of the SandboxSpec is a volume. Layered trees are
 * overlayfs mounts made in a private mount namespace that podman (and its
 * runtime) inherit. podman 4.3 on this kind of host needs runc, an explicit
 * --ulimit, and private storage (FIELD-NOTES), which is what this passes.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { SandboxSpec } from '../sandbox.js';
import { run, type RunResult } from '../../util/process.js';
import type { ExecutorOptions, ProbeResult } from '../executor.js';
import { createSandboxExecutor, type SandboxRunOptions } from './local.js';
import { shellQuote } from './bubblewrap.js';

function overlayPath(path: string): string {
  return path.replace(/([\\:,])/g, '\\$1');
}

export function podmanScript(spec: SandboxSpec, storageDir: string): string {
  // One output stream for the job, as in the bubblewrap backend: the log keeps the build's line order.
  const lines = ['set -e', 'exec 2>&1'];
  const rootfs = join(spec.scratchDir, 'rootfs');
  const args = [
    'podman',
    '--root', join(storageDir, 'storage'),
    '--runroot', join(spec.scratchDir, 'run'),
    '--runtime', 'runc',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'none',
    'run', '--rm', '--network=none', '--ulimit', 'nofile=4096:4096', '--read-only', '--hostname', 'strata',
    '--security-opt', 'label=disable', '--pull=never', '--rootfs', rootfs,
  ];
  spec.trees.forEach((tree, index) => {
    let source = tree.layers[0]!;
    if (tree.layers.length > 1) {
      source = join(spec.scratchDir, String(index));
      lines.push(`mkdir -p ${shellQuote(source)}`);
      lines.push(`mount -t overlay strata-overlay -o ${shellQuote(`ro,lowerdir=${tree.layers.map(overlayPath).join(':')}`)} ${shellQuote(source)}`);
    }
    args.push('-v', `${source}:${tree.target}:ro`);
  });
  for (const bind of spec.binds) args.push('-v', `${bind.source}:${bind.target}:${bind.writable ? 'rw' : 'ro'}`);
  for (const dir of spec.tmpfs) args.push('--tmpfs', dir);
  for (const [name, value] of Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1))) args.push('--env', `${name}=${value}`);
  args.push('--workdir', spec.cwd, '--', ...spec.command);
  lines.push(`exec ${args.map(shellQuote).join(' ')}`);
  return lines.join('\n');
}

async function prepareRootfs(spec: SandboxSpec): Promise<void> {
  const rootfs = join(spec.scratchDir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  for (const link of spec.symlinks) {
    const path = join(rootfs, link.path);
    await mkdir(join(path, '..'), { recursive: true });
    await symlink(link.target, path);
  }
}

function runner(storageDir: string) {
  return async (spec: SandboxSpec, options: SandboxRunOptions): Promise<RunResult> => {
    await prepareRootfs(spec);
    return run('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', podmanScript(spec, storageDir)], {
      logFile: options.logFile,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      allowFailure: true,
    });
  };
}

async function probe(storageDir: string, signal?: AbortSignal): Promise<ProbeResult> {
  try {
    const version = (await run('podman', ['--version'], { signal })).stdout.trim();
    const scratch = await mkdtemp(join(tmpdir(), 'strata-podman-probe-'));
    try {
      const spec: SandboxSpec = {
        trees: [{ target: '/usr', layers: ['/usr'] }],
        binds: [],
        symlinks: [{ path: '/bin', target: 'usr/bin' }, { path: '/lib', target: 'usr/lib' }, { path: '/lib64', target: 'usr/lib64' }],
        tmpfs: ['/tmp'],
        env: { PATH: '/usr/bin' },
        cwd: '/',
        command: ['/bin/sh', '-c', 'true'],
        scratchDir: scratch,
      };
      const result = await runner(storageDir)(spec, { logFile: join(scratch, 'log'), signal, timeoutMs: 60_000 });
      if (result.exitCode !== 0) return { backend: 'podman', ok: false, detail: `${version}: test container failed: ${result.all.trim().split('\n').pop() ?? ''}` };
      return { backend: 'podman', ok: true, detail: `${version}, runc, no network, read-only root` };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } catch (error) {
    return { backend: 'podman', ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

export function createPodmanExecutor(options: ExecutorOptions) {
  const storageDir = join(options.cacheDir, '.podman');
  return createSandboxExecutor('podman', runner(storageDir), (signal) => probe(storageDir, signal), options);
}

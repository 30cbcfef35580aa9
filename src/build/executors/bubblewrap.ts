/**
 * The bubblewrap backend. bubblewrap 0.8 cannot layer trees itself, so the
 * layered trees are kernel overlayfs mounts made in a private mount namespace
 * (`unshare -m`, or `unshare -Urm` when not root) that bwrap then binds; the
 * mounts vanish with the namespace when the job ends or is killed. bwrap runs
 * with every namespace unshared (no network), dies with its parent, and sees
 * only what the SandboxSpec lists; its root is remounted read-only.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxSpec } from '../sandbox.js';
import { run, type RunResult } from '../../util/process.js';
import type { ExecutorOptions, ProbeResult } from '../executor.js';
import { createSandboxExecutor, type SandboxRunOptions } from './local.js';

/** Single-quotes a word for sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** overlayfs option values need ':' ',' and '\' escaped. */
function overlayPath(path: string): string {
  return path.replace(/([\\:,])/g, '\\$1');
}

/** The shell script run inside the private mount namespace: mount the layered trees, then exec bwrap. */
export function sandboxScript(spec: SandboxSpec): string {
  // One stream for the whole job: two pipes merged by the parent interleave at
  // chunk boundaries and split lines; a single descriptor keeps the build's order.
  const lines = ['set -e', 'exec 2>&1'];
  const args = ['bwrap', '--unshare-all', '--die-with-parent', '--new-session', '--clearenv', '--hostname', 'strata'];
  spec.trees.forEach((tree, index) => {
    if (tree.layers.length === 1) {
      args.push('--ro-bind', tree.layers[0]!, tree.target);
      return;
    }
    const mountPoint = join(spec.scratchDir, String(index));
    lines.push(`mkdir -p ${shellQuote(mountPoint)}`);
    const options = `ro,lowerdir=${tree.layers.map(overlayPath).join(':')}`;
    lines.push(`mount -t overlay strata-overlay -o ${shellQuote(options)} ${shellQuote(mountPoint)}`);
    args.push('--ro-bind', mountPoint, tree.target);
  });
  for (const link of spec.symlinks) args.push('--symlink', link.target, link.path);
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const dir of spec.tmpfs) args.push('--tmpfs', dir);
  for (const bind of spec.binds) args.push(bind.writable ? '--bind' : '--ro-bind', bind.source, bind.target);
  args.push('--remount-ro', '/');
  for (const [name, value] of Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1))) args.push('--setenv', name, value);
  args.push('--chdir', spec.cwd, '--', ...spec.command);
  lines.push(`exec ${args.map(shellQuote).join(' ')}`);
  return lines.join('\n');
}

function namespaceCommand(): string[] {
  const root = process.getuid?.() === 0;
  return ['unshare', root ? '-m' : '-Urm', '--propagation', 'private', '--', 'sh', '-c'];
}

export async function runInBubblewrap(spec: SandboxSpec, options: SandboxRunOptions): Promise<RunResult> {
  await mkdir(spec.scratchDir, { recursive: true });
  const [command, ...args] = namespaceCommand();
  return run(command!, [...args, sandboxScript(spec)], {
    cleanEnv: true,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    logFile: options.logFile,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    allowFailure: true,
  });
}

/** Runs a trivial command in a sandbox with an overlay, the way jobs run. */
async function probe(signal?: AbortSignal): Promise<ProbeResult> {
  try {
    const version = (await run('bwrap', ['--version'], { signal })).stdout.trim();
    const scratch = await mkdtemp(join(tmpdir(), 'strata-probe-'));
    try {
      await mkdir(join(scratch, 'layer'));
      const spec: SandboxSpec = {
        trees: [
          { target: '/usr', layers: [join(scratch, 'layer'), '/usr'] },
          { target: '/etc', layers: ['/etc'] },
        ],
        binds: [],
        symlinks: [
          { path: '/bin', target: 'usr/bin' },
          { path: '/lib', target: 'usr/lib' },
          { path: '/lib64', target: 'usr/lib64' },
        ],
        tmpfs: ['/tmp'],
        env: { PATH: '/usr/bin' },
        cwd: '/',
        command: ['/bin/sh', '-c', 'touch /usr/probe 2>/dev/null && exit 3; exit 0'],
        scratchDir: join(scratch, 'mnt'),
      };
      const result = await runInBubblewrap(spec, { logFile: join(scratch, 'log'), signal, timeoutMs: 30_000 });
      if (result.exitCode !== 0) return { backend: 'bubblewrap', ok: false, detail: `${version}: sandbox test failed (exit ${result.exitCode}): ${result.all.trim().split('\n').pop() ?? ''}` };
      return { backend: 'bubblewrap', ok: true, detail: `${version}, overlayfs in a private mount namespace, read-only /usr, no network` };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } catch (error) {
    return { backend: 'bubblewrap', ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

export function createBubblewrapExecutor(options: ExecutorOptions) {
  return createSandboxExecutor('bubblewrap', runInBubblewrap, probe, options);
}

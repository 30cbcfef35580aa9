/**
 * The policy of a build sandbox, independent of the tool that enforces it:
 * the build root read-only with the job's dependency RPMs layered over its
 * /usr, the distro's rpm configuration at /usr/lib/rpm, no network, a private
 * /tmp, and the job tree as the only writable place. Backends
 * (executors/bubblewrap.ts, executors/podman.ts) translate a SandboxSpec
 * into their own arguments and add nothing of their own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JobBundle } from './executor.js';
import type { RootLayout } from './build-root.js';
import { type PreparedJob, SANDBOX_BUILD_DIR, SANDBOX_DB_DIR, rpmbuildCommand, rpmbuildEnv } from './job-tree.js';

export interface SandboxSpec {
  /**
   * Trees assembled from read-only layers (top layer first) and shown
   * read-only at `target`. A single layer is bound as it is.
   */
  trees: Array<{ target: string; layers: string[] }>;
  binds: Array<{ source: string; target: string; writable: boolean }>;
  symlinks: Array<{ path: string; target: string }>;
  tmpfs: string[];
  env: Record<string, string>;
  cwd: string;
  command: string[];
  /** A host folder the backend may use for mount points. */
  scratchDir: string;
}

export function jobSandbox(bundle: JobBundle, prepared: PreparedJob, layout: RootLayout): SandboxSpec {
  const stage = (name: string): string[] => {
    const dir = join(prepared.stageDir, name);
    return existsSync(dir) ? [dir] : [];
  };
  const trees: SandboxSpec['trees'] = [
    { target: '/usr', layers: [...stage('usr'), prepared.rpmConfigLayer, join(layout.root, 'usr')] },
    { target: '/etc', layers: [...stage('etc'), join(layout.root, 'etc')] },
    ...layout.extraDirs.map((name) => ({ target: `/${name}`, layers: [...stage(name), join(layout.root, name)] })),
  ];
  return {
    trees,
    binds: [
      { source: prepared.dbDir, target: SANDBOX_DB_DIR, writable: true },
      { source: prepared.buildDir, target: SANDBOX_BUILD_DIR, writable: true },
    ],
    symlinks: [...layout.symlinks.map((link) => ({ path: `/${link.name}`, target: link.target })), { path: '/var/tmp', target: '/tmp' }],
    tmpfs: ['/tmp'],
    env: rpmbuildEnv(bundle),
    cwd: SANDBOX_BUILD_DIR,
    command: ['/bin/sh', '-c', 'umask 022 && exec "$@"', 'rpmbuild', ...rpmbuildCommand(bundle)],
    scratchDir: join(prepared.workDir, 'mnt'),
  };
}

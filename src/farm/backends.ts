/**
 * What a worker can build with, and what it can therefore serve: the local
 * sandbox backends (the same executors `strata build` uses on one machine),
 * the arches this host builds for, and its host build-root identity.
 */
import { arch as hostArch } from 'node:process';
import type { Arch } from '../config/model.js';
import type { ExecutorFactory } from '../build/executor.js';
import { createBubblewrapExecutor } from '../build/executors/bubblewrap.js';
import { DigestCache } from '../build/digest-cache.js';
import { resolveBuildRoot } from '../build/build-root.js';
import { syntheticExecutor } from './synthetic.js';
import { rootRoute } from './subjects.js';

export const WORKER_BACKENDS: Record<string, ExecutorFactory> = {
  bubblewrap: createBubblewrapExecutor,
  synthetic: () => syntheticExecutor(),
};

/** x86_64 hosts cross-build aarch64 (FIELD-NOTES: cross compilers + qemu-user for %check); arm64 hosts build their own arch. */
export function defaultWorkerArches(): Arch[] {
  return hostArch === 'arm64' ? ['aarch64'] : ['x86_64', 'aarch64'];
}

/**
 * The build-root routes a worker serves: its own host root (identified exactly
 * as `strata build` identifies it, so keys and routes agree) and imported roots,
 * which travel with the bundle.
 */
export async function workerRoutes(cacheDir: string, hostRootId?: string): Promise<{ hostRootId: string; routes: string[] }> {
  const id = hostRootId ?? (await resolveBuildRoot({ type: 'host', provides: [] }, await DigestCache.open(cacheDir))).identity.id;
  return { hostRootId: id, routes: [rootRoute({ type: 'host', id }), rootRoute({ type: 'tarball', id })] };
}

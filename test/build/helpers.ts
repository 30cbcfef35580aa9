/**
 * Hand-made jobs for the build stage's tests: bundles of the small fixture
 * specs under test/fixtures/build, in a macro context made from the host's own
 * rpm configuration (plus the cross-toolchain defines for aarch64), so the
 * executor and the cache are tested without the config/overlay/spec stages.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Arch } from '../../src/config/model.js';
import { configTree, localFile, makeBundle, type LocalFile } from '../../src/build/bundle.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import { resolveBuildRoot } from '../../src/build/build-root.js';
import type { JobBundle } from '../../src/build/executor.js';

export const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures/build');
export const EPOCH = 1767225600;

/** Cross-compiler macros: without them rpmbuild --target aarch64 emits x86_64 code (see FIELD-NOTES). */
export function hostMacroArgs(arch: Arch): { rpmArgs: string[]; env: Record<string, string> } {
  if (arch === 'x86_64') return { rpmArgs: ['--target', 'x86_64', '--define', 'dist .t1'], env: {} };
  const tool = (name: string): string => `aarch64-linux-gnu-${name}`;
  const defines: Record<string, string> = {
    dist: '.t1',
    __cc: tool('gcc'),
    __cxx: tool('g++'),
    __cpp: `${tool('gcc')} -E`,
    __strip: tool('strip'),
    __objdump: tool('objdump'),
    __objcopy: tool('objcopy'),
    __ar: tool('ar'),
    __nm: tool('nm'),
    __ranlib: tool('ranlib'),
    __ld: tool('ld'),
    optflags: '-O2 -g',
  };
  return {
    rpmArgs: ['--target', 'aarch64', ...Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`])],
    env: { CC: tool('gcc'), CFLAGS: '-O2 -g' },
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `strata-test-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface FixtureOptions {
  arch: Arch;
  cacheDir: string;
  dependencyRpms?: string[];
  /** Folder holding the fixture (default: test/fixtures/build). */
  fixtures?: string;
  noarch?: boolean;
  timeoutSeconds?: number;
  provides?: string[];
}

/** A bundle for the fixture component `name` (every file of its folder as a source). */
export async function fixtureBundle(name: string, options: FixtureOptions): Promise<{ bundle: JobBundle; blobs: Map<string, string> }> {
  const digests = await DigestCache.open(options.cacheDir);
  const dir = join(options.fixtures ?? FIXTURES, name);
  const sources: LocalFile[] = [];
  for (const file of (await readdir(dir)).sort()) sources.push(await localFile(join(dir, file), file, digests));
  const deps = await Promise.all((options.dependencyRpms ?? []).map((path) => localFile(path, path.split('/').pop()!, digests)));
  const root = await resolveBuildRoot({ type: 'host', provides: options.provides ?? ['gcc', 'make', '/bin/sh'] }, digests);
  const { rpmArgs, env } = hostMacroArgs(options.arch);
  return makeBundle({
    component: name,
    arch: options.arch,
    noarch: options.noarch ?? false,
    specFile: `${name}.spec`,
    sources,
    dependencyRpms: deps,
    rpmConfig: await configTree('/usr/lib/rpm', digests),
    configDir: '/usr/lib/rpm',
    rpmArgs,
    env,
    buildRoot: root.identity,
    buildRootBlobs: root.blobs,
    sourceDateEpoch: EPOCH,
    check: false,
    timeoutSeconds: options.timeoutSeconds ?? 300,
  });
}

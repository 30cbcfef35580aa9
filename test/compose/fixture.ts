/**
 * The composer's test distro: RPMs built with rpmbuild from the specs in
 * test/fixtures/compose/specs (a static test init compiled with gcc or
 * aarch64-linux-gnu-gcc), a createrepo_c repository, and the DistroModel an
 * image definition over it produces. Built once per arch per test process.
 */
import { cp, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch, DistroModel, ImageDefinition } from '../../src/config/model.js';
import { run } from '../../src/util/process.js';

export const FIXTURES = resolve(fileURLToPath(new URL('../../../test/fixtures/compose/', import.meta.url)));
export const EPOCH = 1767225600;

/** The cross toolchain a spec's %build needs, as FIELD-NOTES describes for aarch64. */
function crossDefines(arch: Arch, crossToolchain: boolean): { args: string[]; env: Record<string, string> } {
  if (arch === 'x86_64') return { args: [], env: {} };
  // Without the toolchain macros: the mistake FIELD-NOTES warns of, host machine code in an aarch64 RPM.
  if (!crossToolchain) return { args: ['--target', 'aarch64'], env: {} };
  const p = 'aarch64-linux-gnu-';
  const tools = { __cc: 'gcc', __cxx: 'g++', __strip: 'strip', __objdump: 'objdump', __ar: 'ar', __nm: 'nm', __ranlib: 'ranlib', __ld: 'ld' };
  return {
    args: ['--target', 'aarch64', ...Object.entries(tools).flatMap(([macro, tool]) => ['--define', `${macro} ${p}${tool}`])],
    env: { CC: `${p}gcc` },
  };
}

const repos = new Map<Arch, Promise<string>>();

/** A createrepo_c repository of every fixture spec built for `arch`. */
export function fixtureRepo(arch: Arch): Promise<string> {
  let repo = repos.get(arch);
  if (!repo) {
    repo = buildRepo(arch, true);
    repos.set(arch, repo);
  }
  return repo;
}

/** aarch64-labelled RPMs built with the host compiler (no cross toolchain macros). */
export function mislabelledAarch64Repo(): Promise<string> {
  return buildRepo('aarch64', false);
}

async function buildRepo(arch: Arch, crossToolchain: boolean): Promise<string> {
  const top = await mkdtemp(join(tmpdir(), `strata-fixture-${arch}-`));
  await mkdir(join(top, 'SOURCES'), { recursive: true });
  await cp(join(FIXTURES, 'src'), join(top, 'SOURCES'), { recursive: true });
  const cross = crossDefines(arch, crossToolchain);
  const specs = (await readdir(join(FIXTURES, 'specs'))).filter((f) => f.endsWith('.spec')).sort();
  for (const spec of specs) {
    await run(
      'rpmbuild',
      ['-bb', '--define', `_topdir ${top}`, '--define', '_buildhost strata', '--define', 'use_source_date_epoch_as_buildtime 1', '--define', 'clamp_mtime_to_source_date_epoch 1', ...cross.args, join(FIXTURES, 'specs', spec)],
      { env: { SOURCE_DATE_EPOCH: String(EPOCH), ...cross.env } },
    );
  }
  const repo = join(top, 'repo');
  await mkdir(repo);
  for (const dir of await readdir(join(top, 'RPMS'))) await cp(join(top, 'RPMS', dir), repo, { recursive: true });
  await run('createrepo_c', ['--quiet', '--revision', String(EPOCH), '--set-timestamp-to-revision', repo]);
  return repo;
}

export function fixtureImage(overrides: Partial<ImageDefinition> = {}): ImageDefinition {
  return {
    name: 'fx',
    packages: ['fx-filesystem', 'fx-init'],
    extraRepos: [],
    filesystem: 'erofs',
    verity: true,
    layout: 'root',
    minimise: { docs: true, locales: ['C'], remove: [] },
    init: '/usr/sbin/fx-init',
    cmdline: [],
    formats: ['raw'],
    signing: null,
    perArch: {},
    bootMarker: 'STRATA-BOOT-OK',
    definedAt: { file: join(FIXTURES, 'toolkit.config.toml'), line: 1, col: 1 },
    ...overrides,
  };
}

/** A model with just what the composer reads; `root` is where out/ and the cache go. */
export function fixtureModel(root: string, images: ImageDefinition[] = [fixtureImage()]): DistroModel {
  return {
    root,
    configFile: join(root, 'toolkit.config.toml'),
    files: [],
    distro: { name: 'strata-fixture', version: '1', distTag: '.fx1', vendor: 'strata tests', arches: ['x86_64', 'aarch64'], sourceDateEpoch: EPOCH },
    rpm: { macroFiles: [], luaDirs: [], rpmrc: null, defines: {} },
    components: {},
    build: {
      jobs: 1,
      sandbox: 'bubblewrap',
      buildRoot: { type: 'host', provides: [] },
      outDir: join(root, 'out'),
      cacheDir: join(root, '.strata-cache'),
      lookaside: null,
      timeoutSeconds: 600,
      crossCheck: false,
    executor: 'local',
    farm: {},
    },
    graph: { providers: {}, cycleBreaks: [] },
    images: Object.fromEntries(images.map((i) => [i.name, i])),
    fingerprint: 'f'.repeat(64),
  };
}

/**
 * The distro's rpm macro context for one target arch, materialised as a private
 * rpm config folder (host /usr/lib/rpm + the distro's macro files, rpmrc, Lua
 * modules). rpmspec and rpmbuild both run in it so that a spec evaluates the
 * same way for the graph and for the build.
 */
import { copyFile, cp, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import { StrataError } from '../util/errors.js';
import { hashRecord, sha256File, sha256Hex } from '../util/hash.js';
import { replaceDirAtomic } from '../util/atomic.js';
import { toPosix } from '../util/paths.js';
import { run } from '../util/process.js';

export interface MacroContext {
  arch: Arch;
  /** The private RPM_CONFIGDIR. */
  configDir: string;
  /** Environment for rpm tools (RPM_CONFIGDIR, SOURCE_DATE_EPOCH, …). */
  env: Record<string, string>;
  /** Arguments every rpm invocation takes (--target, --define …). */
  rpmArgs: string[];
  /** Identity of the context: changes whenever any macro input changes. */
  hash: string;
  /** Extra environment for the build itself (cross compilers as CC, CXX, …); empty for native builds. */
  buildEnv: Record<string, string>;
  /** `rpm --version` of the host, part of `hash`. */
  rpmVersion: string;
}

/** Where rpm keeps its own configuration on the host. */
export const HOST_RPM_CONFIGDIR = '/usr/lib/rpm';

/** The compiler and binutils macros a cross build must point at the target's tools (FIELD-NOTES). */
const CROSS_TOOL_MACROS: ReadonlyArray<[macro: string, tool: string]> = [
  ['__cc', 'gcc'],
  ['__cxx', 'g++'],
  ['__cpp', 'cpp'],
  ['__ar', 'ar'],
  ['__ranlib', 'ranlib'],
  ['__strip', 'strip'],
  ['__objdump', 'objdump'],
  ['__nm', 'nm'],
  ['__ld', 'ld'],
  ['__objcopy', 'objcopy'],
];
const CROSS_TOOL_ENV: ReadonlyArray<[variable: string, tool: string]> = [
  ['CC', 'gcc'],
  ['CXX', 'g++'],
  ['AR', 'ar'],
  ['RANLIB', 'ranlib'],
  ['STRIP', 'strip'],
  ['LD', 'ld'],
];

/**
 * rpm's own %_smp_build_ncpus runs a shell (`%(...)`) every time a spec is
 * parsed, which doubles the cost of evaluating a spec. This Lua definition keeps
 * its meaning (RPM_BUILD_NCPUS, else the core count, capped by %_smp_ncpus_max)
 * without a fork. It loads before the distro's files, so a distro that defines
 * its own keeps it.
 */
const HOST_OVERRIDES = `# strata: rpm's %_smp_build_ncpus without forking a shell per parsed spec.
%_smp_build_ncpus %{lua:
local n = tonumber(os.getenv("RPM_BUILD_NCPUS") or "") or tonumber(rpm.expand("%{getncpus}")) or 1
local max = tonumber(rpm.expand("%{?_smp_ncpus_max}")) or 0
if max > 0 and n > max then n = max end
print(n)
}
`;

export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The macros strata defines, in load order: distro identity, reproducibility, cross tools, then [rpm].defines. */
export function contextDefines(model: DistroModel, arch: Arch): Array<[string, string]> {
  const defines: Array<[string, string]> = [
    ['dist', model.distro.distTag],
    ['vendor', model.distro.vendor],
    ['distro_name', model.distro.name],
    ['distro_version', model.distro.version],
    ['_buildhost', 'strata'],
    ['use_source_date_epoch_as_buildtime', '1'],
    ['clamp_mtime_to_source_date_epoch', '1'],
    ['source_date_epoch_from_changelog', '0'],
  ];
  if (arch !== hostArch()) {
    const prefix = crossPrefix(arch);
    for (const [macro, tool] of CROSS_TOOL_MACROS) defines.push([macro, `${prefix}${tool}`]);
  }
  for (const name of Object.keys(model.rpm.defines).sort()) defines.push([name, model.rpm.defines[name]!]);
  return defines;
}

function crossPrefix(arch: Arch): string {
  return arch === 'aarch64' ? 'aarch64-linux-gnu-' : 'x86_64-linux-gnu-';
}

/** A macro file line: multi-line values keep rpm's backslash continuation. */
function macroLine(name: string, value: string): string {
  return `%${name} ${value.replace(/\n/g, '\\\n')}`;
}

let rpmVersionCache: Promise<string> | undefined;
async function hostRpmVersion(): Promise<string> {
  rpmVersionCache ??= run('rpm', ['--version']).then((r) => r.stdout.trim());
  return rpmVersionCache;
}

/** Content hash of every file below a folder (path, mode, bytes), read in parallel: this runs on every command. */
async function treeDigest(root: string): Promise<Array<[string, number, string]>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
  const digests = await Promise.all(
    files.map(async (file): Promise<[string, number, string]> => {
      const [data, st] = await Promise.all([readFile(file), stat(file)]);
      return [toPosix(relative(root, file)), st.mode & 0o7777, sha256Hex(data)];
    }),
  );
  return digests.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

let hostDigestCache: Promise<Array<[string, number, string]>> | undefined;

let hostMacroPathCache: Promise<string[]> | undefined;
/**
 * The parts of the host's compiled-in macro path that lie inside its rpm config
 * folder (rpm's macros, macros.d, platform, fileattrs, the vendor folder), in
 * rpm's order, relative to that folder. /etc/rpm and ~/.rpmmacros are left out.
 */
async function hostMacroPath(): Promise<string[]> {
  hostMacroPathCache ??= run('rpm', ['--showrc']).then((r) => {
    const line = r.stdout.split('\n').find((l) => l.startsWith('Macro path:'));
    if (line === undefined) throw new StrataError('rpm --showrc printed no macro path', { kind: 'build' });
    return line
      .slice('Macro path:'.length)
      .trim()
      .split(':')
      .filter((part) => part.startsWith(`${HOST_RPM_CONFIGDIR}/`))
      .map((part) => part.slice(HOST_RPM_CONFIGDIR.length + 1));
  });
  return hostMacroPathCache;
}

/**
 * Materialises the context under `<cacheDir>/rpm-config/<hash>` once; later calls
 * with the same inputs return the existing folder. The folder is built under a
 * temporary name and renamed into place, so a half-made context is never used.
 */
export async function prepareMacroContext(model: DistroModel, arch: Arch, cacheDir: string): Promise<MacroContext> {
  hostDigestCache ??= treeDigest(HOST_RPM_CONFIGDIR);
  // The host's identity takes three independent looks; take them at once.
  const [rpmVersion, hostDigest, hostPath] = await Promise.all([hostRpmVersion(), hostDigestCache, hostMacroPath()]);
  const macroFiles = await Promise.all(
    model.rpm.macroFiles.map(async (file) => ({ file, sha256: await digestInput(file, 'macro file') })),
  );
  const luaDirs = await Promise.all(model.rpm.luaDirs.map(async (dir) => ({ dir, tree: await treeDigestChecked(dir) })));
  const rpmrc = model.rpm.rpmrc === null ? null : { file: model.rpm.rpmrc, sha256: await digestInput(model.rpm.rpmrc, 'rpmrc') };
  const defines = contextDefines(model, arch);
  const hash = hashRecord({
    schema: 1,
    rpmVersion,
    host: hostDigest,
    macroPath: hostPath,
    arch,
    hostArch: hostArch(),
    macroFiles: macroFiles.map((m) => [basename(m.file), m.sha256]),
    luaDirs: luaDirs.map((l) => l.tree),
    rpmrc: rpmrc?.sha256 ?? null,
    overrides: HOST_OVERRIDES,
    defines,
    sourceDateEpoch: model.distro.sourceDateEpoch,
  });
  const configDir = join(cacheDir, 'rpm-config', hash.slice(0, 32));
  const macrosDir = join(configDir, 'macros.d');
  // Distro files are named strata-NN-* so that rpm's own `macros.d/macros.*` glob
  // never loads them a second time; they load explicitly, in config order.
  const distroNames = macroFiles.map((m, i) => `strata-${String(i + 1).padStart(2, '0')}-${basename(m.file)}`);
  if (!(await isComplete(configDir))) {
    await replaceDirAtomic(configDir, async (tmp) => {
      await linkHostConfig(tmp, rpmrc !== null);
      await writeFile(join(tmp, 'macros.d', 'strata-00-host-overrides'), HOST_OVERRIDES);
      for (const [i, m] of macroFiles.entries()) await copyFile(m.file, join(tmp, 'macros.d', distroNames[i]!));
      await writeFile(
        join(tmp, 'macros.d', 'strata-99-context'),
        `# strata: [distro] identity, reproducibility settings, then [rpm].defines.\n${defines.map(([n, v]) => macroLine(n, v)).join('\n')}\n`,
      );
      for (const l of luaDirs) await cp(l.dir, join(tmp, 'lua'), { recursive: true });
      if (rpmrc) await copyFile(rpmrc.file, join(tmp, 'rpmrc'));
      await writeFile(join(tmp, '.strata-complete'), `${hash}\n`);
    });
  }
  // The macro path of rpm without /etc/rpm and ~/.rpmmacros: nothing on the host
  // outside the context may change how a spec evaluates.
  const macroPath = [
    ...hostPath.map((part) => `${configDir}/${part}`),
    `${macrosDir}/strata-00-host-overrides`,
    ...distroNames.map((name) => `${macrosDir}/${name}`),
    `${macrosDir}/strata-99-context`,
  ].join(':');
  const buildEnv: Record<string, string> = {};
  if (arch !== hostArch()) {
    for (const [variable, tool] of CROSS_TOOL_ENV) buildEnv[variable] = `${crossPrefix(arch)}${tool}`;
  }
  return {
    arch,
    configDir,
    env: {
      RPM_CONFIGDIR: configDir,
      SOURCE_DATE_EPOCH: String(model.distro.sourceDateEpoch),
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
    },
    rpmArgs: ['--rcfile', `${configDir}/rpmrc`, '--macros', macroPath, '--target', arch],
    hash,
    buildEnv,
    rpmVersion,
  };
}

/**
 * The host's rpm config as symlinks (creating files is slow on some disks, and
 * the context's hash already covers the host files' content): every entry of
 * /usr/lib/rpm, except that macros.d and lua are real folders so the distro's
 * files can join them, and rpmrc is left for the distro's own when it has one.
 */
async function linkHostConfig(dir: string, ownRpmrc: boolean): Promise<void> {
  for (const entry of await readdir(HOST_RPM_CONFIGDIR, { withFileTypes: true })) {
    const source = join(HOST_RPM_CONFIGDIR, entry.name);
    if (entry.name === 'macros.d' || entry.name === 'lua') {
      await mkdir(join(dir, entry.name));
      for (const inner of await readdir(source)) await symlink(join(source, inner), join(dir, entry.name, inner));
    } else if (!(entry.name === 'rpmrc' && ownRpmrc)) {
      await symlink(source, join(dir, entry.name));
    }
  }
  await mkdir(join(dir, 'macros.d'), { recursive: true });
  await mkdir(join(dir, 'lua'), { recursive: true });
}

async function isComplete(configDir: string): Promise<boolean> {
  try {
    await readFile(join(configDir, '.strata-complete'));
    return true;
  } catch {
    return false;
  }
}

async function digestInput(file: string, what: string): Promise<string> {
  try {
    return await sha256File(file);
  } catch (error) {
    throw new StrataError(`cannot read ${what} ${file}: ${(error as Error).message}`, {
      hint: 'check [rpm] in toolkit.config.toml',
    });
  }
}

async function treeDigestChecked(dir: string): Promise<Array<[string, number, string]>> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
    return await treeDigest(dir);
  } catch (error) {
    throw new StrataError(`cannot read Lua folder ${dir}: ${(error as Error).message}`, {
      hint: 'check [rpm] lua-dirs in toolkit.config.toml',
    });
  }
}

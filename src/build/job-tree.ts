/**
 * Turns a job bundle into folders on this host: the job's own tree (bound at
 * /build in the sandbox: SOURCES with the verified inputs, and rpmbuild's
 * output folders), a stage holding the dependency RPMs installed with a
 * private rpm database seeded with the build root's capabilities, the
 * distro's rpm configuration, and the build root. Every executor that runs
 * bundles on a local filesystem starts here.
 */
import { chmod, copyFile, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../util/errors.js';
import { hashRecord, sha256File } from '../util/hash.js';
import { run } from '../util/process.js';
import { tempSibling } from '../util/atomic.js';
import type { BundleFile, JobArtifact, JobBundle } from './executor.js';
import { materializeRoot } from './build-root.js';
import { rootCapabilities, rootRpmDatabase, seedPackage } from './rpmdb-seed.js';

/** Where the job tree appears inside the sandbox: fixed, so RPMs do not vary with the host folder. */
export const SANDBOX_BUILD_DIR = '/build';
/** Where the job's private rpm database appears inside the sandbox. */
export const SANDBOX_DB_DIR = '/var/lib/rpm';

export interface PreparedJob {
  /** Scratch folder of this job (removed afterwards). */
  workDir: string;
  /** The job tree, bound read-write at /build. */
  buildDir: string;
  /** Dependency RPMs installed here; its usr/ (and etc/) are layered over the root's. */
  stageDir: string;
  /** The job's rpm database (inside the stage), bound at /var/lib/rpm. */
  dbDir: string;
  /** A usr-shaped tree holding the distro's rpm configuration at usr/lib/rpm. */
  rpmConfigLayer: string;
  rootDir: string;
}

function blobPath(blobs: ReadonlyMap<string, string>, file: BundleFile, what: string): string {
  const path = blobs.get(file.sha256);
  if (!path) throw new StrataError(`${what} ${file.path} (${file.sha256.slice(0, 12)}) is not available on this host`, { kind: 'build' });
  return path;
}

/** Copies a blob and checks the copy's bytes: a file edited since planning must not slip into a build. */
async function placeVerified(source: string, target: string, file: BundleFile, what: string): Promise<void> {
  await copyFile(source, target);
  const actual = await sha256File(target);
  if (actual !== file.sha256) {
    throw new StrataError(`${what} ${file.path} changed since the build was planned (sha256 ${actual}, expected ${file.sha256})`, {
      kind: 'input',
      hint: 'do not edit component files during a build; run strata build again',
    });
  }
  await chmod(target, file.mode & 0o777);
}

/**
 * The distro's rpm configuration, shared by every job with the same tree:
 * `<cacheDir>/build/rpm-config/<hash>/usr/lib/rpm`. Materialised once under a
 * temporary name, each file checked against its digest.
 */
async function materializeRpmConfig(files: BundleFile[], blobs: ReadonlyMap<string, string>, cacheDir: string): Promise<string> {
  const target = join(cacheDir, 'build', 'rpm-config', hashRecord(files));
  if ((await stat(target).catch(() => null))?.isDirectory()) return target;
  const tmp = tempSibling(target);
  try {
    for (const file of files) {
      const dest = join(tmp, 'usr/lib/rpm', file.path);
      await mkdir(join(dest, '..'), { recursive: true });
      await placeVerified(blobPath(blobs, file, 'rpm configuration file'), dest, file, 'rpm configuration file');
    }
    await mkdir(join(tmp, 'usr/lib/rpm'), { recursive: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  return target;
}

export async function prepareJob(
  bundle: JobBundle,
  blobs: ReadonlyMap<string, string>,
  workDir: string,
  cacheDir: string,
  logFile: string,
  signal?: AbortSignal,
): Promise<PreparedJob> {
  const buildDir = join(workDir, 'build');
  const stageDir = join(workDir, 'stage');
  const dbDir = join(stageDir, 'var/lib/rpm');
  for (const dir of ['SOURCES', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS', 'tmp']) await mkdir(join(buildDir, dir), { recursive: true });
  await mkdir(dbDir, { recursive: true });

  for (const file of bundle.sources) {
    const dest = join(buildDir, 'SOURCES', file.path);
    await mkdir(join(dest, '..'), { recursive: true });
    await placeVerified(blobPath(blobs, file, 'source'), dest, file, 'source');
  }
  const rpmConfigLayer = join(await materializeRpmConfig(bundle.rpmConfig, blobs, cacheDir), 'usr');
  const rootDir = await materializeRoot(bundle.buildRoot, blobs, cacheDir);

  const existingDb = await rootRpmDatabase(rootDir);
  if (existingDb) await cp(existingDb, dbDir, { recursive: true });
  const capabilities = await rootCapabilities(bundle.buildRoot, rootDir, bundle.arch, cacheDir);
  const seed = await seedPackage(capabilities, cacheDir, bundle.sourceDateEpoch);
  const deps = bundle.dependencyRpms.map((file) => blobPath(blobs, file, 'dependency RPM'));
  // The stage gets the dependency RPMs' files and a database that knows them
  // and the root. Their own runtime needs are the root's business, hence
  // --nodeps here; the build's BuildRequires are checked by rpmbuild itself.
  // Unprivileged, rpm runs as root of a user namespace so that it may chown the files it unpacks.
  const asRoot = process.getuid?.() === 0 ? [] : ['unshare', '-r', '--'];
  const install = ['rpm', '--root', stageDir, '--dbpath', SANDBOX_DB_DIR, '-i', '--nodeps', '--noscripts', '--notriggers', '--ignorearch', '--ignoreos', '--nosignature', seed, ...deps];
  const [command, ...args] = [...asRoot, ...install];
  await run(
    command!,
    args,
    {
      env: { RPM_CONFIGDIR: join(rpmConfigLayer, 'lib/rpm'), SOURCE_DATE_EPOCH: String(bundle.sourceDateEpoch), HOME: workDir },
      logFile,
      signal,
    },
  );
  return { workDir, buildDir, stageDir, dbDir, rpmConfigLayer, rootDir };
}

/** rpmbuild's command line inside the sandbox. */
export function rpmbuildCommand(bundle: JobBundle): string[] {
  const b = SANDBOX_BUILD_DIR;
  const layout: Record<string, string> = {
    _topdir: b,
    _sourcedir: `${b}/SOURCES`,
    _specdir: `${b}/SOURCES`,
    _builddir: `${b}/BUILD`,
    _buildrootdir: `${b}/BUILDROOT`,
    _rpmdir: `${b}/RPMS`,
    _srcrpmdir: `${b}/SRPMS`,
    _tmppath: `${b}/tmp`,
    _dbpath: SANDBOX_DB_DIR,
    // Reproducibility: no host name, no build time, no file time past the epoch.
    _buildhost: 'strata',
    use_source_date_epoch_as_buildtime: '1',
    clamp_mtime_to_source_date_epoch: '1',
    source_date_epoch_from_changelog: '0',
  };
  const defines = Object.entries(layout).flatMap(([name, value]) => ['--define', `${name} ${value}`]);
  return ['rpmbuild', '-bb', ...bundle.rpmArgs, ...defines, ...(bundle.check ? [] : ['--nocheck']), `${b}/SOURCES/${bundle.specFile}`];
}

/** Environment of rpmbuild inside the sandbox: nothing from the host leaks in. */
export function rpmbuildEnv(bundle: JobBundle): Record<string, string> {
  const fromBundle = Object.fromEntries(Object.entries(bundle.env).filter(([name]) => !['RPM_CONFIGDIR', 'HOME', 'PATH', 'TMPDIR'].includes(name)));
  return {
    ...fromBundle,
    PATH: '/usr/bin:/usr/sbin:/bin:/sbin',
    HOME: SANDBOX_BUILD_DIR,
    TMPDIR: `${SANDBOX_BUILD_DIR}/tmp`,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(bundle.sourceDateEpoch),
    RPM_CONFIGDIR: '/usr/lib/rpm',
  };
}

/** Moves the binary RPMs rpmbuild wrote into `outputDir`, hashed, sorted by name. */
export async function collectArtifacts(prepared: PreparedJob, outputDir: string): Promise<JobArtifact[]> {
  const rpmsDir = join(prepared.buildDir, 'RPMS');
  const artifacts: JobArtifact[] = [];
  await mkdir(outputDir, { recursive: true });
  for (const archDir of (await readdir(rpmsDir)).sort()) {
    const dir = join(rpmsDir, archDir);
    if (!(await stat(dir)).isDirectory()) continue;
    for (const file of (await readdir(dir)).sort()) {
      if (!file.endsWith('.rpm')) continue;
      const dest = join(outputDir, file);
      await rename(join(dir, file), dest);
      const st = await stat(dest);
      artifacts.push({ file, sha256: await sha256File(dest), size: st.size });
    }
  }
  return artifacts.sort((a, b) => (a.file < b.file ? -1 : 1));
}

/** The one line that says why a build failed, as rpm put it. */
export function failureReason(log: string): string | undefined {
  const lines = log.split('\n');
  const deps = lines.findIndex((line) => line.includes('Failed build dependencies'));
  if (deps >= 0) {
    const missing: string[] = [];
    for (const line of lines.slice(deps + 1)) {
      if (!/^\s/.test(line) || !line.includes(' is needed by ')) break;
      missing.push(line.trim());
    }
    return `Failed build dependencies: ${missing.join('; ')}`;
  }
  const errors = lines.filter((line) => line.startsWith('error: '));
  return errors.length > 0 ? errors[errors.length - 1]!.slice('error: '.length).trim() : undefined;
}

/**
 * install_packages: resolve the Requires closure of the image's package list
 * with dnf, download exactly that set, then install it with rpm into the
 * staging root. dnf only ever touches a scratch root of its own, so none of its
 * caches, logs or history reach the image; rpm writes its database where RPM
 * distros keep it (/usr/lib/sysimage/rpm) so the image can be audited.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { sha256File } from '../../util/hash.js';
import { run, tail } from '../../util/process.js';
import { didYouMean } from '../../util/suggest.js';
import { toolEnv, type ComposeContext, type ComposeStep, type InstalledPackage } from '../context.js';

export const RPMDB_PATH = '/usr/lib/sysimage/rpm';

function dnfArgs(context: ComposeContext): string[] {
  const args = [
    '-y',
    `--installroot=${join(context.workDir, 'dnf-root')}`,
    `--releasever=${context.model.distro.version}`,
    '--setopt=reposdir=/dev/null',
    `--setopt=cachedir=${join(context.workDir, 'dnf-cache')}`,
    '--setopt=install_weak_deps=False',
    '--setopt=logdir=' + join(context.workDir, 'dnf-log'),
    '--nogpgcheck',
    '--disablerepo=*',
  ];
  if (context.arch !== 'x86_64') args.push(`--forcearch=${context.arch}`);
  for (const repo of context.repos) args.push(`--repofrompath=${repo.id},${repo.location}`, `--enablerepo=${repo.id}`);
  return args;
}

/** Every package name the repositories offer, for "did you mean". */
async function availableNames(context: ComposeContext): Promise<string[]> {
  const result = await run('dnf', [...dnfArgs(context), '-q', 'repoquery', '--qf', '%{name}'], { env: toolEnv(context), signal: context.signal, allowFailure: true });
  return [...new Set(result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))];
}

async function providersOf(context: ComposeContext, capability: string): Promise<string[]> {
  const result = await run('dnf', [...dnfArgs(context), '-q', 'repoquery', '--qf', '%{name}-%{evr}.%{arch}', '--whatprovides', capability], {
    env: toolEnv(context),
    signal: context.signal,
    allowFailure: true,
  });
  return result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

interface Problem {
  /** "package A requires C, but none of the providers can be installed" */
  requires: Array<{ pkg: string; capability: string }>;
  /** "nothing provides C needed by P" */
  missing: Array<{ capability: string; neededBy: string }>;
  noMatch: string[];
}

/** Reads dnf's solver report (libsolv's wording) into structured edges. */
export function parseDnfProblems(output: string): Problem {
  const problem: Problem = { requires: [], missing: [], noMatch: [] };
  for (const line of output.split('\n')) {
    const requires = /package (\S+) (?:from \S+ )?requires (.+?), but none of the providers can be installed/.exec(line);
    if (requires) problem.requires.push({ pkg: requires[1]!, capability: requires[2]! });
    const missing = /nothing provides (.+?) needed by (\S+)/.exec(line);
    if (missing) problem.missing.push({ capability: missing[1]!, neededBy: missing[2]! });
    const noMatch = /No match for argument: (\S+)/.exec(line);
    if (noMatch) problem.noMatch.push(noMatch[1]!);
  }
  return problem;
}

/**
 * Walks back from the package that needs the missing capability to a package
 * the image asked for, through the "requires … none of the providers" edges,
 * so the user sees why the image pulls the broken package in at all.
 */
async function chainTo(context: ComposeContext, problem: Problem, neededBy: string): Promise<string[]> {
  const chain: string[] = [neededBy];
  const seen = new Set(chain);
  let current = neededBy;
  for (let depth = 0; depth < 32; depth++) {
    let next: { pkg: string; capability: string } | undefined;
    for (const edge of problem.requires) {
      if (seen.has(edge.pkg)) continue;
      if ((await providersOf(context, edge.capability)).includes(current)) {
        next = edge;
        break;
      }
    }
    if (!next) break;
    chain.unshift(`${next.pkg} requires ${next.capability}`);
    seen.add(next.pkg);
    current = next.pkg;
  }
  return chain;
}

async function resolveAndDownload(context: ComposeContext, downloadDir: string): Promise<void> {
  const result = await run('dnf', [...dnfArgs(context), '--downloadonly', `--downloaddir=${downloadDir}`, 'install', ...context.packages], {
    env: toolEnv(context),
    signal: context.signal,
    allowFailure: true,
  });
  if (result.exitCode === 0) return;
  const problem = parseDnfProblems(result.all);
  const where = { location: context.image.definedAt, kind: 'input' as const };
  if (problem.noMatch.length > 0) {
    const names = await availableNames(context);
    throw new StrataError(`image ${context.image.name} (${context.arch}): no repository has ${problem.noMatch.map((n) => `'${n}'`).join(', ')}`, {
      ...where,
      details: problem.noMatch.map((n) => `${n}${didYouMean(n, names)}`),
      hint: `the image installs from ${context.repos.map((r) => r.location).join(', ')}; build the package first (strata build) or fix the name in [images.${context.image.name}].packages`,
    });
  }
  if (problem.missing.length > 0) {
    const first = problem.missing[0]!;
    const chain = await chainTo(context, problem, first.neededBy);
    throw new StrataError(`image ${context.image.name} (${context.arch}): nothing provides ${first.capability} needed by ${first.neededBy}`, {
      ...where,
      details: [
        'dependency chain:',
        ...chain.map((link, i) => `${'  '.repeat(i)}${link}`),
        `${'  '.repeat(chain.length)}requires ${first.capability} (nothing provides it)`,
        ...problem.missing.slice(1).map((m) => `also: nothing provides ${m.capability} needed by ${m.neededBy}`),
      ],
      hint: 'add a component that provides it, or an extra repository to the image, or drop the package that needs it',
    });
  }
  throw new StrataError(`image ${context.image.name} (${context.arch}): dnf could not resolve the package set`, { ...where, kind: 'build', details: tail(result.all, 20) });
}

async function queryRpm(args: string[], format: string, context: ComposeContext): Promise<string[]> {
  const result = await run('rpm', [...args, '--qf', format], { env: toolEnv(context), signal: context.signal });
  return result.stdout.split('\n').filter((l) => l !== '');
}

/** One query gives each package's fields (a line starting with the marker) followed by its file paths. */
const HEADER = '\u0001';
const FIELDS = `${HEADER}%{NAME}\t%{EPOCHNUM}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{SIZE}\t%{LICENSE}\t%{VENDOR}\t%{SUMMARY}\n[%{FILENAMES}\n]`;

function nevraOf(name: string, epoch: string, version: string, release: string, arch: string): string {
  return `${name}-${epoch === '(none)' ? '' : `${epoch}:`}${version}-${release}.${arch}`;
}

export const installPackages: ComposeStep = {
  name: 'install_packages',
  applies: () => true,
  async run(context) {
    const downloadDir = join(context.workDir, 'rpms');
    await mkdir(downloadDir, { recursive: true });
    await mkdir(join(context.workDir, 'dnf-log'), { recursive: true });
    await mkdir(context.stageRoot, { recursive: true });
    context.log.info(`  resolving ${context.packages.join(', ')} from ${context.repos.map((r) => r.id).join(', ')}`);
    await resolveAndDownload(context, downloadDir);
    const files = (await readdir(downloadDir)).filter((f) => f.endsWith('.rpm')).sort();

    const byNevra = new Map<string, { file: string; sha256: string }>();
    // rpm -qp answers in argument order: row i describes files[i].
    const rows = await queryRpm(['-qp', ...files.map((f) => join(downloadDir, f))], '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n', context);
    for (const [i, row] of rows.entries()) {
      const [name, epoch, version, release, arch] = row.split('\t') as [string, string, string, string, string];
      const file = files[i]!;
      byNevra.set(nevraOf(name, epoch, version, release, arch), { file, sha256: await sha256File(join(downloadDir, file)) });
    }

    const locales = context.image.minimise.locales;
    const args = [
      '--root', context.stageRoot,
      '--dbpath', RPMDB_PATH,
      '--nosignature',
      '--define', '_pkgverify_level none',
      // rpm itself skips %lang files outside the kept locales and %doc files, so its database knows they are absent.
      ...(locales.length > 0 ? ['--define', `_install_langs ${locales.join(':')}`] : []),
      ...(context.image.minimise.docs ? ['--excludedocs'] : []),
      ...(context.arch !== 'x86_64' ? ['--ignorearch'] : []),
      '-i', ...files.map((f) => join(downloadDir, f)),
    ];
    context.log.info(`  installing ${files.length} packages into the staging root`);
    await run('rpm', args, { env: toolEnv(context), signal: context.signal });

    const installed: InstalledPackage[] = [];
    const packageFiles = new Map<string, string[]>();
    let current: string[] = [];
    for (const line of await queryRpm(['--root', context.stageRoot, '--dbpath', RPMDB_PATH, '-qa'], FIELDS, context)) {
      if (!line.startsWith(HEADER)) {
        current.push(line);
        continue;
      }
      const [name, epochNum, epoch, version, release, arch, sourceRpm, size, license, vendor, summary] = line.slice(1).split('\t') as [string, string, string, string, string, string, string, string, string, string, string];
      const nevra = nevraOf(name, epoch, version, release, arch);
      const rpm = byNevra.get(nevra);
      if (!rpm) throw new StrataError(`installed package ${nevra} is not among the downloaded RPMs`, { kind: 'build' });
      current = packageFiles.get(name) ?? [];
      packageFiles.set(name, current);
      installed.push({
        name,
        epoch: epoch === '(none)' ? null : Number(epochNum),
        version,
        release,
        arch,
        nevra,
        sourceRpm,
        component: sourceRpm.replace(/-[^-]+-[^-]+\.src\.rpm$/, ''),
        license,
        vendor: vendor === '(none)' ? '' : vendor,
        summary,
        rpmFile: rpm.file,
        rpmSha256: rpm.sha256,
        installedSize: Number(size),
        imageBytes: 0,
      });
    }
    installed.sort((a, b) => (a.nevra < b.nevra ? -1 : a.nevra > b.nevra ? 1 : 0));
    return { ...context, installed, packageFiles };
  },
};

/**
 * `strata why PACKAGE --image IMAGE`: the chain of requirements that pulls a
 * package into an image.
 *
 * The answer comes from what the image holds. For a composed image, the
 * package set is the manifest's, and each package's requirements and
 * provides come from its RPM header: from the RPM file in the repository
 * when its SHA-256 still matches the manifest, else from the rpm database
 * inside the image's own filesystem. An image not composed yet is answered
 * from the spec facts (a prediction, and the report says so).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import { packagesFor } from '../compose/image.js';
import type { ImageManifest } from '../compose/manifest.js';
import { RPMDB_PATH } from '../compose/steps/install_packages.js';
import type { DepFlag, SpecFacts } from '../spec/model.js';
import { StrataError } from '../util/errors.js';
import { sha256File } from '../util/hash.js';
import { run } from '../util/process.js';
import { didYouMean } from '../util/suggest.js';
import { closure, providerIndex, type PackageSource, type ProviderIndex } from '../graph/runtime-closure.js';

/** Where the package data came from. */
export type WhySource = 'repository RPM headers' | 'image rpm database' | 'spec facts (image not composed)';

export interface ChainLink {
  package: string;
  /** The requirement of the previous link that this package satisfies (null for the first link). */
  via: string | null;
}

export interface WhyReport {
  image: string;
  arch: Arch;
  /** The package asked about, as named. */
  query: string;
  /** The installed package(s) it names (the package itself, or the providers of a capability). */
  matches: string[];
  /** Listed in the image's packages (no chain needed). */
  listed: boolean;
  /** The shortest chain from a package the image lists to the match. */
  chain: ChainLink[];
  /** Every package of the image whose requirements the match satisfies, with the requirement. */
  requiredBy: Array<{ package: string; requirement: string }>;
  source: WhySource;
}

const QUERY_FORMAT = '@@\\t%{NAME}\\t%{SOURCERPM}\\n[R\\t%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n][P\\t%{PROVIDENAME}\\n][F\\t%{FILENAMES}\\n]';

/** Reads `rpm --qf QUERY_FORMAT` output: one record per installed package, named after its source RPM's component. */
export function parseRpmQuery(output: string): PackageSource[] {
  const packages: PackageSource[] = [];
  let current: PackageSource['subpackages'][number] | null = null;
  for (const line of output.split('\n')) {
    const [tag, a = '', b = '', c = ''] = line.split('\t');
    if (tag === '@@') {
      current = { name: a, provides: [], requires: [], files: [], predictedProvides: [] };
      packages.push({ component: b.replace(/-[^-]+-[^-]+\.src\.rpm$/, '') || a, buildable: true, subpackages: [current] });
    } else if (current && tag === 'R') {
      // rpmlib() and the like are rpm's own features, satisfied by no package.
      if (a.startsWith('rpmlib(')) continue;
      const flag = (b.trim() || null) as DepFlag | null;
      current.requires.push({ raw: flag ? `${a} ${flag} ${c}` : a, name: a.startsWith('(') ? null : a, flag, evr: flag ? c : null });
    } else if (current && tag === 'P') {
      current.provides.push({ raw: a, name: a, flag: null, evr: null });
    } else if (current && tag === 'F') {
      current.files.push(a);
    }
  }
  return packages;
}

async function findRpm(repoDir: string, file: string, sha256: string): Promise<string | null> {
  const path = join(repoDir, file);
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) return null;
  return (await sha256File(path)) === sha256 ? path : null;
}

/** The installed packages' headers from the repository, when every RPM there is still the one installed. */
export async function headersFromRepo(manifest: ImageManifest, repoDir: string): Promise<PackageSource[] | null> {
  const paths: string[] = [];
  for (const pkg of manifest.packages) {
    const path = await findRpm(repoDir, pkg.rpmFile, pkg.rpmSha256);
    if (path === null) return null;
    paths.push(path);
  }
  if (paths.length === 0) return [];
  const out = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', QUERY_FORMAT, ...paths], { env: { HOME: '/nonexistent', LC_ALL: 'C' } });
  return parseRpmQuery(out.stdout);
}

/** The installed packages' headers from the rpm database inside the image's filesystem. */
export async function headersFromImage(manifest: ImageManifest, imageDir: string, signal?: AbortSignal): Promise<PackageSource[]> {
  const image = join(imageDir, manifest.filesystem.file);
  const scratch = await mkdtemp(join(tmpdir(), 'strata-why-'));
  try {
    const root = join(scratch, 'root');
    if (manifest.filesystem.type === 'erofs') {
      await run('fsck.erofs', [`--extract=${root}`, '--no-preserve', image], { signal });
    } else {
      await run('unsquashfs', ['-no-xattrs', '-d', root, image], { signal });
    }
    // With layout "usr" the filesystem is /usr itself: the database sits at lib/sysimage/rpm in it.
    const usrOnly = manifest.layout === 'usr';
    const dbRoot = usrOnly ? scratch : root;
    if (usrOnly) await run('mv', [root, join(scratch, 'usr')]);
    const out = await run('rpm', ['--root', dbRoot, '--dbpath', RPMDB_PATH, '-qa', '--qf', QUERY_FORMAT], { env: { HOME: '/nonexistent', LC_ALL: 'C' }, signal });
    return parseRpmQuery(out.stdout);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Answers the question over an index of the image's packages. */
export function whyInIndex(input: {
  image: string;
  arch: Arch;
  query: string;
  roots: string[];
  index: ProviderIndex;
  preferred?: Readonly<Record<string, string>>;
  source: WhySource;
}): WhyReport {
  const { index, query } = input;
  const matches = index.packages.has(query) ? [query] : [...(index.providers.get(query) ?? [])].sort();
  if (matches.length === 0) {
    const held = [...index.packages.keys()].sort();
    throw new StrataError(`${query} is not in image ${input.image} (${input.arch})${didYouMean(query, held)}`, {
      hint: `no package of the image is or provides ${query}; it holds ${held.length > 12 ? `${held.slice(0, 12).join(', ')} …` : held.join(', ')}`,
    });
  }
  const steps = closure(index, input.roots, input.preferred);
  const reached = matches.find((m) => steps.has(m));
  const chain: ChainLink[] = [];
  for (let name = reached; name !== undefined; ) {
    const step = steps.get(name)!;
    chain.unshift({ package: name, via: step.via });
    name = step.parent ?? undefined;
  }
  const targets = new Set(matches);
  const requiredBy: WhyReport['requiredBy'] = [];
  for (const pkg of [...index.packages.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const dep of pkg.requires) {
      const providers = dep.name !== null ? (index.providers.get(dep.name) ?? []) : [];
      if (providers.some((p) => targets.has(p)) && !targets.has(pkg.name)) requiredBy.push({ package: pkg.name, requirement: dep.raw });
    }
  }
  return {
    image: input.image,
    arch: input.arch,
    query,
    matches,
    listed: matches.some((m) => input.roots.includes(m)),
    chain,
    requiredBy,
    source: input.source,
  };
}

/** The report for a composed image (manifest present). */
export async function whyComposed(model: DistroModel, image: string, arch: Arch, query: string, manifest: ImageManifest, dirs: { image: string; repo: string }, signal?: AbortSignal): Promise<WhyReport> {
  const fromRepo = await headersFromRepo(manifest, dirs.repo);
  const facts = fromRepo ?? (await headersFromImage(manifest, dirs.image, signal));
  return whyInIndex({
    image,
    arch,
    query,
    roots: packagesFor(model.images[image]!, arch),
    index: providerIndex(facts),
    source: fromRepo ? 'repository RPM headers' : 'image rpm database',
  });
}

/** The report predicted from spec facts, for an image not composed yet. */
export function whyPredicted(model: DistroModel, image: string, arch: Arch, query: string, facts: SpecFacts[]): WhyReport {
  const index = providerIndex(facts.filter((f) => f.arch === arch));
  const roots = packagesFor(model.images[image]!, arch);
  // Only what the image would hold: the closure of its list, not every package of the distro.
  const held = closure(index, roots, model.graph.providers);
  const pruned: ProviderIndex = { packages: new Map([...index.packages].filter(([name]) => held.has(name))), providers: new Map() };
  for (const [capability, list] of index.providers) {
    const kept = list.filter((name) => held.has(name));
    if (kept.length > 0) pruned.providers.set(capability, kept);
  }
  return whyInIndex({ image, arch, query, roots, index: pruned, preferred: model.graph.providers, source: 'spec facts (image not composed)' });
}

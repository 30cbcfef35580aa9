/**
 * Builds what an image needs, and only that: the components whose packages
 * make up the image's run-time closure, plus (through the build stage) what
 * those need to build.
 *
 * The closure cannot be known from spec facts alone: rpm generates most
 * run-time requirements (sonames, interpreters) while building. So the
 * prediction from spec facts is built first, then the built RPMs' real Requires
 * are resolved again (against built headers and, for components not built yet,
 * their predicted provides), and any component they reach is built too, until
 * nothing new appears.
 */
import { join } from 'node:path';
import type { Arch, DistroModel, ImageDefinition } from '../config/model.js';
import { buildDistro, type BuildSummary } from '../build/index.js';
import { closure, providerIndex, type PackageSource } from '../graph/runtime-closure.js';
import { renderComponents } from '../overlays/render.js';
import { evaluateSpecs } from '../spec/evaluate.js';
import type { SpecFacts } from '../spec/model.js';
import { StrataError, StrataErrors } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { run } from '../util/process.js';
import { didYouMean } from '../util/suggest.js';
import { packagesFor } from './image.js';

const HEADER_FORMAT = '@@\\t%{NAME}\\t%{SOURCERPM}\\n[R\\t%{REQUIRENAME}\\n][P\\t%{PROVIDENAME}\\n][F\\t%{FILENAMES}\\n]';

/** The headers of built RPMs, as package sources named after their component (the source RPM's name). */
async function builtPackages(paths: string[], signal?: AbortSignal): Promise<PackageSource[]> {
  if (paths.length === 0) return [];
  const out = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', HEADER_FORMAT, ...paths], {
    env: { HOME: '/nonexistent', LC_ALL: 'C' },
    signal,
  });
  const sources: PackageSource[] = [];
  let current: PackageSource['subpackages'][number] | null = null;
  for (const line of out.stdout.split('\n')) {
    const [tag, a = '', b = ''] = line.split('\t');
    if (tag === '@@') {
      current = { name: a, provides: [], requires: [], files: [], predictedProvides: [] };
      sources.push({ component: b.replace(/-[^-]+-[^-]+\.src\.rpm$/, ''), buildable: true, subpackages: [current] });
    } else if (current && tag === 'R' && !a.startsWith('rpmlib(')) {
      current.requires.push({ raw: a, name: a.startsWith('(') ? null : a, flag: null, evr: null });
    } else if (current && tag === 'P') {
      current.provides.push({ raw: a, name: a, flag: null, evr: null });
    } else if (current && tag === 'F') {
      current.files.push(a);
    }
  }
  return sources;
}

function componentsOf(sources: readonly PackageSource[], packages: Iterable<string>): Set<string> {
  const owner = new Map<string, string>();
  for (const source of sources) for (const sub of source.subpackages) owner.set(sub.name, source.component);
  return new Set([...packages].map((pkg) => owner.get(pkg)).filter((c): c is string => c !== undefined));
}

/** Every listed package must be some component's package on this arch, before anything is built. */
function checkListedPackages(image: ImageDefinition, imageName: string, arch: Arch, facts: SpecFacts[], listed: string[]): void {
  const index = providerIndex(facts);
  const known = [...index.packages.keys()];
  const missing = listed.filter((pkg) => !index.providers.has(pkg));
  if (missing.length === 0) return;
  throw new StrataErrors(
    missing.map(
      (pkg) =>
        new StrataError(`image ${imageName} (${arch}): no component of the distro provides package '${pkg}'${didYouMean(pkg, known)}`, {
          location: image.definedAt,
          hint: `packages on ${arch}: ${known.sort().join(', ')}`,
        }),
    ),
  );
}

export interface ImageBuildOptions {
  log: Logger;
  signal?: AbortSignal;
  jobs?: number;
}

export async function buildImageClosure(model: DistroModel, imageName: string, image: ImageDefinition, arch: Arch, options: ImageBuildOptions): Promise<BuildSummary> {
  const { log, signal } = options;
  const listed = packagesFor(image, arch);
  const rendered = await renderComponents(model);
  const { facts } = await evaluateSpecs(model, rendered, arch, { log, signal });
  const buildable = facts.filter((fact) => fact.buildable);
  checkListedPackages(image, imageName, arch, buildable, listed);

  let wanted = componentsOf(buildable, closure(providerIndex(buildable), listed, model.graph.providers).keys());
  for (;;) {
    log.info(`building for image ${imageName} (${arch}): ${[...wanted].sort().join(', ')}`);
    const summary = await buildDistro(model, { arches: [arch], components: [...wanted].sort(), jobs: options.jobs, log, signal });
    const repo = summary.repos[arch]!;
    const rpms = summary.jobs.flatMap((job) => job.artifacts.filter((a) => !a.file.endsWith('.src.rpm')).map((a) => join(repo, a.file)));
    const built = await builtPackages(rpms, signal);
    const builtComponents = new Set(built.map((source) => source.component));
    const sources = [...built, ...buildable.filter((fact) => !builtComponents.has(fact.component))];
    const needed = componentsOf(sources, closure(providerIndex(sources), listed, model.graph.providers).keys());
    const more = [...needed].filter((component) => !wanted.has(component));
    if (more.length === 0) return summary;
    log.info(`the built packages also need: ${more.sort().join(', ')}`);
    wanted = new Set([...wanted, ...more]);
  }
}

/** Where an image's pieces are, and which packages and repositories it uses for an arch. */
import { join, resolve } from 'node:path';
import type { Arch, DistroModel, ImageDefinition } from '../config/model.js';
import { StrataError } from '../util/errors.js';
import { didYouMean } from '../util/suggest.js';
import { displayPath } from '../config/config-file.js';
import type { RepoSource } from './context.js';
import { HOST_ARCH, repoDir } from '../build/index.js';

export function imageDir(model: DistroModel, image: string, arch: Arch, outRoot?: string): string {
  return join(outRoot ?? resolve(model.root, model.build.outDir), 'images', image, arch);
}

/** The local repository the build stage fills (createrepo_c metadata), per arch: the build stage's repoDir. */
export function defaultRepo(model: DistroModel, arch: Arch): string {
  return repoDir(model, arch);
}

export function findImage(model: DistroModel, name: string): ImageDefinition {
  const image = model.images[name];
  if (image) return image;
  const known = Object.keys(model.images).sort();
  throw new StrataError(`no image named '${name}'${didYouMean(name, known)}`, {
    location: { file: displayPath(model.configFile, process.cwd()), line: 1, col: 1 },
    hint: known.length > 0 ? `images defined: ${known.join(', ')}` : 'define one under [images.NAME] in toolkit.config.toml',
  });
}

/** The arch commands use without --arch: the host's when the distro targets it, else the distro's first. */
export function defaultArch(model: DistroModel): Arch {
  return model.distro.arches.includes(HOST_ARCH) ? HOST_ARCH : model.distro.arches[0]!;
}

export function checkArch(model: DistroModel, arch: Arch): void {
  if (!model.distro.arches.includes(arch)) {
    throw new StrataError(`the distro is not built for ${arch}: [distro] arches lists ${model.distro.arches.join(', ')}`, {
      location: { file: displayPath(model.configFile, process.cwd()), line: 1, col: 1 },
      hint: `add "${arch}" to arches in [distro], or compose for one of ${model.distro.arches.join(', ')}`,
    });
  }
}

/** The image's package list for one arch: the common list, plus and minus that arch's changes. */
export function packagesFor(image: ImageDefinition, arch: Arch): string[] {
  const change = image.perArch[arch];
  const removed = new Set(change?.removePackages ?? []);
  return [...new Set([...image.packages, ...(change?.addPackages ?? [])])].filter((p) => !removed.has(p));
}

export function reposFor(model: DistroModel, image: ImageDefinition, arch: Arch, repo?: string): RepoSource[] {
  return [
    { id: 'strata', location: repo ?? defaultRepo(model, arch) },
    ...image.extraRepos.map((location, i) => ({ id: `extra-${i + 1}`, location: location.replace(/\$basearch/g, arch) })),
  ];
}


/**
 * The composer: an image definition and a package repository in, a folder of
 * image artifacts out (out/images/IMAGE/ARCH/). The steps below run top to
 * bottom; each decides for itself whether it applies to this image.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import { replaceDirAtomic } from '../util/atomic.js';
import { StrataError, interrupted } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ComposeContext, ComposeStep } from './context.js';
import { checkArch, findImage, imageDir, packagesFor, reposFor } from './image.js';
import { readManifest, type ImageManifest } from './manifest.js';
import { installPackages } from './steps/install_packages.js';
import { minimiseTree } from './steps/minimise_tree.js';
import { checkElfArch } from './steps/check_elf_arch.js';
import { makeFilesystem } from './steps/make_filesystem.js';
import { makeVerity } from './steps/make_verity.js';
import { signVerity } from './steps/sign_verity.js';
import { makeDisk } from './steps/make_disk.js';
import { writeCmdline } from './steps/write_cmdline.js';
import { convertDisk } from './steps/convert_disk.js';
import { writeSbom } from './steps/write_sbom.js';
import { writeManifest } from './steps/write_manifest.js';
import { writeProvenanceStep } from '../audit/compose-provenance.js';

export { verifyImage, type VerifyReport } from './verify.js';
export { bootImage, type BootReport } from './boot/index.js';
export { reproImage, type ReproReport } from './repro.js';
export type { ImageManifest } from './manifest.js';
export { checkArch, defaultArch, defaultRepo, findImage, imageDir, packagesFor } from './image.js';

export const STEPS: readonly ComposeStep[] = [
  installPackages,
  minimiseTree,
  checkElfArch,
  makeFilesystem,
  makeVerity,
  signVerity,
  makeDisk,
  writeCmdline,
  convertDisk,
  writeSbom,
  writeProvenanceStep,
  writeManifest,
];

export interface ComposeOptions {
  log: Logger;
  signal?: AbortSignal;
  /** The package repository to install from; default out/repo/ARCH. */
  repo?: string;
  /** Where out/images lives; default the project's output folder. */
  outRoot?: string;
}

export interface ComposeResult {
  image: string;
  arch: Arch;
  outDir: string;
  rootHash: string | null;
  manifest: ImageManifest;
}

export async function composeImage(model: DistroModel, imageName: string, arch: Arch, options: ComposeOptions): Promise<ComposeResult> {
  const image = findImage(model, imageName);
  checkArch(model, arch);
  if (process.getuid?.() !== 0) {
    throw new StrataError('composing an image needs root', {
      kind: 'input',
      hint: 'rpm must set the packaged owners in the staging root; run strata compose as root (or under `unshare -r --map-auto`)',
    });
  }
  const target = imageDir(model, imageName, arch, options.outRoot);
  const workDir = await mkdtemp(join(tmpdir(), `strata-compose-${imageName}-${arch}-`));
  let result: ComposeContext | undefined;
  try {
    await replaceDirAtomic(target, async (outDir) => {
      let context: ComposeContext = {
        model,
        image,
        arch,
        log: options.log,
        signal: options.signal,
        packages: packagesFor(image, arch),
        repos: reposFor(model, image, arch, options.repo),
        workDir,
        stageRoot: join(workDir, 'root'),
        outDir,
        installed: [],
        packageFiles: new Map(),
        conversions: [],
      };
      for (const step of STEPS) {
        if (options.signal?.aborted) throw interrupted();
        if (!step.applies(context)) continue;
        options.log.progress(`${imageName}/${arch}: ${step.name}`);
        const started = performance.now();
        context = await step.run(context);
        options.log.verbose(`  ${step.name}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
      }
      options.log.progressDone();
      result = context;
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const manifest = await readManifest(target);
  return { image: imageName, arch, outDir: target, rootHash: result?.verity?.rootHash ?? null, manifest };
}

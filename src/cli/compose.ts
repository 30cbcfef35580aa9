import { defineCommand, archOption } from './command.js';
import { loadModel } from './project.js';
import type { Arch } from '../config/model.js';
import { repoDir } from '../build/index.js';
import { buildImageClosure } from '../compose/build-closure.js';
import { checkArch, composeImage, defaultArch, findImage } from '../compose/index.js';
import { pathExists } from '../compose/fs.js';
import { StrataError } from '../util/errors.js';
import { formatSize } from '../util/units.js';
import { join } from 'node:path';

interface ComposeArgs {
  image: string;
  arch?: Arch;
  repo?: string;
  build: boolean;
}

export default defineCommand<ComposeArgs>({
  command: 'compose <image>',
  describe: 'build what the image needs (through the build cache), then compose it: install, minimise, filesystem, verity, GPT disk, manifest and SBOM',
  examples: [
    ['$0 compose minimal', 'build the distro for x86_64 as needed and compose out/images/minimal/x86_64/'],
    ['$0 compose minimal --arch aarch64', 'the same image for 64-bit Arm (cross-built packages)'],
    ['$0 compose minimal --no-build', 'compose from out/repo/ARCH as it is, building nothing'],
    ['$0 compose minimal --repo /srv/rpms/x86_64 --json', 'install from another repository; print the manifest'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('image', { type: 'string', demandOption: true, describe: 'image name ([images.NAME] in config)' })
      .option('build', { type: 'boolean', default: true, describe: 'build the distro first (cached jobs are reused); --no-build skips it' })
      .option('repo', { type: 'string', describe: 'install from this repository folder instead of out/repo/ARCH (implies --no-build)' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const arch: Arch = args.arch ?? defaultArch(model);
    const image = findImage(model, args.image);
    checkArch(model, arch);
    if (args.repo === undefined && args.build) {
      await buildImageClosure(model, args.image, image, arch, { log: context.log, signal: context.signal });
    }
    const repo = args.repo ?? repoDir(model, arch);
    if (!(await pathExists(join(repo, 'repodata', 'repomd.xml')))) {
      throw new StrataError(`no package repository at ${repo}`, { hint: `build the distro first: strata build --arch ${arch}` });
    }
    context.log.info(`composing ${args.image} for ${arch}`);
    const result = await composeImage(model, args.image, arch, { log: context.log, signal: context.signal, repo });
    const m = result.manifest;
    const width = Math.max(...m.packages.map((p) => p.nevra.length), 10);
    const lines = [
      `image ${m.image} (${m.arch}) → ${result.outDir}`,
      `root hash: ${m.verity?.rootHash ?? '(verity off)'}`,
      '',
      `${'package'.padEnd(width)}  installed  in image`,
      ...m.packages.map((p) => `${p.nevra.padEnd(width)}  ${formatSize(p.installedSize).padStart(9)}  ${formatSize(p.imageBytes).padStart(8)}`),
      `${'total'.padEnd(width)}  ${formatSize(m.sizes.installedPackages).padStart(9)}  ${formatSize(m.sizes.filesystemImage).padStart(8)} (${m.filesystem.type}, compressed)`,
      '',
      ...Object.entries(m.artifacts).map(([name, a]) => `${a.sha256}  ${name}`),
    ];
    return { json: { ok: true, outDir: result.outDir, rootHash: result.rootHash, manifest: m }, text: lines.join('\n') };
  },
});

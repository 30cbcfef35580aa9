import { defineCommand, archOption } from './command.js';
import { loadModel } from './project.js';
import type { Arch } from '../config/model.js';
import { defaultArch, reproImage } from '../compose/index.js';

interface ReproArgs {
  image: string;
  arch?: Arch;
  keep?: boolean;
  repo?: string;
}

export default defineCommand<ReproArgs>({
  command: 'repro <image>',
  describe: 'compose an image twice in separate clean folders and compare every artifact byte for byte',
  examples: [
    ['$0 repro minimal', 'is the x86_64 image reproducible?'],
    ['$0 repro minimal --arch aarch64 --keep', 'check aarch64 and keep both outputs for inspection'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('image', { type: 'string', demandOption: true, describe: 'image name' })
      .option('keep', { type: 'boolean', default: false, describe: 'keep both output folders' })
      .option('repo', { type: 'string', describe: 'install from this repository folder instead of out/repo/ARCH' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const arch: Arch = args.arch ?? defaultArch(model);
    const report = await reproImage(model, args.image, arch, { log: context.log, keep: args.keep, repo: args.repo });
    const lines = report.identical
      ? [...Object.entries(report.artifacts).map(([name, sha]) => `${sha}  ${name}`), '', `${args.image} (${arch}): reproducible, every artifact identical`]
      : [
          ...report.differences.map((d) => `DIFFERS  ${d.artifact}: ${d.first} vs ${d.second}${d.inside ? `\n         first difference inside: ${d.inside}` : ''}`),
          '',
          `${args.image} (${arch}): NOT reproducible; first differing artifact: ${report.differences[0]!.artifact}`,
        ];
    if (args.keep) lines.push(`outputs kept in ${report.dirs.join(' and ')}`);
    return { json: report, text: lines.join('\n'), exitCode: report.identical ? 0 : 1 };
  },
});

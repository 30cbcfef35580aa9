import { defineCommand, archOption } from './command.js';
import { loadModel } from './project.js';
import type { Arch } from '../config/model.js';
import { defaultArch, verifyImage, type VerifyReport } from '../compose/index.js';
import { verifyImageDir } from '../compose/verify.js';

interface VerifyArgs {
  image: string;
  arch?: Arch;
  dir?: string;
}

export default defineCommand<VerifyArgs>({
  command: 'verify <image>',
  describe: 'check a composed image against its manifest and recompute its verity hash trees',
  examples: [
    ['$0 verify minimal', 'check out/images/minimal/x86_64/'],
    ['$0 verify minimal --arch aarch64 --json', 'the aarch64 image, as JSON'],
    ['$0 verify minimal --dir /mnt/release/minimal-x86_64', 'check a copy of the image folder elsewhere'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('image', { type: 'string', demandOption: true, describe: 'image name' })
      .option('dir', { type: 'string', describe: 'verify this image folder instead of out/images/IMAGE/ARCH' }) as never,
  run: async (args, context) => {
    const verifyConfigured = async (): Promise<VerifyReport> => {
      const model = await loadModel(context);
      return verifyImage(model, args.image, args.arch ?? defaultArch(model), { log: context.log });
    };
    const report = args.dir ? await verifyImageDir(args.dir, { log: context.log }) : await verifyConfigured();
    const lines = [
      ...report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.check}: ${c.detail}`),
      '',
      report.ok ? `${report.image} (${report.arch}): intact` : `${report.image} (${report.arch}): TAMPERED or damaged (${report.checks.filter((c) => !c.ok).length} failed checks)`,
    ];
    return { json: report, text: lines.join('\n'), exitCode: report.ok ? 0 : 1 };
  },
});

import { defineCommand, archOption } from './command.js';
import { loadModel } from './project.js';
import type { Arch } from '../config/model.js';
import { bootImage, defaultArch } from '../compose/index.js';

interface BootArgs {
  image: string;
  arch?: Arch;
  timeout: number;
  dir?: string;
}

export default defineCommand<BootArgs>({
  command: 'boot <image>',
  describe: 'boot a composed disk image under qemu and wait for its boot marker',
  examples: [
    ['$0 boot minimal', 'boot out/images/minimal/x86_64/disk.raw'],
    ['$0 boot minimal --arch aarch64 --timeout 300', 'boot the aarch64 image, allowing five minutes'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('image', { type: 'string', demandOption: true, describe: 'image name' })
      .option('timeout', { type: 'number', default: 180, describe: 'seconds before the boot counts as hung' })
      .option('dir', { type: 'string', describe: 'boot this image folder instead of out/images/IMAGE/ARCH' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const arch: Arch = args.arch ?? defaultArch(model);
    const report = await bootImage(model, args.image, arch, { log: context.log, timeoutSeconds: args.timeout, dir: args.dir });
    const verdict = report.ok
      ? `${args.image} (${arch}): booted, marker seen after ${report.seconds.toFixed(1)} s`
      : `${args.image} (${arch}): boot FAILED (${report.outcome})${report.evidence ? `: ${report.evidence}` : ''}`;
    if (!context.json) process.stderr.write(report.console.endsWith('\n') ? report.console : `${report.console}\n`);
    const { console: _console, ...summary } = report;
    return { json: summary, text: `${verdict}\nconsole log: ${report.consoleLog}`, exitCode: report.ok ? 0 : 1 };
  },
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { archOption, defineCommand } from './command.js';
import { loadModel } from './project.js';
import { analyse } from '../audit/analysis.js';
import { whyComposed, whyPredicted, type WhyReport } from '../audit/why.js';
import { checkArch, defaultArch, defaultRepo, findImage, imageDir } from '../compose/image.js';
import { MANIFEST_FILE, readManifest } from '../compose/manifest.js';
import type { Arch } from '../config/model.js';
import { StrataError } from '../util/errors.js';

interface WhyArgs {
  package: string;
  image: string;
  arch?: Arch;
}

function formatWhy(report: WhyReport): string {
  const where = `${report.image} (${report.arch})`;
  const lines: string[] = [];
  const target = report.matches.join(', ');
  const named = report.matches.includes(report.query) ? report.query : `${report.query} (provided by ${target})`;
  if (report.listed) {
    lines.push(`${named} is in ${where} because [images.${report.image}].packages lists it`);
  } else if (report.chain.length > 0) {
    lines.push(`${named} is in ${where} because:`);
    report.chain.forEach((link, depth) => {
      const indent = depth === 0 ? '  ' : `  ${'   '.repeat(depth - 1)}└─ `;
      const reason =
        depth === 0
          ? `listed in [images.${report.image}].packages${link.via ? ` (as ${link.via})` : ''}`
          : `${report.chain[depth - 1]!.package} requires ${link.via}`;
      lines.push(`${indent}${link.package}  ← ${reason}`);
    });
  } else {
    lines.push(`${named} is in ${where}, but no chain from the image's package list reaches it (installed as a dependency the list no longer names?)`);
  }
  if (report.requiredBy.length > 0) {
    lines.push('', `required by (every package of the image that needs it):`);
    const byPackage = new Map<string, string[]>();
    for (const r of report.requiredBy) byPackage.set(r.package, [...(byPackage.get(r.package) ?? []), r.requirement]);
    for (const [pkg, requirements] of byPackage) lines.push(`  ${pkg}: ${requirements.join(', ')}`);
  }
  lines.push('', `(from ${report.source})`);
  return lines.join('\n');
}

export default defineCommand<WhyArgs>({
  command: 'why <package>',
  describe: 'the chain of requirements that pulls a package (or a capability) into an image',
  examples: [
    ['strata why glibc-runtime --image minimal', 'which package of the image needs glibc-runtime, and through what'],
    ['strata why "libc.so.6()(64bit)" --image minimal --arch aarch64', 'the same question for a capability, on aarch64'],
    ['strata why greet --image minimal --json', 'the chain and the direct requirers as JSON'],
  ],
  builder: (yargs) =>
    archOption(
      yargs
        .positional('package', { type: 'string', demandOption: true, describe: 'package name, or a capability (file path, soname, virtual provide)' })
        .option('image', { type: 'string', demandOption: true, requiresArg: true, describe: 'image name ([images.NAME])' }),
    ) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    findImage(model, args.image);
    const arch = args.arch ?? defaultArch(model);
    checkArch(model, arch);
    const dir = imageDir(model, args.image, arch);
    let report: WhyReport;
    if (existsSync(join(dir, MANIFEST_FILE))) {
      const manifest = await readManifest(dir);
      report = await whyComposed(model, args.image, arch, String(args.package), manifest, { image: dir, repo: defaultRepo(model, arch) });
    } else {
      const analysis = await analyse(model, [arch], context.log);
      const stage = analysis.arches[arch];
      if (!stage || 'error' in stage) {
        throw new StrataError(`image ${args.image} (${arch}) is not composed, and its contents cannot be predicted: ${stage ? stage.error : 'no analysis'}`, {
          hint: `compose it first: strata compose ${args.image} --arch ${arch}`,
        });
      }
      report = whyPredicted(model, args.image, arch, String(args.package), stage.facts);
    }
    return { json: report, text: formatWhy(report) };
  },
});

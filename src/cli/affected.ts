import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { analyse } from '../audit/analysis.js';
import { classifyChanges, expandAffected, type AffectedReport } from '../audit/affected.js';
import { changesSince } from '../audit/git.js';
import { ARCHES, type Arch } from '../config/model.js';

interface AffectedArgs {
  since: string;
  arch?: Arch;
}

function textReport(report: AffectedReport, header: string, verbose: boolean): string {
  const lines = [header];
  const shown = verbose ? report.files : report.files.filter((f) => f.everything || f.components.length > 0 || f.images.length > 0);
  const width = Math.min(48, Math.max(0, ...shown.map((f) => f.path.length)));
  for (const file of shown) {
    const target = file.everything ? 'everything' : [...file.components, ...file.images.map((i) => `image ${i}`)].join(', ') || 'nothing';
    lines.push(`  ${file.path.padEnd(width)}  → ${target} (${file.reason})`);
  }
  if (report.files.length === 0) lines.push('  (no changes)');
  const quiet = report.files.length - shown.length;
  if (quiet > 0) lines.push(`  … and ${quiet} more file(s) that affect nothing (--verbose lists them)`);
  lines.push('', 'components to rebuild:');
  const arches = [...new Set(report.components.map((c) => c.arch))];
  for (const arch of arches) {
    lines.push(`  ${arch}:`);
    for (const c of report.components.filter((x) => x.arch === arch)) lines.push(`    ${c.name}${c.direct ? '' : ' (dependent)'}: ${c.because.join('; ')}`);
  }
  if (arches.length === 0) lines.push('  none');
  lines.push('', 'images to recompose:');
  for (const image of report.images) lines.push(`  ${image.name} (${image.arch}): ${image.because.join('; ')}`);
  if (report.images.length === 0) lines.push('  none');
  for (const gap of report.approximate) lines.push('', `note: ${gap.arch}: dependents and image contents not followed (${gap.reason}); images counted as affected to be safe`);
  return lines.join('\n');
}

export default defineCommand<AffectedArgs>({
  command: 'affected',
  describe: 'which components, arches and images change because of the files changed since a git ref',
  examples: [
    ['strata affected', 'what the uncommitted changes in the working tree affect'],
    ['strata affected --since origin/main --json', 'in CI: what this branch changes, as JSON'],
    ['strata affected --since v1.0 --arch aarch64', 'only the aarch64 side'],
  ],
  builder: (yargs) =>
    yargs
      .option('since', {
        type: 'string',
        default: 'HEAD',
        describe: 'compare with the point where the current branch left this ref (includes uncommitted and untracked files)',
      })
      .option('arch', { type: 'string', choices: ARCHES, describe: 'only this architecture (default: every arch of the distro)' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const changes = await changesSince(model.root, args.since);
    const files = await classifyChanges(model, changes);
    const arches = args.arch ? [args.arch] : model.distro.arches;
    const touched = files.some((f) => f.everything || f.components.length > 0);
    // The graph costs a spec evaluation per arch: only worth it when some component changed.
    const analysis = touched ? (await analyse(model, arches, context.log)).arches : {};
    const report = expandAffected({ ...model, distro: { ...model.distro, arches } }, files, analysis);
    const header = `changed since ${args.since} (merge base ${changes.base.slice(0, 12)}):`;
    return {
      json: {
        since: args.since,
        base: changes.base,
        ...report,
        summary: {
          arches: Object.fromEntries(arches.map((arch) => [arch, report.components.filter((c) => c.arch === arch).map((c) => c.name)])),
          images: [...new Set(report.images.map((i) => i.name))].sort(),
        },
      },
      text: textReport(report, header, args.verbose),
    };
  },
});

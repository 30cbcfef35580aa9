import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { analyse } from '../audit/analysis.js';
import { explainComponent, type ExplainReport } from '../audit/explain.js';
import { selectComponents } from '../overlays/render.js';

interface ExplainArgs {
  component: string;
  hunks: boolean;
}

const short = (hex: string | null): string => (hex === null ? '?' : hex.slice(0, 16));

function formatExplain(report: ExplainReport, hunks: boolean): string {
  const out: string[] = [];
  out.push(`${report.component}  (${report.origin === 'glob' ? 'found by a component glob' : 'declared'} at ${report.definedAt})`);
  out.push(`  spec         ${report.spec.path}  sha256 ${short(report.spec.sha256)}  rendered ${short(report.spec.renderedSha256)}`);
  out.push(`  fingerprint  ${report.fingerprint ?? '?'}`);

  out.push('', 'sources:');
  for (const source of report.sources) {
    const changed = source.changedBy.length > 0 ? `  changed by overlay ${source.changedBy.map((i) => `#${i}`).join(', ')}` : '';
    out.push(`  ${source.path}  ${source.mode}  sha256 ${source.sha256}${source.url ? `  from ${source.url}` : ''}${changed}`);
  }
  if (report.sources.length === 0) out.push('  none');

  out.push('', 'overlays:');
  for (const overlay of report.overlays) {
    const meta = [overlay.category, overlay.upstreamStatus ? `upstream: ${overlay.upstreamStatus}` : null].filter(Boolean).join(', ');
    out.push(`  #${overlay.index} ${overlay.type}${overlay.description ? ` — ${overlay.description}` : ''}`);
    out.push(`     at ${overlay.definedAt}${meta ? `  [${meta}]` : ''}${overlay.touched.length > 0 ? `  touched ${overlay.touched.join(', ')}` : ''}`);
    if (!hunks) continue;
    for (const hunk of overlay.hunks) {
      out.push(`     @@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@ ${hunk.file}`);
      for (const line of hunk.lines) out.push(`     ${line}`);
    }
  }
  if (report.overlays.length === 0) out.push('  none');

  out.push('', 'graph:');
  for (const arch of report.arches) {
    out.push(`  ${arch.arch}: ${arch.buildable ? `${arch.evr ?? '?'}, subpackages ${arch.subpackages.join(', ') || 'none'}` : 'not built on this arch'}`);
    out.push(`     needs      ${arch.deps.map((d) => `${d.component} (${d.via})`).join(', ') || 'nothing from the distro'}`);
    out.push(`     needed by  ${arch.rdeps.map((d) => `${d.component} (${d.via})`).join(', ') || 'no component'}`);
    if (arch.unresolved.length > 0) out.push(`     unresolved ${arch.unresolved.join(', ')}`);
  }
  for (const position of report.criticalPath) {
    out.push(
      `  critical path: ${position.job} takes ~${position.weight} s, starts after ${position.startsAfter} s of work, ${position.blocks} s of work waits on it; ` +
        `${position.onCriticalPath ? 'ON' : 'off'} the critical path (${position.criticalPath} s)`,
    );
  }

  out.push('', 'last build:');
  for (const build of report.lastBuilds) {
    out.push(`  ${build.job}  key ${build.key}  ${build.seconds === null ? '' : `${build.seconds} s  `}${build.inCache ? 'in the cache' : 'no longer in the cache'}`);
    if (build.log) out.push(`     log ${build.log}`);
    for (const artifact of build.artifacts) out.push(`     ${artifact.file}  sha256 ${artifact.sha256}`);
    const inputs = build.inputs;
    out.push(`     inputs: recipe ${inputs.recipe}, build root ${short(inputs.buildRoot)}, macros ${short(inputs.macros)}, spec ${short(inputs.spec.rendered)}`);
    for (const [name, sha] of Object.entries(inputs.sources)) out.push(`       source ${name} ${short(sha)}`);
    for (const [name, sha] of Object.entries(inputs.dependencies)) out.push(`       dependency ${name} ${short(sha)}`);
  }
  if (report.lastBuilds.length === 0) out.push('  never built here (strata build records each job\'s inputs)');

  out.push('', 'images:');
  for (const image of report.images) out.push(`  ${image.image} (${image.arch}): ${image.packages.join(', ')}${image.source === 'predicted' ? '  (predicted: not composed yet)' : ''}`);
  if (report.images.length === 0) out.push('  none');

  if (report.notes.length > 0) out.push('', ...report.notes.map((note) => `note: ${note}`));
  return out.join('\n');
}

export default defineCommand<ExplainArgs>({
  command: 'explain <component>',
  describe: 'where a component comes from, what its overlays change, its place in the graph, its last build and the images holding it',
  examples: [
    ['strata explain greet', 'the full story of greet, overlay hunks included'],
    ['strata explain greet --no-hunks', 'the same without the diff hunks'],
    ['strata explain libgreet-devel', 'the component that builds the libgreet-devel package'],
    ['strata explain greet --json', 'everything as one JSON document (for audit tooling)'],
  ],
  builder: (yargs) =>
    yargs
      .positional('component', { type: 'string', demandOption: true, describe: 'component name, or the name of a package it builds' })
      .option('hunks', { type: 'boolean', default: true, describe: 'show the diff hunks each overlay made (--no-hunks to hide)' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const name = String(args.component);
    const analysis = await analyse(model, model.distro.arches, context.log);
    // A binary package name (libgreet-devel) explains the component that builds it.
    const owner = model.components[name]
      ? name
      : Object.values(analysis.arches)
          .flatMap((stage) => (stage && 'facts' in stage ? stage.facts : []))
          .find((fact) => fact.subpackages.some((sub) => sub.name === name))?.component;
    const [component] = selectComponents(model, [owner ?? name]);
    const report = await explainComponent(model, component!, analysis);
    const via = owner !== undefined && owner !== name ? `${name} is a package of component ${owner}\n\n` : '';
    return { json: report, text: via + formatExplain(report, args.hunks) };
  },
});

import { relative } from 'node:path';
import { defineCommand } from './command.js';
import { loadProject } from '../config/load.js';
import type { DistroModel } from '../config/model.js';
import { renderComponents } from '../overlays/render.js';
import { StrataError, formatLocation } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { toPosix } from '../util/paths.js';

/**
 * Each component's rendered fingerprint. While the overlay engine is not in
 * place yet the model is still worth printing, so only its "not implemented"
 * error is tolerated; any real rendering problem is reported.
 */
async function componentFingerprints(model: DistroModel, log: Logger): Promise<Map<string, string>> {
  try {
    const rendered = await renderComponents(model);
    return new Map(rendered.map((component) => [component.name, component.fingerprint]));
  } catch (error) {
    if (error instanceof StrataError && /not implemented/.test(error.message)) {
      log.verbose(`component fingerprints left out: ${error.message}`);
      return new Map();
    }
    throw error;
  }
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string => `  ${cells.map((text, column) => (column === cells.length - 1 ? text : text.padEnd(widths[column]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

function summary(model: DistroModel, fingerprints: Map<string, string>): string {
  const rel = (path: string): string => toPosix(relative(model.root, path)) || '.';
  const { distro, rpm, build } = model;
  const defines = Object.entries(rpm.defines).map(([name, value]) => `${name}=${value}`);
  const buildRoot = build.buildRoot.type === 'host' ? 'host' : `${build.buildRoot.type} ${rel(build.buildRoot.path)}`;
  const lines = [
    `project      ${model.root}`,
    `files        ${model.files.length <= 8 ? model.files.map(rel).join(', ') : `${rel(model.configFile)} and ${model.files.length - 1} included files (--json lists them)`}`,
    `distro       ${distro.name} ${distro.version}${distro.distTag ? ` (dist ${distro.distTag})` : ''}${distro.vendor ? `, vendor "${distro.vendor}"` : ''}`,
    `arches       ${distro.arches.join(' ')}`,
    `epoch        SOURCE_DATE_EPOCH=${distro.sourceDateEpoch}`,
    `rpm          ${rpm.macroFiles.length} macro file(s)${rpm.macroFiles.length ? ` (${rpm.macroFiles.map(rel).join(', ')})` : ''}${defines.length ? `; defines ${defines.join(' ')}` : ''}`,
    `build        jobs ${build.jobs === 0 ? 'one per core' : build.jobs}, sandbox ${build.sandbox}, build root ${buildRoot} (${build.buildRoot.provides.length} provides), timeout ${build.timeoutSeconds} s`,
    `folders      out-dir ${rel(build.outDir)}, cache-dir ${rel(build.cacheDir)}${build.lookaside ? `, lookaside ${build.lookaside}` : ''}`,
    `fingerprint  ${model.fingerprint}`,
    '',
  ];
  const components = Object.values(model.components);
  lines.push(`components (${components.length})`);
  if (components.length > 0) {
    lines.push(
      ...table(
        ['NAME', 'SPEC', 'OVERLAYS', 'ARCHES', 'ORIGIN', ...(fingerprints.size > 0 ? ['FINGERPRINT'] : [])],
        components.map((component) => [
          component.name,
          rel(component.specPath),
          String(component.overlays.length),
          component.arches?.join(',') ?? 'all',
          `${component.origin} ${formatLocation(component.definedAt)}${component.refinedAt ? `, refined at ${formatLocation(component.refinedAt)}` : ''}`,
          ...(fingerprints.size > 0 ? [fingerprints.get(component.name)?.slice(0, 16) ?? '-'] : []),
        ]),
      ),
    );
  }
  const images = Object.values(model.images);
  lines.push('', `images (${images.length})`);
  for (const image of images) {
    const traits = [image.filesystem, image.verity ? 'verity' : 'no verity', `layout ${image.layout}`, `formats ${image.formats.join(',')}`, image.signing ? 'signed' : 'unsigned'];
    lines.push(`  ${image.name}: ${traits.join(', ')}`, `    packages ${image.packages.join(' ')}`);
    for (const [arch, changes] of Object.entries(image.perArch)) {
      const parts = [...changes.addPackages.map((p) => `+${p}`), ...changes.removePackages.map((p) => `-${p}`)];
      lines.push(`    on ${arch}: ${parts.join(' ')}`);
    }
  }
  return lines.join('\n');
}

export default defineCommand({
  command: 'config',
  describe: 'print the merged, validated config: distro, components (with where each is declared), images',
  examples: [
    ['$0 config', 'summarise the project in the current folder'],
    ['$0 -C path/to/distro config --json', 'the merged model as JSON, with each component\'s fingerprint'],
  ],
  run: async (_args, context) => {
    const model = await loadProject({ cwd: context.cwd, configPath: context.configPath });
    const fingerprints = await componentFingerprints(model, context.log);
    const components = Object.fromEntries(
      Object.values(model.components).map((component) => [component.name, { ...component, fingerprint: fingerprints.get(component.name) ?? null }]),
    );
    return { json: { ...model, components }, text: summary(model, fingerprints) };
  },
});

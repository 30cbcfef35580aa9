import { join, relative, resolve } from 'node:path';
import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { renderComponents } from '../overlays/render.js';
import { assertSafeOutDir, checkRendered, renderedTree, writeRendered, type Drift } from '../overlays/write.js';
import type { RenderedComponent } from '../overlays/model.js';
import { toPosix } from '../util/paths.js';

interface RenderArgs {
  components: string[];
  out?: string;
  check: boolean;
}

function driftLines(drift: Drift): string[] {
  if (drift.state === 'stale') return [`  ${drift.component}: rendered folder of a component that no longer exists`];
  if (drift.state === 'foreign') return [`  ${drift.component}: folder strata did not render (remove it)`];
  if (drift.state === 'absent') return [`  ${drift.component}: not rendered`];
  return [
    `  ${drift.component}:`,
    ...drift.changed.map((p) => `    changed  ${p}`),
    ...drift.missing.map((p) => `    missing  ${p}`),
    ...drift.extra.map((p) => `    extra    ${p}`),
  ];
}

function summary(component: RenderedComponent): Record<string, unknown> {
  return {
    name: component.name,
    fingerprint: component.fingerprint,
    specFile: component.specFile,
    overlays: component.effects.length,
    files: renderedTree(component),
  };
}

/** Rendered specs plus sources and patches per component, or (--check) the drift of such a tree. */
export default defineCommand<RenderArgs>({
  command: 'render [components..]',
  describe: 'write each component as built: rendered spec plus its sources and patches',
  examples: [
    ['strata render', 'render every component into <out-dir>/rendered/<component>/'],
    ['strata render greet libgreet --out /tmp/r', 'render two components into /tmp/r/'],
    ['strata render --check', 'CI drift gate: exit 1 naming the components whose rendered tree is out of date'],
  ],
  builder: (yargs) =>
    yargs
      .positional('components', { type: 'string', array: true, default: [] as string[], describe: 'components to render (default: all)' })
      .option('out', { type: 'string', requiresArg: true, describe: 'output folder (default: <build.out-dir>/rendered)' })
      .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 if the tree on disk differs' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const outDir = args.out ? resolve(context.cwd, args.out) : join(model.build.outDir, 'rendered');
    const rel = toPosix(relative(model.root, outDir));
    const shown = rel === '' ? '.' : rel.startsWith('..') ? outDir : rel;
    assertSafeOutDir(model, outDir);
    const names = (args.components ?? []).map(String);
    const rendered = await renderComponents(model, names);
    const complete = names.length === 0;
    if (args.check) {
      const drifts = await checkRendered(outDir, rendered, complete);
      return {
        exitCode: drifts.length > 0 ? 1 : 0,
        json: { ok: drifts.length === 0, outDir: shown, checked: rendered.length, drift: drifts },
        text:
          drifts.length === 0
            ? `up to date: ${rendered.length} component(s) in ${shown}`
            : [`${drifts.length} component(s) differ from what the config renders (run strata render):`, ...drifts.flatMap(driftLines)].join('\n'),
      };
    }
    await writeRendered(outDir, rendered, complete);
    return {
      json: { ok: true, outDir: shown, components: rendered.map(summary) },
      text: [
        `rendered ${rendered.length} component(s) into ${shown}`,
        ...rendered.map((c) => `  ${c.name.padEnd(24)} ${c.fingerprint}  ${c.effects.length} overlay(s), ${c.files.length + 1} file(s)`),
      ].join('\n'),
    };
  },
});

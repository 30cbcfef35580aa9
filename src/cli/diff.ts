import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { diffComponent, formatDiff } from '../overlays/diff/index.js';
import { selectComponents } from '../overlays/render.js';

interface DiffArgs {
  component: string;
}

/** Base versus rendered, each hunk attributed to the overlay that made it. */
export default defineCommand<DiffArgs>({
  command: 'diff <component>',
  describe: 'unified diff of a component before and after its overlays, each hunk naming its overlay',
  examples: [
    ['strata diff greet', 'what the overlays change in greet, hunk by hunk'],
    ['strata diff greet --json', 'the hunks with their overlay (index, type, description, file:line:col)'],
  ],
  builder: (yargs) => yargs.positional('component', { type: 'string', demandOption: true, describe: 'component name' }) as never,
  run: async (args, context) => {
    const model = await loadModel(context);
    const [component] = selectComponents(model, [String(args.component)]);
    const diff = await diffComponent(model, component!);
    const text = formatDiff(diff);
    return { json: diff, text: text === '' ? `${diff.component}: no overlay changes anything` : text };
  },
});

import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { renderComponents } from '../overlays/render.js';

/** Config plus every overlay of every component applied in memory; nothing is written. */
export default defineCommand({
  command: 'validate',
  describe: 'check the config and that every overlay applies cleanly (writes nothing)',
  examples: [
    ['strata validate', 'check the project in the current folder'],
    ['strata validate --json', 'the same, as one JSON document (errors with file, line, col)'],
  ],
  run: async (_args, context) => {
    const model = await loadModel(context);
    const rendered = await renderComponents(model);
    const overlays = rendered.reduce((sum, c) => sum + c.effects.length, 0);
    return {
      json: { ok: true, components: rendered.length, overlays, fingerprint: model.fingerprint },
      text: `ok: ${rendered.length} component(s), ${overlays} overlay(s) apply cleanly`,
    };
  },
});

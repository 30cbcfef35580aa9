/** Loading the project the way every command needs it: config validated, overlays checked. */
import { loadProject } from '../config/load.js';
import type { DistroModel } from '../config/model.js';
import { checkOverlays } from '../overlays/render.js';
import type { CommandContext } from './command.js';

export async function loadModel(context: Pick<CommandContext, 'cwd' | 'configPath'> & Partial<CommandContext>): Promise<DistroModel> {
  const model = await loadProject({ cwd: context.cwd, configPath: context.configPath });
  checkOverlays(model);
  return model;
}

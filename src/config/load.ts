import type { DistroModel } from './model.js';
import { StrataError } from '../util/errors.js';

export interface LoadOptions {
  /** Folder to search for toolkit.config.toml from (upward). */
  cwd: string;
  /** Explicit config file; overrides the search. */
  configPath?: string;
}

// PLACEHOLDER: replaced by the config loader (issue 3).
export async function loadProject(_options: LoadOptions): Promise<DistroModel> {
  throw new StrataError('config loading is not implemented yet', { kind: 'build' });
}

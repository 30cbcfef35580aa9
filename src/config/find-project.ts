import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StrataError } from '../util/errors.js';

export const CONFIG_FILE_NAME = 'toolkit.config.toml';

/** The project is the nearest folder at or above `start` that holds toolkit.config.toml. */
export function findProjectConfig(start: string): string {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new StrataError(`no ${CONFIG_FILE_NAME} found in ${resolve(start)} or any folder above it`, {
        hint: 'run strata inside a strata project, or name one with -C DIR or --config FILE',
      });
    }
    dir = parent;
  }
}

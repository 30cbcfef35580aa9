import { defineCommand } from './command.js';
import { StrataError } from '../util/errors.js';

// Placeholder until this command's issue lands; replaced, never shipped as is.
export default defineCommand({
  command: 'affected',
  describe: 'affected (not yet implemented)',
  examples: [],
  run: async () => {
    throw new StrataError('strata affected is not implemented yet', { kind: 'build' });
  },
});

import { defineCommand } from './command.js';
import { StrataError } from '../util/errors.js';

// Placeholder until this command's issue lands; replaced, never shipped as is.
export default defineCommand({
  command: 'farm',
  describe: 'farm (not yet implemented)',
  examples: [],
  run: async () => {
    throw new StrataError('strata farm is not implemented yet', { kind: 'build' });
  },
});

import { defineCommand } from './command.js';
import { StrataError } from '../util/errors.js';

// Placeholder until this command's issue lands; replaced, never shipped as is.
export default defineCommand({
  command: 'compose',
  describe: 'compose (not yet implemented)',
  examples: [],
  run: async () => {
    throw new StrataError('strata compose is not implemented yet', { kind: 'build' });
  },
});

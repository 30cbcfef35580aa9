import { defineCommand } from './command.js';
import { StrataError } from '../util/errors.js';

// Placeholder until this command's issue lands; replaced, never shipped as is.
export default defineCommand({
  command: 'schema',
  describe: 'schema (not yet implemented)',
  examples: [],
  run: async () => {
    throw new StrataError('strata schema is not implemented yet', { kind: 'build' });
  },
});

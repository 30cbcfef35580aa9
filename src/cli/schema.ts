import { defineCommand } from './command.js';
import { configJsonSchema } from '../config/schema.js';
import { configMarkdown } from '../config/docs.js';

interface SchemaArgs {
  markdown: boolean;
}

export default defineCommand<SchemaArgs>({
  command: 'schema',
  describe: 'print the JSON Schema of toolkit.config.toml (or its reference in markdown)',
  examples: [
    ['$0 schema > toolkit.schema.json', 'write the JSON Schema for an editor or CI linter'],
    ['$0 schema --markdown > docs/config.md', 'regenerate the config reference'],
  ],
  builder: (yargs) => yargs.option('markdown', { type: 'boolean', default: false, describe: 'print docs/config.md instead of the JSON Schema' }),
  run: async (args) => {
    if (args.markdown) return { text: configMarkdown(), json: { markdown: configMarkdown() } };
    const schema = configJsonSchema();
    return { text: JSON.stringify(schema, null, 2), json: schema };
  },
});

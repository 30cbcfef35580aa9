import { defineCommand } from './command.js';
import { configJsonSchema } from '../config/schema.js';
import { configMarkdown } from '../config/docs.js';
import { overlayTypeSchemas } from '../overlays/types/index.js';

interface SchemaArgs {
  markdown: boolean;
}

type JsonObject = Record<string, unknown>;

/**
 * The config stage validates an overlay's shared metadata only and leaves each
 * type's own fields to the overlay stage; an editor wants both in one schema, so
 * each overlay list item becomes "one of" the types, metadata included.
 */
function withOverlayTypes(schema: JsonObject): JsonObject {
  const components = (schema.properties as JsonObject).components as JsonObject;
  const component = components.additionalProperties as JsonObject;
  const overlays = (component.properties as JsonObject).overlays as JsonObject;
  const generic = overlays.items as JsonObject;
  const metadata = Object.fromEntries(Object.entries(generic.properties as JsonObject).filter(([key]) => key !== 'type'));
  const variants = Object.entries(overlayTypeSchemas()).map(([name, typeSchema]) => {
    const { $schema: _ignored, ...own } = typeSchema as JsonObject;
    return {
      ...own,
      properties: { type: { const: name }, ...metadata, ...(own.properties as JsonObject) },
      required: ['type', ...((own.required as string[] | undefined) ?? [])],
      additionalProperties: false,
    };
  });
  overlays.items = { oneOf: variants };
  return schema;
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
    const schema = withOverlayTypes(configJsonSchema());
    return { text: JSON.stringify(schema, null, 2), json: schema };
  },
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configMarkdown } from '../../src/config/docs.js';
import { configJsonSchema } from '../../src/config/schema.js';

const DOCS = fileURLToPath(new URL('../../../docs/config.md', import.meta.url));

test('docs/config.md is the text generated from the schema', () => {
  assert.equal(
    readFileSync(DOCS, 'utf8'),
    configMarkdown(),
    'docs/config.md is out of date: regenerate it with `npx tsc -p . && node dist/src/config/docs-cli.js > docs/config.md` (or `strata schema --markdown > docs/config.md`)',
  );
});

test('every key in the schema has a description, and the docs name every section', () => {
  const markdown = configMarkdown();
  const missing: string[] = [];
  const visit = (schema: Record<string, any>, path: string): void => {
    for (const [key, inner] of Object.entries<Record<string, any>>(schema.properties ?? {})) {
      const here = path ? `${path}.${key}` : key;
      const element = inner.items ?? (typeof inner.additionalProperties === 'object' ? inner.additionalProperties : undefined);
      if (!inner.description && !element?.description) missing.push(here);
      if (inner.properties) visit(inner, here);
      if (element?.properties) visit(element, `${here}.*`);
    }
  };
  visit(configJsonSchema(), '');
  assert.deepEqual(missing, []);
  for (const header of ['[distro]', '[rpm]', '[[component-globs]]', '[components.NAME]', '[[components.NAME.overlays]]', '[build]', '[build.build-root]', '[graph]', '[[graph.cycle-breaks]]', '[images.NAME]', '[images.NAME.minimise]', '[images.NAME.arch.ARCH]']) {
    assert.ok(markdown.includes(`### \`${header}\``), header);
  }
});

test('the JSON Schema is strict and carries the defaults', () => {
  const schema = configJsonSchema() as Record<string, any>;
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ['distro']);
  assert.equal(schema.properties.distro.additionalProperties, false);
  assert.equal(schema.properties.build.properties.sandbox.default, 'bubblewrap');
  assert.deepEqual(schema.properties.build.properties.sandbox.enum, ['bubblewrap', 'podman']);
  assert.equal(schema.properties.build.properties['build-root'].additionalProperties, false);
  // Overlays keep their type-specific fields for the overlay stage.
  assert.deepEqual(schema.properties.components.additionalProperties.properties.overlays.items.required, ['type']);
  assert.notEqual(schema.properties.components.additionalProperties.properties.overlays.items.additionalProperties, false);
});

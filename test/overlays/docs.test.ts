/** docs/overlays.md describes every registered overlay type with exactly its fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OVERLAY_TYPES, fieldsOf } from '../../src/overlays/types/index.js';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/overlays.md', import.meta.url)), 'utf8');

test('every overlay type has its section in docs/overlays.md, listing its fields', () => {
  const headings = new Map([...DOC.matchAll(/^### ([a-z-]+) — (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.deepEqual([...headings.keys()].sort(), OVERLAY_TYPES.map((t) => t.name).sort());
  for (const type of OVERLAY_TYPES) {
    // `field`? marks an optional field, `field` a required one.
    const documented = [...headings.get(type.name)!.matchAll(/`([a-z-]+)`(\??)/g)].map((m) => `${m[1]}${m[2]}`).sort();
    const shape = type.schema.shape as Record<string, { safeParse: (v: unknown) => { success: boolean } }>;
    const actual = fieldsOf(type).map((field) => `${field}${shape[field]!.safeParse(undefined).success ? '?' : ''}`).sort();
    assert.deepEqual(documented, actual, `${type.name}: fields in its heading`);
  }
});

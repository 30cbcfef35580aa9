import { test } from 'node:test';
import assert from 'node:assert/strict';
import TOML from '@iarna/toml';
import { findDuplicateKeys, scanPositions, type ValueKind } from '../../src/config/toml-positions.js';
import { pathKey, type KeyPath } from '../../src/config/key-path.js';

const DOC = [
  /*  1 */ 'include = ["a.toml", # a comment with "quotes" and [brackets]',
  /*  2 */ "  'b.toml']",
  /*  3 */ '[distro]',
  /*  4 */ 'name = "x" # trailing',
  /*  5 */ '"dist-tag" = \'\'\'',
  /*  6 */ 'multi "line" # not a comment',
  /*  7 */ "'''",
  /*  8 */ 'a . "b.c" .d = 1.0',
  /*  9 */ '[[components.x.overlays]]',
  /* 10 */ 'type = "spec-add-tag"',
  /* 11 */ 'lines = """',
  /* 12 */ 'x = [1, 2] "" no',
  /* 13 */ 'y""""',
  /* 14 */ '[[components.x.overlays]]',
  /* 15 */ "type = 'b'",
  /* 16 */ '  [components.y]',
  /* 17 */ 'overlays = [ { type = "a", f = { g = 1 } },',
  /* 18 */ '  {type="b"} ]',
  /* 19 */ '[[images.m.arch]]',
  /* 20 */ 'when = 1979-05-27 07:32:00Z',
  /* 21 */ '[images.m.arch.sub]',
  /* 22 */ 'on = true',
  /* 23 */ 'nums = [0x1F, -3, +inf, 1e3]',
].join('\n');

test('the document is valid TOML (the scanner relies on it)', () => {
  const parsed = TOML.parse(DOC) as Record<string, any>;
  assert.equal(parsed.components.x.overlays[0].lines, 'x = [1, 2] "" no\ny"');
  assert.deepEqual(Object.keys(parsed.distro.a), ['b.c']);
});

test('scanPositions maps key paths to key and value positions', () => {
  const positions = scanPositions(DOC);
  const cases: Array<[KeyPath, [number, number], [number, number] | null, ValueKind]> = [
    [['include'], [1, 1], [1, 11], 'array'],
    [['include', 0], [1, 12], [1, 12], 'string'],
    [['include', 1], [2, 3], [2, 3], 'string'],
    [['distro'], [3, 1], null, 'table'],
    [['distro', 'name'], [4, 1], [4, 8], 'string'],
    [['distro', 'dist-tag'], [5, 1], [5, 14], 'string'],
    [['distro', 'a'], [8, 1], null, 'table'],
    [['distro', 'a', 'b.c'], [8, 5], null, 'table'],
    [['distro', 'a', 'b.c', 'd'], [8, 12], [8, 16], 'float'],
    [['components', 'x', 'overlays'], [9, 16], null, 'array'],
    [['components', 'x', 'overlays', 0], [9, 1], null, 'table'],
    [['components', 'x', 'overlays', 0, 'type'], [10, 1], [10, 8], 'string'],
    [['components', 'x', 'overlays', 0, 'lines'], [11, 1], [11, 9], 'string'],
    [['components', 'x', 'overlays', 1], [14, 1], null, 'table'],
    [['components', 'x', 'overlays', 1, 'type'], [15, 1], [15, 8], 'string'],
    [['components', 'y'], [16, 3], null, 'table'],
    [['components', 'y', 'overlays', 0], [17, 14], [17, 14], 'table'],
    [['components', 'y', 'overlays', 0, 'f', 'g'], [17, 34], [17, 38], 'integer'],
    [['components', 'y', 'overlays', 1, 'type'], [18, 4], [18, 9], 'string'],
    [['images', 'm', 'arch', 0], [19, 1], null, 'table'],
    [['images', 'm', 'arch', 0, 'when'], [20, 1], [20, 8], 'datetime'],
    [['images', 'm', 'arch', 0, 'sub'], [21, 1], null, 'table'],
    [['images', 'm', 'arch', 0, 'sub', 'on'], [22, 1], [22, 6], 'boolean'],
    [['images', 'm', 'arch', 0, 'sub', 'nums', 0], [23, 9], [23, 9], 'integer'],
    [['images', 'm', 'arch', 0, 'sub', 'nums', 2], [23, 19], [23, 19], 'float'],
    [['images', 'm', 'arch', 0, 'sub', 'nums', 3], [23, 25], [23, 25], 'float'],
  ];
  for (const [path, key, value, kind] of cases) {
    const entry = positions.get(pathKey(path));
    assert.ok(entry, `no entry for ${pathKey(path)}`);
    assert.deepEqual(
      { key: [entry.key.line, entry.key.col], value: entry.value && [entry.value.line, entry.value.col], kind: entry.kind },
      { key, value, kind },
      pathKey(path),
    );
  }
});

test('string contents never look like keys', () => {
  const positions = scanPositions(DOC);
  for (const id of positions.keys()) {
    for (const segment of JSON.parse(id) as KeyPath) assert.doesNotMatch(String(segment), /[ =[#]/, id);
  }
});

test('findDuplicateKeys reports keys and tables defined twice, even in text the parser rejects', () => {
  const text = '[distro]\nname = "a"\nname = "b"\n[images.x]\nv = 1\n[images.x]\nw = [1, 2\n';
  assert.deepEqual(findDuplicateKeys(text), [
    { path: ['distro', 'name'], first: { line: 2, col: 1 }, second: { line: 3, col: 1 } },
    { path: ['images', 'x'], first: { line: 4, col: 1 }, second: { line: 6, col: 1 } },
  ]);
});

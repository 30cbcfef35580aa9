import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyFrom, sourceDirDefine, splitPackages, type QueriedPackage } from '../../src/spec/rpmspec-runner.js';

const pkg = (name: string): QueriedPackage => ({ name, epoch: null, version: '1', release: '1', arch: 'x86_64', provides: [], requires: [] });
const names = (groups: QueriedPackage[][] | null) => groups?.map((g) => g.map((p) => p.name)) ?? null;

// [package names in rpmspec's output, main package names of the batch, expected groups (null: ambiguous)]
const SPLITS: Array<[string[], string[], string[][] | null]> = [
  [['a', 'a-devel', 'b', 'c', 'c-libs'], ['a', 'b', 'c'], [['a', 'a-devel'], ['b'], ['c', 'c-libs']]],
  // A subpackage of a named like the next spec's main package: the cut cannot be trusted.
  [['a', 'b', 'b', 'b-devel'], ['a', 'b'], null],
  [['a', 'a-devel'], ['a', 'b'], null],
  [['x', 'a'], ['a'], null],
];

test('binary packages are attributed to their spec by main package names, or not at all', () => {
  for (const [packages, mains, expected] of SPLITS) assert.deepEqual(names(splitPackages(packages.map(pkg), mains)), expected, packages.join(' '));
});

test('query columns become dependencies; rich ones keep only their text', () => {
  assert.deepEqual(dependencyFrom('foo', ' >= ', '1.2-3'), { raw: 'foo >= 1.2-3', name: 'foo', flag: '>=', evr: '1.2-3' });
  assert.deepEqual(dependencyFrom('foo', '', ''), { raw: 'foo', name: 'foo', flag: null, evr: null });
  assert.deepEqual(dependencyFrom('(a or b)', '', ''), { raw: '(a or b)', name: null, flag: null, evr: null });
});

test('the per-spec %{_sourcedir} table quotes paths as Lua long strings', () => {
  assert.deepEqual(sourceDirDefine([]), []);
  const [flag, define] = sourceDirDefine([['/w/1/a/a.spec', '/p/specs/a']]);
  assert.equal(flag, '--define');
  assert.match(define!, /^_sourcedir %\{lua: local m = \{\[ \[==\[\/w\/1\/a\/a\.spec\]==\] \] = \[==\[\/p\/specs\/a\]==\]\};/);
});

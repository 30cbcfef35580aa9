import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DependencySyntaxError, formatTree, parseDependency } from '../../src/graph/dependency.js';

const ROUND_TRIP: Array<[string, string]> = [
  ['gcc', 'gcc'],
  ['pkgconfig(glib-2.0) >= 2.56', 'pkgconfig(glib-2.0) >= 2.56'],
  ['foo == 1.0', 'foo = 1.0'],
  ['(a or b)', '(a or b)'],
  ['(a or b or c)', '(a or b or c)'],
  ['(pkgconfig(foo) >= 2 or bar)', '(pkgconfig(foo) >= 2 or bar)'],
  ['(a if b)', '(a if b)'],
  ['(a if b else c)', '(a if b else c)'],
  ['(a unless b else c)', '(a unless b else c)'],
  ['(a with b)', '(a with b)'],
  ['(a without b)', '(a without b)'],
  ['((a and b) or (c >= 1 if d))', '((a and b) or (c >= 1 if d))'],
  ['(python3dist(x) < 3~~ with python3dist(x) >= 2)', '(python3dist(x) < 3~~ with python3dist(x) >= 2)'],
];

test('rich dependencies parse and print back as rpm writes them', () => {
  for (const [input, expected] of ROUND_TRIP) assert.equal(formatTree(parseDependency(input)), expected, input);
});

test('parentheses inside names are part of the name', () => {
  assert.deepEqual(parseDependency('(perl(Foo::Bar) >= 1.2 and cmake(Qt5Core))'), {
    kind: 'and',
    operands: [
      { kind: 'simple', name: 'perl(Foo::Bar)', flag: '>=', evr: '1.2' },
      { kind: 'simple', name: 'cmake(Qt5Core)', flag: null, evr: null },
    ],
  });
});

test('malformed rich dependencies are refused', () => {
  for (const bad of ['(a or b', '(a or b and c)', '(a else b)', '(a >= )', '(or a)']) {
    assert.throws(() => parseDependency(bad), DependencySyntaxError, bad);
  }
});

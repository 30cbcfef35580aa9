import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cyclesOf, stronglyConnected } from '../../src/graph/cycles.js';

const edges = (pairs: string): Array<{ from: string; to: string; via: string }> =>
  pairs.split(' ').map((p) => {
    const [from, to] = p.split('>');
    return { from: from!, to: to!, via: `${to}-devel` };
  });

// [edges, strongly connected components]
const SCC_CASES: Array<[string, string[][]]> = [
  ['a>b b>c', []],
  ['a>b b>a', [['a', 'b']]],
  ['a>a', [['a']]],
  ['a>b b>c c>a c>d d>e e>d', [['a', 'b', 'c'], ['d', 'e']]],
  ['x>y y>z z>x z>w w>x q>x', [['w', 'x', 'y', 'z']]],
];

test('strongly connected components (Tarjan)', () => {
  for (const [pairs, expected] of SCC_CASES) {
    const list = edges(pairs);
    const nodes = [...new Set(list.flatMap((e) => [e.from, e.to]))];
    assert.deepEqual(stronglyConnected(nodes, list), expected, pairs);
  }
});

test('every member of a component appears in a reported cycle, each step explained', () => {
  const list = edges('x>y y>z z>x z>w w>x');
  const reports = cyclesOf(['w', 'x', 'y', 'z'], list);
  assert.deepEqual(reports.map((r) => r.components), [['w', 'x', 'y', 'z'], ['x', 'y', 'z']]);
  assert.equal(reports[1]!.text, 'x needs y-devel, provided by y; y needs z-devel, provided by z; z needs x-devel, provided by x');
});

test('a long chain does not overflow the stack', () => {
  const n = 20000;
  const list = Array.from({ length: n }, (_, i) => ({ from: `n${i}`, to: `n${(i + 1) % n}`, via: 'v' }));
  const sccs = stronglyConnected(list.map((e) => e.from), list);
  assert.equal(sccs.length, 1);
  assert.equal(sccs[0]!.length, n);
});

test('a graph with cycles refuses to build, naming each path and the config that breaks it', async () => {
  const { assertAcyclic } = await import('../../src/graph/diagnostics.js');
  const list = edges('a>b b>a');
  const graph = { arch: 'x86_64' as const, components: [], edges: list, cycles: [['a', 'b']], unresolved: [], stats: {}, cycleDetails: cyclesOf(['a', 'b'], list) };
  assert.throws(
    () => assertAcyclic(graph),
    (error: Error & { errors: Array<{ message: string; details: string[]; hint?: string }> }) => {
      assert.equal(error.errors[0]!.message, 'build dependency cycle (x86_64): a → b → a');
      assert.deepEqual(error.errors[0]!.details, [
        'a needs b-devel, provided by b',
        'b needs a-devel, provided by a',
        'break it in toolkit.config.toml, for example:',
        '  [[graph.cycle-breaks]]',
        '  component = "b"',
        '  requirement = "a-devel"',
        '  from = "bootstrap"',
      ]);
      return true;
    },
  );
  assert.doesNotThrow(() => assertAcyclic({ ...graph, cycles: [], cycleDetails: [] }));
});

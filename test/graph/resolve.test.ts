import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph } from '../../src/graph/build-graph.js';
import type { BuildGraph, ResolvedRequirement } from '../../src/graph/model.js';
import type { SpecFacts } from '../../src/spec/model.js';
import type { CycleBreak } from '../../src/config/model.js';
import { testModel } from '../spec/helpers.js';
import { fact } from './facts.js';

const at = { file: 'toolkit.config.toml', line: 1, col: 1 };

function graphOf(facts: SpecFacts[], options: { providers?: Record<string, string>; breaks?: Array<Omit<CycleBreak, 'location'>>; buildRoot?: string[]; arch?: 'x86_64' | 'aarch64' } = {}): BuildGraph {
  const model = testModel('/nonexistent', '/nonexistent/cache', {
    graph: { providers: options.providers ?? {}, cycleBreaks: (options.breaks ?? []).map((b) => ({ ...b, location: at })) },
    buildRootProvides: options.buildRoot ?? ['gcc', 'make', 'bash'],
  });
  return buildGraph(model, facts, options.arch ?? 'x86_64');
}

function requirement(graph: BuildGraph, component: string, raw: string): ResolvedRequirement {
  const found = graph.components.find((c) => c.name === component)?.buildRequires.find((r) => r.requirement === raw);
  assert.ok(found, `${component} has no requirement ${raw}`);
  return found;
}

const libfoo = [
  fact('libfoo1', { version: '1.2', subs: [{ name: 'libfoo1' }, { name: 'libfoo1-devel', provides: ['libfoo-devel = 1.2-1'] }] }),
  fact('libfoo2', { version: '2.4', subs: [{ name: 'libfoo2' }, { name: 'libfoo2-devel', provides: ['libfoo-devel = 2.4-1'] }] }),
  fact('libpre', { version: '3.0~rc1', subs: [{ name: 'libpre-devel' }] }),
];

// [requirement, expected provider (null: not a component), resolvedBy]
const CASES: Array<[string, string | null, ResolvedRequirement['resolvedBy']]> = [
  ['libfoo-devel >= 2.0', 'libfoo2', 'component'],
  ['libfoo-devel < 2', 'libfoo1', 'component'],
  ['libfoo-devel = 1.2', 'libfoo1', 'component'],
  ['libfoo-devel >= 3', null, 'unresolved'],
  ['libpre-devel >= 3.0', null, 'unresolved'],
  ['libpre-devel >= 3.0~beta', 'libpre', 'component'],
  ['(libfoo-devel >= 9 or libfoo1-devel)', 'libfoo1', 'component'],
  ['(libfoo2-devel if gcc)', 'libfoo2', 'component'],
  ['(libfoo2-devel if clang)', null, 'not-required'],
  ['(libfoo2-devel if clang else libfoo1-devel)', 'libfoo1', 'component'],
  ['(nothing-at-all unless gcc)', null, 'not-required'],
  ['(libfoo-devel with libfoo2-devel)', 'libfoo2', 'component'],
  ['(libfoo-devel without libfoo2-devel)', 'libfoo1', 'component'],
  ['(gcc and libfoo1-devel)', 'libfoo1', 'component'],
  ['make', null, 'build-root'],
];

test('requirements resolve by rpm version rules and rich dependency semantics', () => {
  const graph = graphOf([...libfoo, fact('app', { br: CASES.map(([raw]) => raw) })]);
  for (const [raw, provider, resolvedBy] of CASES) {
    const r = requirement(graph, 'app', raw);
    assert.equal(r.resolvedBy, resolvedBy, raw);
    assert.equal(r.provider, provider, raw);
  }
  const missing = graph.unresolved.find((u) => u.requirement === 'libfoo-devel >= 3')!;
  assert.ok(missing.candidates.includes('libfoo-devel = 2.4-1 (from libfoo2: version does not match)'), missing.candidates.join(' | '));
});

test('several providers: deterministic choice, overridable in config', () => {
  const mta = [
    fact('sendmail', { subs: [{ name: 'sendmail', provides: ['mta'] }] }),
    fact('postfix', { subs: [{ name: 'postfix', provides: ['mta'] }] }),
    fact('zlib', { subs: [{ name: 'zlib-devel' }] }),
    fact('zlib-ng', { subs: [{ name: 'zlib-ng-compat-devel', provides: ['zlib-devel = 1.3-1'] }] }),
    fact('app', { br: ['mta', 'zlib-devel'] }),
  ];
  const plain = graphOf(mta);
  assert.equal(requirement(plain, 'app', 'mta').provider, 'postfix');
  assert.deepEqual(requirement(plain, 'app', 'mta').alternatives, ['sendmail']);
  // The package named like the capability beats a Provides of it, whatever the names' order.
  assert.equal(requirement(plain, 'app', 'zlib-devel').provider, 'zlib');
  assert.equal(plain.stats.ambiguous, 2);
  const pinned = graphOf(mta, { providers: { mta: 'sendmail', 'zlib-devel': 'zlib-ng' } });
  assert.equal(requirement(pinned, 'app', 'mta').provider, 'sendmail');
  assert.equal(requirement(pinned, 'app', 'zlib-devel').provider, 'zlib-ng');
  const wrongPin = graphOf(mta, { providers: { mta: 'zlib' } });
  assert.equal(requirement(wrongPin, 'app', 'mta').provider, 'postfix');
  assert.match(wrongPin.warnings!.join('\n'), /pins 'mta' to zlib, which does not provide it/);
});

test('the build root wins over a component, unless config pins the component', () => {
  const facts = [fact('make', { subs: [{ name: 'make' }] }), fact('app', { br: ['make'] })];
  assert.equal(requirement(graphOf(facts), 'app', 'make').resolvedBy, 'build-root');
  assert.equal(requirement(graphOf(facts, { providers: { make: 'make' } }), 'app', 'make').provider, 'make');
});

test('file requirements: exact paths, folders listed without %dir, %files globs', () => {
  const facts = [
    fact('tools', { subs: [{ name: 'tools', files: ['/usr/bin/tool', '/usr/share/tools', '/usr/share/doc/', '/usr/lib64/plugins/*.so'] }] }),
    fact('app', { br: ['/usr/bin/tool', '/usr/share/tools/data/x.xml', '/usr/lib64/plugins/a.so', '/usr/share/doc/other/README', '/usr/bin/none'] }),
  ];
  const graph = graphOf(facts);
  for (const raw of ['/usr/bin/tool', '/usr/share/tools/data/x.xml', '/usr/lib64/plugins/a.so']) {
    assert.equal(requirement(graph, 'app', raw).provider, 'tools', raw);
    assert.equal(requirement(graph, 'app', raw).provideKind, 'file', raw);
  }
  // A %dir folder owns only itself, not what other packages put in it.
  assert.equal(requirement(graph, 'app', '/usr/share/doc/other/README').resolvedBy, 'unresolved');
  assert.equal(requirement(graph, 'app', '/usr/bin/none').resolvedBy, 'unresolved');
});

test('predicted provides resolve what explicit provides cannot, and stats say which did', () => {
  const facts = [
    fact('libgreet', { subs: [{ name: 'libgreet' }, { name: 'libgreet-devel', predicted: ['pkgconfig(libgreet) = 1.0'] }] }),
    fact('greet', { br: ['gcc', 'pkgconfig(libgreet) >= 1.0', 'libgreet-devel', 'pkgconfig(libgret)'] }),
  ];
  const graph = graphOf(facts);
  assert.deepEqual(graph.edges, [
    { from: 'greet', to: 'libgreet', via: 'libgreet-devel' },
    { from: 'greet', to: 'libgreet', via: 'pkgconfig(libgreet) >= 1.0' },
  ]);
  assert.equal(requirement(graph, 'greet', 'pkgconfig(libgreet) >= 1.0').provideKind, 'predicted');
  assert.equal(graph.stats.resolvedByPredicted, 1);
  assert.equal(graph.stats.resolvedByImplicit, 1);
  assert.equal(graph.stats.resolvedByBuildRoot, 1);
  assert.equal(graph.stats.resolvedShare, 0.75);
  assert.equal(graph.stats.resolvedShareWithoutPrediction, 0.5);
  assert.deepEqual(graph.unresolved, [{ component: 'greet', requirement: 'pkgconfig(libgret)', candidates: ['pkgconfig(libgreet)'] }]);
});

test('arch-specific components: not built here, so not providers, and named in the hint', () => {
  const facts = [fact('nasm', { exclusiveArch: ['x86_64'], arch: 'aarch64' }), fact('app', { br: ['nasm'], arch: 'aarch64' })];
  const graph = graphOf(facts, { arch: 'aarch64' });
  assert.deepEqual(graph.skipped, [{ component: 'nasm', reason: 'ExclusiveArch: x86_64' }]);
  assert.deepEqual(graph.unresolved[0]!.candidates, ['nasm (from nasm: not built for aarch64)']);
});

test('cycles are reported as concrete paths, and a configured break removes them', () => {
  const facts = [
    fact('a', { subs: [{ name: 'a' }, { name: 'a-devel' }], br: ['b-devel'] }),
    fact('b', { subs: [{ name: 'b' }, { name: 'b-devel' }], br: ['c'] }),
    fact('c', { br: ['a-devel'] }),
    fact('self', { subs: [{ name: 'self' }, { name: 'self-devel' }], br: ['self-devel'] }),
    fact('leaf', { br: ['a'] }),
  ];
  const graph = graphOf(facts);
  assert.deepEqual(graph.cycles, [['a', 'b', 'c'], ['self']]);
  assert.equal(graph.cycleDetails![0]!.text, 'a needs b-devel, provided by b; b needs c, provided by c; c needs a-devel, provided by a');
  assert.equal(graph.cycleDetails![1]!.text, 'self needs self-devel, provided by self');
  const broken = graphOf(facts, {
    breaks: [
      { component: 'c', requirement: 'a-devel', from: 'bootstrap' },
      { component: 'self', requirement: 'self-devel', from: 'build-root' },
      { component: 'leaf', requirement: 'gone', from: 'build-root' },
    ],
  });
  assert.deepEqual(broken.cycles, []);
  assert.equal(requirement(broken, 'c', 'a-devel').resolvedBy, 'cycle-break');
  assert.match(broken.warnings!.join('\n'), /for leaf names 'gone', which is not among its BuildRequires/);
});

test('the graph does not depend on the order facts arrive in', () => {
  const facts = [...libfoo, fact('app', { br: ['libfoo-devel', '(libfoo1-devel or libfoo2-devel)'] }), fact('x', { br: ['app', 'y'] }), fact('y', { br: ['x'] })];
  const forward = JSON.stringify(graphOf(facts));
  assert.equal(JSON.stringify(graphOf([...facts].reverse())), forward);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Arch, DistroModel } from '../../src/config/model.js';
import type { BuildGraph } from '../../src/graph/model.js';
import type { Dependency, SpecFacts, SubpackageFacts } from '../../src/spec/model.js';
import { planJobs } from '../../src/build/plan.js';

const dep = (name: string): Dependency => ({ raw: name, name, flag: null, evr: null });

function sub(name: string, arch: string, provides: string[] = [], requires: string[] = [], files: string[] = []): SubpackageFacts {
  return { name, arch, provides: provides.map(dep), requires: requires.map(dep), files, predictedProvides: [] };
}

function facts(component: string, arch: Arch, subpackages: SubpackageFacts[], noarch = false, buildable = true): SpecFacts {
  return {
    component, arch, name: component, epoch: null, version: '1', release: '1', evr: '1-1', subpackages, buildRequires: [],
    exclusiveArch: [], excludeArch: [], buildable, noarch, sources: [], patches: [], key: component,
  };
}

/** greet BuildRequires libgreet-devel; libgreet-devel requires libgreet; libgreet requires libc (glibc-runtime). */
function world(arch: Arch): { facts: SpecFacts[]; graph: BuildGraph } {
  const all = [
    facts('glibc-runtime', arch, [sub('glibc-runtime', arch, ['libc.so.6()(64bit)'], [], ['/usr/lib64/libc.so.6'])]),
    facts('libgreet', arch, [sub('libgreet', arch, [], ['libc.so.6()(64bit)', 'rpmlib(CompressedFileNames)']), sub('libgreet-devel', arch, ['pkgconfig(libgreet)'], ['libgreet', '/usr/bin/pkg-config'])]),
    facts('greet', arch, [sub('greet', arch, [], ['libgreet'])]),
    facts('docs', arch, [sub('docs', 'noarch')], true),
    facts('uses-docs', arch, [sub('uses-docs', arch)]),
    facts('x86-only', arch, [sub('x86-only', arch)], false, arch === 'x86_64'),
  ];
  const graph: BuildGraph = {
    arch,
    components: [
      { name: 'greet', evr: '1-1', subpackages: ['greet'], noarch: false, buildRequires: [{ requirement: 'pkgconfig(libgreet)', provider: 'libgreet', subpackage: 'libgreet-devel', resolvedBy: 'component' }, { requirement: 'gcc', provider: null, subpackage: null, resolvedBy: 'build-root' }] },
      { name: 'uses-docs', evr: '1-1', subpackages: ['uses-docs'], noarch: false, buildRequires: [{ requirement: 'docs', provider: 'docs', subpackage: 'docs', resolvedBy: 'component' }] },
    ],
    edges: [],
    cycles: [],
    unresolved: [],
    stats: {},
  };
  return { facts: all, graph };
}

const model = { components: Object.fromEntries(['glibc-runtime', 'libgreet', 'greet', 'docs', 'uses-docs', 'x86-only'].map((n) => [n, { name: n, arches: null }])), graph: { providers: {} } } as unknown as DistroModel;

function plan(arches: Arch[], components: string[] = []) {
  const x = world('x86_64');
  const a = world('aarch64');
  return planJobs({
    model,
    arches,
    components,
    facts: new Map([['x86_64', x.facts], ['aarch64', a.facts]]),
    graphs: new Map([['x86_64', x.graph], ['aarch64', a.graph]]),
    noarchArch: 'x86_64',
  });
}

test('a job installs the BuildRequires provider subpackage plus its runtime closure, and depends on their jobs', () => {
  const { jobs } = plan(['x86_64'], ['greet']);
  const greet = jobs.find((j) => j.id === 'greet/x86_64')!;
  assert.deepEqual(greet.needs, { 'glibc-runtime/x86_64': ['glibc-runtime'], 'libgreet/x86_64': ['libgreet', 'libgreet-devel'] });
  assert.deepEqual(greet.deps, ['glibc-runtime/x86_64', 'libgreet/x86_64']);
  // Asking for greet brings exactly what it needs.
  assert.deepEqual(jobs.map((j) => j.id), ['glibc-runtime/x86_64', 'greet/x86_64', 'libgreet/x86_64']);
});

test('a noarch component is one job, built on the noarch arch and published to every arch', () => {
  const { jobs } = plan(['aarch64', 'x86_64']);
  const docs = jobs.filter((j) => j.component === 'docs');
  assert.deepEqual(docs.map((j) => [j.id, j.arch, j.publishTo]), [['docs/noarch', 'x86_64', ['aarch64', 'x86_64']]]);
  assert.deepEqual(jobs.find((j) => j.id === 'uses-docs/aarch64')!.deps, ['docs/noarch']);
});

test('components ruled out for an arch are skipped with the reason, not planned', () => {
  const { jobs, skipped } = plan(['aarch64', 'x86_64']);
  assert.ok(jobs.some((j) => j.id === 'x86-only/x86_64'));
  assert.ok(!jobs.some((j) => j.id === 'x86-only/aarch64'));
  assert.deepEqual(skipped, [{ component: 'x86-only', arch: 'aarch64', reason: 'ExclusiveArch/ExcludeArch rule out aarch64' }]);
});

test('an unknown component is a usage error', () => {
  assert.throws(() => plan(['x86_64'], ['nope']), /unknown component 'nope'/);
});

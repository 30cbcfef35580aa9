import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closure, providerIndex, requirementNames } from '../../src/graph/runtime-closure.js';
import type { Dependency } from '../../src/spec/model.js';

const dep = (raw: string): Dependency => (raw.startsWith('(') ? { raw, name: null, flag: null, evr: null } : { raw, name: raw.split(' ')[0]!, flag: null, evr: null });

test('requirementNames: every capability a rich dependency can be satisfied by, no operators or versions', () => {
  const cases: Array<[string, string[]]> = [
    ['libfoo.so.1()(64bit)', ['libfoo.so.1()(64bit)']],
    ['(pkgA or pkgB)', ['pkgA', 'pkgB']],
    ['(foo >= 1.0 with foo < 2)', ['foo', 'foo']],
    ['(python3-a if python3 else python2-a)', ['python3-a', 'python3', 'python2-a']],
  ];
  for (const [raw, names] of cases) assert.deepEqual(requirementNames(dep(raw)), names, raw);
});

test('closure: breadth-first, so each package records the shortest chain; preferred providers win', () => {
  const sub = (name: string, requires: string[], provides: string[] = [], files: string[] = []) => ({
    name,
    requires: requires.map(dep),
    provides: [name, ...provides].map(dep),
    files,
    predictedProvides: [],
  });
  const index = providerIndex([
    { component: 'app', buildable: true, subpackages: [sub('app', ['libx', '/bin/sh'])] },
    { component: 'libx', buildable: true, subpackages: [sub('libx', ['core'])] },
    { component: 'core', buildable: true, subpackages: [sub('core', [])] },
    { component: 'dash', buildable: true, subpackages: [sub('dash', [], [], ['/bin/sh'])] },
    { component: 'bash', buildable: true, subpackages: [sub('bash', ['core'], [], ['/bin/sh'])] },
    { component: 'skipped', buildable: false, subpackages: [sub('ghost', [])] },
  ]);
  assert.equal(index.packages.has('ghost'), false);
  const all = closure(index, ['app']);
  assert.deepEqual([...all.keys()], ['app', 'libx', 'dash', 'bash', 'core']);
  assert.deepEqual(all.get('core'), { parent: 'libx', via: 'core' });
  const preferred = closure(index, ['app'], { '/bin/sh': 'dash' });
  assert.deepEqual([...preferred.keys()], ['app', 'libx', 'dash', 'core']);
});

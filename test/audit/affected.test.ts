import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { classifyChanges, expandAffected, type PathEffect } from '../../src/audit/affected.js';
import { changesSince } from '../../src/audit/git.js';
import { analyse } from '../../src/audit/analysis.js';
import { loadModel } from '../../src/cli/project.js';
import { memoryLogger } from '../../src/util/log.js';
import type { DistroModel } from '../../src/config/model.js';
import type { BuildGraph } from '../../src/graph/model.js';
import type { SpecFacts } from '../../src/spec/model.js';

const fixture = resolve(import.meta.dirname, '../../../test/fixtures/audit/project');

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=strata test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
}

/** The fixture distro as a fresh git repository with one commit on `main`. */
async function repo(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-affected-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(fixture, dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'fixture');
  return dir;
}

async function model(dir: string): Promise<DistroModel> {
  return loadModel({ cwd: dir, json: false, log: memoryLogger() });
}

async function effects(dir: string, since = 'HEAD'): Promise<Record<string, Omit<PathEffect, 'path' | 'reason'>>> {
  const m = await model(dir);
  const result = await classifyChanges(m, await changesSince(m.root, since));
  return Object.fromEntries(result.map(({ path, reason: _reason, ...rest }) => [path, rest]));
}

async function replaceIn(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.includes(from), `${file} does not contain ${from}`);
  await writeFile(file, text.replace(from, to));
}

const only = (components: string[], images: string[] = []) => ({ everything: false, components, images });
const everything = { everything: true, components: [], images: [] };
const nothing = only([]);

// Each case: a change to the fixture project, and what every changed file must map to.
const cases: Array<[string, (dir: string) => Promise<void>, Record<string, Omit<PathEffect, 'path' | 'reason'>>]> = [
  ['an overlay edit in a shared file affects only its component', (dir) => replaceIn(join(dir, 'overlays/apps.toml'), 'value = "3%{?dist}"', 'value = "4%{?dist}"'), { 'overlays/apps.toml': only(['fx-tool']) }],
  ['an overlay added to a component', (dir) => appendFile(join(dir, 'overlays/apps.toml'), '\n[[components.fx-app.overlays]]\ntype = "spec-set-tag"\ntag = "Epoch"\nvalue = "1"\n'), { 'overlays/apps.toml': only(['fx-app']) }],
  ['a comment edit affects nothing', (dir) => replaceIn(join(dir, 'overlays/apps.toml'), '# must affect that program only.', '# must affect that one program only.'), { 'overlays/apps.toml': nothing }],
  ['a formatting-only edit affects nothing', (dir) => replaceIn(join(dir, 'overlays/apps.toml'), 'value = "3%{?dist}"', "value   =   '3%{?dist}'   # same value"), { 'overlays/apps.toml': nothing }],
  ['an overlay payload affects the components whose overlays read it', (dir) => appendFile(join(dir, 'overlays/files/fx-app.msg'), 'more\n'), { 'overlays/files/fx-app.msg': only(['fx-app']) }],
  ['a spec edit affects its component', (dir) => replaceIn(join(dir, 'specs/fx-lib/fx-lib.spec'), 'Version:        1.0', 'Version:        1.1'), { 'specs/fx-lib/fx-lib.spec': only(['fx-lib']) }],
  ['a new untracked source affects its component', (dir) => writeFile(join(dir, 'specs/fx-tool/extra.txt'), 'new\n'), { 'specs/fx-tool/extra.txt': only(['fx-tool']) }],
  ['a macro file affects everything', (dir) => appendFile(join(dir, 'macros/macros.fx'), '%fx_more 1\n'), { 'macros/macros.fx': everything }],
  ['[distro] affects everything', (dir) => replaceIn(join(dir, 'toolkit.config.toml'), 'version = "1.0"', 'version = "1.1"'), { 'toolkit.config.toml': everything }],
  ['an image definition affects only that image', (dir) => replaceIn(join(dir, 'toolkit.config.toml'), 'init = "/usr/bin/fx-tool"', 'init = "/usr/bin/fx-tool"\ncmdline = ["quiet"]'), { 'toolkit.config.toml': only([], ['tools']) }],
  ['a deleted overlay file affects the component it held overlays for', (dir) => rm(join(dir, 'overlays/lib.toml')), { 'overlays/lib.toml': only(['fx-lib']) }],
  [
    'a removed component affects every image, not the files it left behind',
    async (dir) => {
      await rm(join(dir, 'specs/fx-tool'), { recursive: true });
      await replaceIn(join(dir, 'overlays/apps.toml'), '[[components.fx-tool.overlays]]\ntype = "spec-set-tag"\ndescription = "Distro rebuild."\ntag = "Release"\nvalue = "3%{?dist}"\n', '');
    },
    {
      'overlays/apps.toml': only([], ['base', 'tools']),
      'specs/fx-tool/fx-tool.sh': nothing,
      'specs/fx-tool/fx-tool.spec': only([], ['base', 'tools']),
    },
  ],
  ['a file outside every input affects nothing', (dir) => appendFile(join(dir, 'README.md'), 'more words\n'), { 'README.md': nothing }],
];

for (const [name, change, expected] of cases) {
  test(`affected: ${name}`, async (t) => {
    const dir = await repo(t);
    await change(dir);
    assert.deepEqual(await effects(dir), expected);
  });
}

test('affected --since compares with the merge base, so later commits on the ref do not count', async (t) => {
  const dir = await repo(t);
  git(dir, 'checkout', '-q', '-b', 'topic');
  await appendFile(join(dir, 'specs/fx-tool/fx-tool.sh'), 'echo topic\n');
  git(dir, 'commit', '-q', '-am', 'topic change');
  git(dir, 'checkout', '-q', 'main');
  await appendFile(join(dir, 'specs/fx-lib/fx-lib.txt'), 'main moved on\n');
  git(dir, 'commit', '-q', '-am', 'main change');
  git(dir, 'checkout', '-q', 'topic');
  assert.deepEqual(await effects(dir, 'main'), { 'specs/fx-tool/fx-tool.sh': only(['fx-tool']) });
  await assert.rejects(effects(dir, 'no-such-branch'), /git does not know the ref 'no-such-branch'/);
});

/** Facts shaped as the spec stage writes them, for the fixture's three noarch components. */
function fixtureFacts(arch: 'x86_64' | 'aarch64'): SpecFacts[] {
  const dep = (name: string) => ({ raw: name, name, flag: null, evr: null });
  const sub = (name: string, requires: string[] = []) => ({ name, arch: 'noarch', provides: [dep(name)], requires: requires.map(dep), files: [], predictedProvides: [] });
  const fact = (component: string, subpackages: ReturnType<typeof sub>[], buildRequires: string[] = []): SpecFacts => ({
    component, arch, name: component, epoch: null, version: '1.0', release: '1.fx1', evr: '1.0-1.fx1', subpackages,
    buildRequires: buildRequires.map(dep), exclusiveArch: [], excludeArch: [], buildable: true, noarch: true, sources: [], patches: [], key: component,
  });
  return [fact('fx-lib', [sub('fx-lib'), sub('fx-lib-devel', ['fx-lib'])]), fact('fx-app', [sub('fx-app', ['fx-lib'])], ['fx-lib-devel']), fact('fx-tool', [sub('fx-tool')])];
}

function fixtureGraph(arch: 'x86_64' | 'aarch64'): BuildGraph {
  const node = (name: string) => ({ name, evr: '1.0-1.fx1', subpackages: [name], noarch: true, buildRequires: [] });
  return { arch, components: [node('fx-lib'), node('fx-app'), node('fx-tool')], edges: [{ from: 'fx-app', to: 'fx-lib', via: 'fx-lib-devel' }], cycles: [], unresolved: [], stats: {} };
}

test('expandAffected follows reverse build dependencies and image closures per arch', async (t) => {
  const dir = await repo(t);
  const m = await model(dir);
  const files: PathEffect[] = [{ path: 'specs/fx-lib/fx-lib.spec', everything: false, components: ['fx-lib'], images: [], reason: '' }];
  const report = expandAffected(m, files, {
    x86_64: { graph: fixtureGraph('x86_64'), facts: fixtureFacts('x86_64') },
    aarch64: { error: 'spec evaluation failed' },
  });
  assert.deepEqual(
    report.components.map((c) => `${c.arch}:${c.name}:${c.direct ? 'direct' : c.because.join()}`),
    ['x86_64:fx-app:build-requires fx-lib-devel from fx-lib', 'x86_64:fx-lib:direct', 'aarch64:fx-lib:direct'],
  );
  // x86_64 knows the closure: base holds fx-lib through fx-app's Requires; tools does not.
  // aarch64 has no graph: every image is assumed affected, and the report says so.
  assert.deepEqual(report.images.map((i) => `${i.arch}:${i.name}`), ['x86_64:base', 'aarch64:base', 'aarch64:tools']);
  assert.match(report.images[0]!.because.join(), /contains fx-lib from fx-lib/);
  assert.deepEqual(report.approximate, [{ arch: 'aarch64', reason: 'spec evaluation failed' }]);
});

test('affected with the real spec facts and graph: a library change reaches its dependents and the images holding them', async (t) => {
  const dir = await repo(t);
  await replaceIn(join(dir, 'specs/fx-lib/fx-lib.spec'), 'Version:        1.0', 'Version:        1.1');
  const m = await model(dir);
  const files = await classifyChanges(m, await changesSince(m.root, 'HEAD'));
  const report = expandAffected(m, files, (await analyse(m, m.distro.arches, memoryLogger())).arches);
  assert.deepEqual(report.approximate, []);
  for (const arch of ['x86_64', 'aarch64']) {
    assert.deepEqual(
      report.components.filter((c) => c.arch === arch).map((c) => [c.name, c.direct, c.because]),
      [
        ['fx-app', false, ['build-requires fx-lib-devel from fx-lib']],
        ['fx-lib', true, ['specs/fx-lib/fx-lib.spec']],
      ],
    );
  }
  assert.deepEqual(report.images.map((i) => `${i.arch}:${i.name}:${i.because.join()}`), ['x86_64:base:contains fx-app from fx-app,contains fx-lib from fx-lib', 'aarch64:base:contains fx-app from fx-app,contains fx-lib from fx-lib']);
});

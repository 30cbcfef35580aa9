/**
 * The graph of a small fixture distro, end to end: config loading, rendering,
 * real rpmspec evaluation per arch, resolution; then the same through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.js';
import { renderComponents } from '../../src/overlays/render.js';
import { evaluateSpecs } from '../../src/spec/evaluate.js';
import { buildGraph } from '../../src/graph/build-graph.js';
import type { BuildGraph } from '../../src/graph/model.js';
import { memoryLogger } from '../../src/util/log.js';
import { run } from '../../src/util/process.js';
import { fixtures, tempCache } from '../spec/helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const edgesOf = (graph: BuildGraph, from: string) => graph.edges.filter((e) => e.from === from).map((e) => `${e.to} via ${e.via}`);

test('fixture distro: every graph rule through real rpmspec, both arches', async (t) => {
  const dir = await tempCache();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(fixtures('graph'), dir, { recursive: true });
  const model = await loadProject({ cwd: dir });
  const rendered = await renderComponents(model);

  const x86 = await evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger() });
  const graph = buildGraph(model, x86.facts, 'x86_64');
  assert.deepEqual(edgesOf(graph, 'app'), [
    'docs-tool via (docs-tool if gcc)',
    'libfoo1 via pkgconfig(foo) < 2',
    'libfoo2 via libfoo-devel >= 2.0',
    'miniz via (zlib-devel or miniz-devel)',
    'nasm via nasm',
    'sendmail via mta',
  ]);
  const app = graph.components.find((c) => c.name === 'app')!;
  const by = (raw: string) => app.buildRequires.find((r) => r.requirement === raw)!;
  assert.equal(by('(clang-tools if clang)').resolvedBy, 'not-required');
  assert.equal(by('pkgconfig(foo) < 2').provideKind, 'predicted');
  assert.deepEqual(by('mta').alternatives, ['postfix']);
  assert.deepEqual(graph.unresolved.map((u) => [u.component, u.requirement]), [['app', 'libfoo-devel >= 3']]);
  // Most telling first: the providers whose version misses, then the nearest names.
  assert.deepEqual(graph.unresolved[0]!.candidates.slice(0, 4), [
    'libfoo-devel = 1.2 (from libfoo1: version does not match)',
    'libfoo-devel = 2.4 (from libfoo2: version does not match)',
    'libfoo1-devel',
    'libfoo2-devel',
  ]);
  assert.deepEqual(graph.components.find((c) => c.name === 'miniz')!.subpackages, ['miniz-devel']);
  // The configured break: cyc-b takes cyc-a's tool from a bootstrap build.
  assert.deepEqual(graph.cycles, []);
  assert.equal(graph.components.find((c) => c.name === 'cyc-b')!.buildRequires[0]!.resolvedBy, 'cycle-break');
  const unbroken = buildGraph({ ...model, graph: { ...model.graph, cycleBreaks: [] } }, x86.facts, 'x86_64');
  assert.deepEqual(unbroken.cycleDetails!.map((c) => c.text), ['cyc-a needs cyc-b-devel, provided by cyc-b; cyc-b needs /usr/bin/cyc-a-tool, provided by cyc-a']);

  // aarch64: the %ifarch x86_64 requirement is gone and nasm is not built.
  const arm = buildGraph(model, (await evaluateSpecs(model, rendered, 'aarch64', { log: memoryLogger() })).facts, 'aarch64');
  assert.ok(!edgesOf(arm, 'app').some((e) => e.startsWith('nasm')));
  assert.deepEqual(arm.skipped, [{ component: 'nasm', reason: 'ExclusiveArch: x86_64' }]);
});

test('strata graph --json, deps and rdeps on the fixture distro', async (t) => {
  const dir = await tempCache();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(fixtures('graph'), dir, { recursive: true });
  const cli = (...args: string[]) => run('node', [main, '-C', dir, ...args], { allowFailure: true, env: { CI: 'true' } });

  const cold = await cli('graph', '--json', '--arch', 'x86_64');
  assert.equal(cold.exitCode, 0, cold.stderr);
  const doc = JSON.parse(cold.stdout);
  for (const key of ['components', 'edges', 'cycles', 'unresolved', 'stats']) assert.ok(key in doc, key);
  assert.deepEqual(doc.unresolved.map((u: { requirement: string }) => u.requirement), ['libfoo-devel >= 3']);
  assert.equal(doc.stats.cacheHits, 0);
  const warm = JSON.parse((await cli('graph', '--json', '--arch', 'x86_64')).stdout);
  assert.deepEqual([warm.stats.cacheHits, warm.stats.evaluated], [doc.stats.specs, 0]);
  assert.deepEqual(warm.edges, doc.edges);

  const dot = await cli('graph', '--format', 'dot', 'app', '--deps', '--depth', '1');
  assert.match(dot.stdout, /"app" -> "libfoo2" \[label="libfoo-devel >= 2.0"\]/);
  assert.doesNotMatch(dot.stdout, /"cyc-a"/);
  const deps = await cli('deps', 'app', '--arch', 'x86_64');
  assert.equal(deps.exitCode, 0, deps.stderr);
  assert.match(deps.stdout, /libfoo-devel >= 2\.0\s+libfoo2\/libfoo2-devel \(libfoo-devel = 2\.4\), explicit provide/);
  assert.match(deps.stdout, /libfoo-devel >= 3\s+UNRESOLVED/);
  const rdeps = await cli('rdeps', 'libfoo1', '--json');
  assert.deepEqual(JSON.parse(rdeps.stdout).edges, [{ from: 'app', to: 'libfoo1', via: 'pkgconfig(foo) < 2' }]);
  const typo = await cli('deps', 'ap');
  assert.equal(typo.exitCode, 2);
  assert.match(typo.stderr, /did you mean 'app'/);
});

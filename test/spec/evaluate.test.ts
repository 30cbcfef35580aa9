import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateSpecs } from '../../src/spec/evaluate.js';
import { prepareMacroContext } from '../../src/spec/macro-context.js';
import type { SpecFacts } from '../../src/spec/model.js';
import { memoryLogger } from '../../src/util/log.js';
import { run } from '../../src/util/process.js';
import { fixtures, renderedFromDir, tempCache, testModel } from './helpers.js';

const root = fixtures('spec');
const rpm = { macroFiles: [join(root, 'macros/macros.fixture')], luaDirs: [join(root, 'lua')], rpmrc: null, defines: { fixture_define: 'from-config' } };
const raws = (deps: Array<{ raw: string }>) => deps.map((d) => d.raw);
const sub = (facts: SpecFacts, name: string) => facts.subpackages.find((s) => s.name === name)!;

test('rpmspec evaluates specs in the distro macro context, per arch, batched, cached', async (t) => {
  const cacheDir = await tempCache();
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const model = testModel(root, cacheDir, { rpm });
  const rendered = await renderedFromDir(join(root, 'specs'));

  // One batch holding the broken spec: the others still evaluate, the broken one is named with rpm's message.
  const x86 = await evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger(), allowFailures: true, batchSize: 3 });
  assert.deepEqual(x86.failures.map((f) => f.component), ['broken']);
  assert.match(x86.failures[0]!.message, /Unclosed %if/);
  assert.match(x86.failures[0]!.message, /broken\.spec/);
  assert.deepEqual(x86.facts.map((f) => f.component), ['multi', 'plain']);

  const multi = x86.facts[0]!;
  assert.equal(multi.evr, '1:2.1^git3-4.fx1');
  assert.deepEqual(raws(multi.buildRequires).sort(), ['(pkgconfig(zlib) >= 1.2 or zlib-devel)', 'check-devel >= 0.15', 'dist-is-fx1', 'fixture-macros-loaded', 'gcc']);
  assert.deepEqual(multi.subpackages.map((s) => [s.name, s.arch]), [['multi', 'x86_64'], ['multi-devel', 'x86_64'], ['python3-multi', 'noarch']]);
  assert.deepEqual(multi.exclusiveArch, ['x86_64', 'aarch64']);
  assert.equal(multi.buildable, true);
  assert.equal(multi.noarch, false);
  assert.deepEqual(multi.sources, [
    { index: 0, name: 'multi.tar.gz', url: 'https://example.invalid/multi-2.1^git3.tar.gz#/multi.tar.gz' },
    { index: 1, name: 'extra.conf', url: 'extra.conf' },
    { index: 10, name: 'hello-from-lua.txt', url: 'hello-from-lua.txt' },
  ]);
  assert.deepEqual(multi.patches, [{ index: 0, name: 'first.patch' }, { index: 5, name: 'fifth.patch' }]);
  assert.deepEqual(sub(multi, 'multi').files, ['/etc/multi.conf', '/usr/bin/multi', '/usr/lib64/libmulti.so.2*', '/usr/share/fixture-doc/']);
  assert.deepEqual(raws(sub(multi, 'multi').predictedProvides), ['config(multi) = 1:2.1^git3-4.fx1', 'libmulti.so.2()(64bit)']);
  assert.deepEqual(raws(sub(multi, 'multi-devel').provides), ['multi-devel = 1:2.1^git3-4.fx1', 'multi-devel(x86-64) = 1:2.1^git3-4.fx1', 'multi-headers = 2.1^git3']);
  assert.deepEqual(raws(sub(multi, 'multi-devel').requires), ['multi(x86-64) = 1:2.1^git3-4.fx1']);
  assert.deepEqual(raws(sub(multi, 'multi-devel').predictedProvides), ['cmake(Multi) = 2.1^git3', 'cmake(multi) = 2.1^git3', 'perl(Multi::Util)', 'pkgconfig(multi) = 2.1^git3']);
  assert.deepEqual(raws(sub(multi, 'python3-multi').predictedProvides), ['python3.12dist(multi-py) = 2.1^git3', 'python3dist(multi-py) = 2.1^git3']);
  assert.equal(x86.facts[1]!.noarch, true);

  // The same specs one per process give the same facts: batching splits outputs correctly.
  const cold = await evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger(), allowFailures: true, batchSize: 1, noCache: true });
  assert.deepEqual(cold.facts, x86.facts);

  // A second run evaluates only what failed before.
  const warm = await evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger(), allowFailures: true });
  assert.deepEqual([warm.stats.cacheHits, warm.stats.evaluated], [2, 1]);
  assert.deepEqual(warm.facts, x86.facts);

  // Per arch: %ifarch requirements appear, ExcludeArch rules a spec out.
  const arm = await evaluateSpecs(model, rendered, 'aarch64', { log: memoryLogger(), allowFailures: true });
  assert.ok(raws(arm.facts[0]!.buildRequires).includes('arm-only-tool'));
  assert.equal(sub(arm.facts[0]!, 'multi').arch, 'aarch64');
  assert.equal(arm.facts[1]!.buildable, false);

  // Without allowFailures the failure is an error naming the component.
  await assert.rejects(evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger() }), (error: Error & { errors?: Array<{ component?: string }> }) => {
    assert.equal(error.errors?.[0]?.component, 'broken');
    return true;
  });
});

test('%{_sourcedir} is the component folder while its spec is parsed, within a batch', async (t) => {
  const cacheDir = await tempCache();
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const model = testModel(root, cacheDir, { rpm });
  model.components = { include: { dir: join(root, 'include') } } as unknown as typeof model.components;
  const rendered = [...(await renderedFromDir(join(root, 'include'))), ...(await renderedFromDir(join(root, 'specs'))).filter((c) => c.name !== 'broken')];
  const result = await evaluateSpecs(model, rendered, 'x86_64', { log: memoryLogger(), batchSize: 3 });
  assert.equal(result.stats.batches, 1);
  assert.deepEqual(raws(result.facts.find((f) => f.component === 'include')!.buildRequires), ['from-included-file >= 2']);
});

test('the macro context: distro files, Lua modules, identity and reproducibility defines, cross tools', async (t) => {
  const cacheDir = await tempCache();
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const model = testModel(root, cacheDir, { rpm });
  const arm = await prepareMacroContext(model, 'aarch64', cacheDir);
  const evalIn = async (ctx: typeof arm, expr: string) => (await run('rpm', [...ctx.rpmArgs, '--eval', expr], { env: ctx.env })).stdout.trim();
  assert.equal(
    await evalIn(arm, '%{dist} %{vendor} %{distro_name} %{distro_version} %{_buildhost} %{fixture_greeting} %{fixture_define} %{_target_cpu} %{__cc} %{__strip}'),
    '.fx1 fixture vendor fixture 1 strata hello-from-lua from-config aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-strip',
  );
  assert.equal(await evalIn(arm, '%{use_source_date_epoch_as_buildtime}%{clamp_mtime_to_source_date_epoch}%{source_date_epoch_from_changelog}'), '110');
  assert.equal(arm.env.SOURCE_DATE_EPOCH, '1767225600');
  assert.equal(arm.buildEnv.CC, 'aarch64-linux-gnu-gcc');
  assert.equal(arm.buildEnv.LD, 'aarch64-linux-gnu-ld');
  assert.match(await readFile(join(arm.configDir, 'lua/fixture/util.lua'), 'utf8'), /hello-from-lua/);

  const x86 = await prepareMacroContext(model, 'x86_64', cacheDir);
  assert.equal(await evalIn(x86, '%{_target_cpu}'), 'x86_64');
  assert.doesNotMatch(await evalIn(x86, '%{__cc}'), /aarch64/);
  assert.deepEqual(x86.buildEnv, {});
  assert.notEqual(x86.hash, arm.hash);
  // Same inputs → same folder; any changed define → another one.
  assert.equal((await prepareMacroContext(model, 'aarch64', cacheDir)).configDir, arm.configDir);
  const changed = await prepareMacroContext(testModel(root, cacheDir, { rpm: { ...rpm, defines: { fixture_define: 'other' } } }), 'aarch64', cacheDir);
  assert.notEqual(changed.hash, arm.hash);
  assert.equal(await evalIn(changed, '%{fixture_define}'), 'other');
});

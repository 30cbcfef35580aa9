/**
 * The audit features over the real pipeline: the fixture project built by the
 * build stage (sandboxed rpmbuild, cache, out/repo/x86_64) and its `base`
 * image composed by the composer. The same build's cache, exported and
 * imported into a fresh copy of the project, must make that copy's build do
 * no build work.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { imageProvenanceChecks, imageStatement, statementHomes } from '../../src/audit/compose-provenance.js';
import { checkProvenance, writeProvenanceBeside, IMAGE_BUILD_TYPE } from '../../src/audit/provenance.js';
import { whyComposed } from '../../src/audit/why.js';
import { analyse } from '../../src/audit/analysis.js';
import { explainComponent } from '../../src/audit/explain.js';
import { loadModel } from '../../src/cli/project.js';
import { composeImage } from '../../src/compose/index.js';
import { readManifest, type ImageManifest } from '../../src/compose/manifest.js';
import type { DistroModel } from '../../src/config/model.js';
import { memoryLogger } from '../../src/util/log.js';
import { buildDistro } from '../../src/build/index.js';
import { exportCache, importCache } from '../../src/build/cache-archive.js';
import { validateSlsaStatement } from './slsa-schema.js';

const fixture = resolve(import.meta.dirname, '../../../test/fixtures/audit/project');
const root = process.getuid?.() === 0;

let project: string;
let model: DistroModel;
let imageDir: string;
let repo: string;
let manifest: ImageManifest;

before(async () => {
  if (!root) return;
  project = await mkdtemp(join(tmpdir(), 'strata-audit-pipeline-'));
  await cp(fixture, project, { recursive: true });
  model = await loadModel({ cwd: project, json: false, log: memoryLogger() });
  const summary = await buildDistro(model, { arches: ['x86_64'], log: memoryLogger() });
  assert.equal(summary.counts.built, 4);
  repo = summary.repos.x86_64!;
  const result = await composeImage(model, 'base', 'x86_64', { log: memoryLogger() });
  imageDir = result.outDir;
  manifest = await readManifest(imageDir);
});

after(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

test('a cache exported from one clone and imported into another leaves that clone no build work', { skip: !root && 'composing needs root' }, async (t) => {
  const other = await mkdtemp(join(tmpdir(), 'strata-audit-clone-'));
  t.after(() => rm(other, { recursive: true, force: true }));
  await cp(fixture, other, { recursive: true });
  const archive = join(other, 'ci-cache.tar.gz');
  await exportCache(join(project, '.strata-cache'), archive);
  const imported = await importCache(join(other, '.strata-cache'), archive);
  assert.ok(imported.installed.some((entry) => entry.startsWith('jobs/')));
  const otherModel = await loadModel({ cwd: other, json: false, log: memoryLogger() });
  const summary = await buildDistro(otherModel, { arches: ['x86_64'], log: memoryLogger() });
  assert.deepEqual({ built: summary.counts.built, cached: summary.counts.cached }, { built: 0, cached: 4 });
  // The same RPMs, byte for byte.
  for (const job of summary.jobs) for (const artifact of job.artifacts) assert.equal(sha256(await readFile(join(other, 'out/repo/x86_64', artifact.file))), artifact.sha256);
  assert.deepEqual(summary.jobs.map((j) => j.artifacts), (await buildDistro(model, { arches: ['x86_64'], log: memoryLogger() })).jobs.map((j) => j.artifacts));
});

test('why follows a file capability from the image list to its provider', { skip: !root && 'composing needs root' }, async () => {
  const report = await whyComposed(model, 'base', 'x86_64', 'fx-shell', manifest, { image: imageDir, repo });
  assert.equal(report.source, 'repository RPM headers');
  assert.deepEqual(report.chain, [{ package: 'fx-app', via: null }, { package: 'fx-shell', via: '/bin/sh' }]);
  assert.deepEqual(report.requiredBy, [{ package: 'fx-app', requirement: '/bin/sh' }]);
  const byCapability = await whyComposed(model, 'base', 'x86_64', '/bin/sh', manifest, { image: imageDir, repo });
  assert.deepEqual(byCapability.matches, ['fx-shell']);
  const listed = await whyComposed(model, 'base', 'x86_64', 'fx-app', manifest, { image: imageDir, repo });
  assert.equal(listed.listed, true);
  await assert.rejects(whyComposed(model, 'base', 'x86_64', 'fx-tool', manifest, { image: imageDir, repo }), /fx-tool is not in image base \(x86_64\)/);
});

test('why reads the rpm database inside the image when the repository no longer has its RPMs', { skip: !root && 'composing needs root' }, async () => {
  const moved = `${repo}.moved`;
  await rename(repo, moved);
  try {
    const report = await whyComposed(model, 'base', 'x86_64', 'fx-lib', manifest, { image: imageDir, repo });
    assert.equal(report.source, 'image rpm database');
    assert.deepEqual(report.chain, [{ package: 'fx-app', via: null }, { package: 'fx-lib', via: 'fx-lib' }]);
  } finally {
    await rename(moved, repo);
  }
});

test('why reads the rpm database inside a /usr image too', { skip: !root && 'composing needs root' }, async () => {
  const tools = await composeImage(model, 'tools', 'x86_64', { log: memoryLogger() });
  const toolsManifest = await readManifest(tools.outDir);
  assert.equal(toolsManifest.layout, 'usr');
  // No repository: the answer can only come from the image itself.
  const report = await whyComposed(model, 'tools', 'x86_64', '/bin/sh', toolsManifest, { image: tools.outDir, repo: join(project, 'no-such-repo') });
  assert.equal(report.source, 'image rpm database');
  assert.deepEqual(report.chain, [{ package: 'fx-tool', via: null }, { package: 'fx-shell', via: '/bin/sh' }]);
});

test('the image statement validates and names the image files and installed RPMs by their digests', { skip: !root && 'composing needs root' }, async () => {
  const statement = await imageStatement({ model, image: model.images.base!, arch: 'x86_64', installed: manifest.packages, dir: imageDir, rootHash: manifest.verity?.rootHash ?? null });
  assert.deepEqual(validateSlsaStatement(statement), []);
  assert.equal(statement.predicate.buildDefinition.buildType, IMAGE_BUILD_TYPE);
  // Every image file but the manifest and the SBOM is a subject, with the digest the manifest lists and the bytes have.
  const subjects = Object.fromEntries(statement.subject.map((s) => [s.name, s.digest.sha256]));
  const expected = Object.keys(manifest.artifacts).filter((name) => name !== 'sbom.spdx.json' && !name.endsWith('.intoto.json')).sort();
  assert.deepEqual(Object.keys(subjects).sort(), expected);
  for (const name of expected) {
    assert.equal(subjects[name], manifest.artifacts[name]!.sha256, name);
    assert.equal(subjects[name], sha256(await readFile(join(imageDir, name))), name);
  }
  const packages = statement.predicate.buildDefinition.resolvedDependencies;
  assert.deepEqual(packages.map((p) => p.annotations?.nevra), ['fx-app-1.0-2.fx1.noarch', 'fx-lib-1.0-2.fx1.noarch', 'fx-shell-1.0-1.fx1.noarch']);
  for (const pkg of packages) assert.equal(pkg.digest?.sha256, sha256(await readFile(join(repo, pkg.name!))), pkg.name);
  assert.equal(statement.predicate.buildDefinition.internalParameters.verityRootHash, manifest.verity?.rootHash);
  const written = await writeProvenanceBeside(statementHomes(imageDir, manifest.filesystem.file, manifest.disk?.file ?? null), statement);
  assert.deepEqual(written.map((p) => p.slice(imageDir.length + 1)), ['root.erofs.intoto.json', 'disk.raw.intoto.json']);
  for (const home of ['root.erofs', 'disk.raw']) assert.equal((await checkProvenance(join(imageDir, home))).ok, true);
  assert.deepEqual(
    (await imageProvenanceChecks(imageDir)).map((f) => [f.check, f.ok]),
    [['provenance disk.raw.intoto.json', true], ['provenance root.erofs.intoto.json', true]],
  );
  // A copy of the image whose hash tree changed no longer matches its statements.
  const copy = await mkdtemp(join(tmpdir(), 'strata-audit-tampered-'));
  try {
    await cp(imageDir, copy, { recursive: true });
    await appendFile(join(copy, 'root.verity'), 'x');
    const findings = await imageProvenanceChecks(copy);
    assert.deepEqual(findings.map((f) => f.ok), [false, false]);
    assert.match(findings[0]!.detail, /root\.verity has sha256 [0-9a-f]{64}, the statement says/);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});

test('explain tells where a component comes from, what its overlays changed and which images hold it', { skip: !root && 'composing needs root' }, async () => {
  const analysis = await analyse(model, model.distro.arches, memoryLogger());
  const report = await explainComponent(model, model.components['fx-app']!, analysis);
  assert.equal(report.spec.path, 'specs/fx-app/fx-app.spec');
  assert.equal(report.spec.sha256, sha256(await readFile(join(project, 'specs/fx-app/fx-app.spec'))));
  assert.match(report.fingerprint ?? '', /^[0-9a-f]{64}$/);
  // Sources as built: the overlay-added file is there, attributed to overlay #2.
  const message = report.sources.find((s) => s.path === 'fx-app.msg');
  assert.deepEqual(message && { sha256: message.sha256, changedBy: message.changedBy }, { sha256: sha256(await readFile(join(project, 'overlays/files/fx-app.msg'))), changedBy: [2] });
  assert.deepEqual(report.overlays.map((o) => [o.index, o.type, o.description, o.definedAt.replace(/^.*overlays\//, 'overlays/')]), [
    [1, 'spec-set-tag', 'Distro rebuild.', 'overlays/apps.toml:4:1'],
    [2, 'file-add', "Ship the distro's message beside the program.", 'overlays/apps.toml:10:1'],
  ]);
  const release = report.overlays[0]!.hunks.flatMap((h) => h.lines).filter((l) => l.startsWith('-') || l.startsWith('+'));
  assert.deepEqual(release, ['-Release:        1%{?dist}', '+Release:        2%{?dist}']);
  // Composed on x86_64 (from the manifest); on aarch64 predicted from the spec facts.
  assert.deepEqual(report.images, [
    { image: 'base', arch: 'x86_64', packages: ['fx-app-1.0-2.fx1.noarch'], source: 'manifest' },
    { image: 'base', arch: 'aarch64', packages: ['fx-app'], source: 'predicted' },
  ]);
  // Its place in the graph, on every arch.
  for (const arch of report.arches) {
    assert.deepEqual(arch.deps, [{ component: 'fx-lib', via: 'fx-lib-devel' }], arch.arch);
    assert.deepEqual(arch.rdeps, [], arch.arch);
  }
  // One noarch job that starts after fx-lib's and that nothing waits on, weighted by the durations the build remembered.
  const d = JSON.parse(await readFile(join(project, '.strata-cache/build/durations.json'), 'utf8')) as Record<string, number>;
  const round = (n: number): number => Math.round(n * 100) / 100;
  const longest = Math.max(d['fx-lib/noarch']! + d['fx-app/noarch']!, d['fx-shell/noarch']!, d['fx-tool/noarch']!);
  assert.deepEqual(report.criticalPath, [
    {
      job: 'fx-app/noarch',
      weight: round(d['fx-app/noarch']!),
      startsAfter: round(d['fx-lib/noarch']!),
      blocks: 0,
      criticalPath: round(longest),
      onCriticalPath: d['fx-lib/noarch']! + d['fx-app/noarch']! === longest,
    },
  ]);
  // The last build, as the build stage recorded it.
  const [last] = report.lastBuilds;
  assert.equal(last?.job, 'fx-app/noarch');
  assert.equal(last?.inCache, true);
  assert.equal(last?.log, 'out/logs/noarch/fx-app.log');
  assert.deepEqual(last?.artifacts.map((a) => a.file), ['fx-app-1.0-2.fx1.noarch.rpm']);
  assert.equal(last?.artifacts[0]!.sha256, sha256(await readFile(join(repo, 'fx-app-1.0-2.fx1.noarch.rpm'))));
});

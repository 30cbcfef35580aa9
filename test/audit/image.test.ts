/**
 * The audit features over a really composed image: the fixture project's RPMs
 * built with rpmbuild, published with createrepo_c where the build stage puts
 * them (out/repo/x86_64), and the `base` image composed by the composer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { imageStatement, statementHomes } from '../../src/audit/compose-provenance.js';
import { checkProvenance, writeProvenanceBeside, IMAGE_BUILD_TYPE } from '../../src/audit/provenance.js';
import { whyComposed } from '../../src/audit/why.js';
import { analyse } from '../../src/audit/analysis.js';
import { explainComponent } from '../../src/audit/explain.js';
import { loadModel } from '../../src/cli/project.js';
import { composeImage } from '../../src/compose/index.js';
import { readManifest, type ImageManifest } from '../../src/compose/manifest.js';
import type { DistroModel } from '../../src/config/model.js';
import { memoryLogger } from '../../src/util/log.js';
import { run } from '../../src/util/process.js';
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
  project = await mkdtemp(join(tmpdir(), 'strata-audit-image-'));
  await cp(fixture, project, { recursive: true });
  const top = join(project, 'rpmbuild');
  for (const component of ['fx-lib', 'fx-app', 'fx-tool', 'fx-shell']) {
    // --nodeps: the host has no fx-lib-devel installed; the strata build would install it into the job's root.
    await run('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${top}`, '--define', `_sourcedir ${join(project, 'specs', component)}`, '--define', 'dist .fx1', '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', join(project, 'specs', component, `${component}.spec`)], {
      env: { SOURCE_DATE_EPOCH: '1767225600' },
    });
  }
  repo = join(project, 'out', 'repo', 'x86_64');
  await mkdir(repo, { recursive: true });
  for (const file of await readdir(join(top, 'RPMS'))) await cp(join(top, 'RPMS', file), join(repo, file));
  await run('createrepo_c', ['--quiet', repo]);
  model = await loadModel({ cwd: project, json: false, log: memoryLogger() });
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

test('the image statement validates and names the image files and installed RPMs by their digests', { skip: !root && 'composing needs root' }, async () => {
  const statement = await imageStatement({ model, image: model.images.base!, arch: 'x86_64', installed: manifest.packages, dir: imageDir, rootHash: manifest.verity?.rootHash ?? null });
  assert.deepEqual(validateSlsaStatement(statement), []);
  assert.equal(statement.predicate.buildDefinition.buildType, IMAGE_BUILD_TYPE);
  // Every image file but the manifest and the SBOM is a subject, with the digest the manifest lists and the bytes have.
  const subjects = Object.fromEntries(statement.subject.map((s) => [s.name, s.digest.sha256]));
  const expected = Object.keys(manifest.artifacts).filter((name) => name !== 'sbom.spdx.json').sort();
  assert.deepEqual(Object.keys(subjects).sort(), expected);
  for (const name of expected) {
    assert.equal(subjects[name], manifest.artifacts[name]!.sha256, name);
    assert.equal(subjects[name], sha256(await readFile(join(imageDir, name))), name);
  }
  const packages = statement.predicate.buildDefinition.resolvedDependencies;
  assert.deepEqual(packages.map((p) => p.annotations?.nevra), ['fx-app-1.0-1.fx1.noarch', 'fx-lib-1.0-1.fx1.noarch', 'fx-shell-1.0-1.fx1.noarch']);
  for (const pkg of packages) assert.equal(pkg.digest?.sha256, sha256(await readFile(join(project, pkg.name!))), pkg.name);
  assert.equal(statement.predicate.buildDefinition.internalParameters.verityRootHash, manifest.verity?.rootHash);
  const written = await writeProvenanceBeside(statementHomes(imageDir, manifest.filesystem.file, manifest.disk?.file ?? null), statement);
  assert.deepEqual(written.map((p) => p.slice(imageDir.length + 1)), ['root.erofs.intoto.json', 'disk.raw.intoto.json']);
  for (const home of ['root.erofs', 'disk.raw']) assert.equal((await checkProvenance(join(imageDir, home))).ok, true);
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
  assert.deepEqual(report.images, [{ image: 'base', arch: 'x86_64', packages: ['fx-app-1.0-1.fx1.noarch'], source: 'manifest' }]);
});

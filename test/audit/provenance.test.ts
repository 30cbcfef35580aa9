import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  IMAGE_BUILD_TYPE,
  RPM_BUILD_TYPE,
  checkProvenance,
  imageProvenance,
  rpmProvenance,
  writeRpmProvenance,
  type RpmProvenanceInput,
  type Statement,
} from '../../src/audit/provenance.js';
import { localFile, makeBundle } from '../../src/build/bundle.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import type { InputRecord } from '../../src/build/history.js';
import type { DistroModel } from '../../src/config/model.js';
import { validateSlsaStatement } from './slsa-schema.js';

const fixture = resolve(import.meta.dirname, '../../../test/fixtures/audit/provenance');
const EPOCH = 1767225600;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

interface FixtureJob {
  root: string;
  rpm: string;
  input: RpmProvenanceInput;
}

/**
 * A real RPM, built with rpmbuild from the fixture spec in a fresh project
 * folder, and the job bundle the build stage makes for those same files.
 */
async function buildFixtureJob(): Promise<FixtureJob> {
  const root = await mkdtemp(join(tmpdir(), 'strata-prov-'));
  const componentDir = join(root, 'specs', 'hello-audit');
  await mkdir(componentDir, { recursive: true });
  const specText = await readFile(join(fixture, 'hello.spec'), 'utf8');
  await writeFile(join(componentDir, 'hello-audit.spec'), specText);
  await writeFile(join(componentDir, 'hello.txt'), await readFile(join(fixture, 'hello.txt')));
  const rpmDir = join(root, '.strata-cache', 'jobs', 'k', 'rpms');
  execFileSync('rpmbuild', ['-bb', '--define', `_topdir ${join(root, 'rpmbuild')}`, '--define', `_sourcedir ${componentDir}`, '--define', `_rpmdir ${rpmDir}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', join(componentDir, 'hello-audit.spec')], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
    stdio: 'ignore',
  });
  assert.deepEqual(await readdir(rpmDir), ['hello-audit-1.0-1.noarch.rpm']);
  const rpm = join(rpmDir, 'hello-audit-1.0-1.noarch.rpm');
  const digests = await DigestCache.open(join(root, '.strata-cache'));
  const sources = [await localFile(join(componentDir, 'hello-audit.spec'), 'hello-audit.spec', digests), await localFile(join(componentDir, 'hello.txt'), 'hello.txt', digests)];
  const { bundle } = makeBundle({
    component: 'hello-audit',
    arch: 'x86_64',
    noarch: true,
    specFile: 'hello-audit.spec',
    sources,
    dependencyRpms: [],
    rpmConfig: [],
    configDir: '/nonexistent',
    rpmArgs: ['--target', 'x86_64'],
    env: { SOURCE_DATE_EPOCH: String(EPOCH) },
    buildRoot: { type: 'host', id: sha256('host packages'), provides: ['/bin/sh'], archives: [] },
    buildRootBlobs: new Map(),
    sourceDateEpoch: EPOCH,
    check: true,
    timeoutSeconds: 600,
  });
  const record: InputRecord = {
    job: bundle.job,
    key: bundle.key,
    recipe: bundle.recipe,
    buildRoot: bundle.buildRoot.id,
    macros: sha256('macros'),
    spec: { file: 'hello-audit.spec', base: sha256(specText), rendered: sha256(specText) },
    overlays: [{ index: 1, type: 'spec-set-tag', at: 'overlays/hello.toml:3', description: 'pin the release', sha256: sha256('overlay') }],
    sources: { 'hello.txt': sources[1]!.file.sha256 },
    dependencies: {},
    settings: sha256('settings'),
  };
  const model = {
    root,
    fingerprint: sha256('config'),
    components: { 'hello-audit': { dir: componentDir } } as unknown as DistroModel['components'],
  };
  return { root, rpm, input: { model, bundle, record, artifacts: [{ path: rpm }] } };
}

test('an RPM statement conforms to in-toto Statement v1 + SLSA provenance v1 and names the RPM by its digest', async (t) => {
  const { root, rpm, input } = await buildFixtureJob();
  t.after(() => rm(root, { recursive: true, force: true }));
  const statement = await rpmProvenance(input);
  assert.deepEqual(validateSlsaStatement(statement), []);
  assert.equal(statement.predicate.buildDefinition.buildType, RPM_BUILD_TYPE);
  assert.deepEqual(statement.subject, [{ name: 'hello-audit-1.0-1.noarch.rpm', digest: { sha256: sha256(await readFile(rpm)) } }]);
  assert.equal(statement.predicate.buildDefinition.externalParameters.spec, 'specs/hello-audit/hello-audit.spec');
  assert.equal(statement.predicate.runDetails.metadata.startedOn, '2026-01-01T00:00:00Z');
  assert.equal(statement.predicate.runDetails.metadata.finishedOn, '2026-01-01T00:00:00Z');
  const deps = statement.predicate.buildDefinition.resolvedDependencies;
  assert.deepEqual(
    deps.find((d) => d.name === 'specs/hello-audit/hello.txt')?.digest,
    { sha256: sha256(await readFile(join(fixture, 'hello.txt'))) },
  );
  assert.deepEqual(deps.find((d) => d.annotations?.role === 'spec')?.digest, { sha256: sha256(await readFile(join(fixture, 'hello.spec'))) });
  assert.equal(statement.predicate.runDetails.metadata.invocationId, input.bundle.key);
  assert.deepEqual(statement.predicate.runDetails.byproducts, []);
  // Reproducible: no host paths, and the same inputs give the same bytes.
  assert.ok(!JSON.stringify(statement).includes(root), 'the statement leaks the absolute project path');
  assert.equal(JSON.stringify(await rpmProvenance(input)), JSON.stringify(statement));
});

test('the statement is written beside the RPM, once, and checkProvenance catches a changed artifact', async (t) => {
  const { root, rpm, input } = await buildFixtureJob();
  t.after(() => rm(root, { recursive: true, force: true }));
  const [written] = await writeRpmProvenance(input);
  assert.equal(written, `${rpm}.intoto.json`);
  assert.deepEqual(JSON.parse(await readFile(written!, 'utf8')), await rpmProvenance(input));
  // The entry keeps the statement of the build that made it.
  assert.deepEqual(await writeRpmProvenance({ ...input, model: { ...input.model, fingerprint: sha256('another config') } }), []);
  assert.deepEqual(await checkProvenance(rpm), { artifact: rpm, provenance: written, ok: true, problems: [] });
  await appendFile(rpm, 'tampered');
  const check = await checkProvenance(rpm);
  assert.equal(check.ok, false);
  assert.match(check.problems.join('\n'), /digest mismatch/);
});

test('an image statement lists every installed package with its RPM digest', async (t) => {
  const { root, rpm } = await buildFixtureJob();
  t.after(() => rm(root, { recursive: true, force: true }));
  const imageDir = join(root, 'out', 'images', 'minimal', 'x86_64');
  execFileSync('mkdir', ['-p', imageDir]);
  await writeFile(join(imageDir, 'root.erofs'), 'filesystem bytes');
  await writeFile(join(imageDir, 'root.verity'), 'hash tree bytes');
  const statement = await imageProvenance({
    configFingerprint: sha256('config'),
    sourceDateEpoch: EPOCH,
    arch: 'x86_64',
    invocationId: sha256('compose-key'),
    image: 'minimal',
    definition: { packages: ['hello-audit'], filesystem: 'erofs', verity: true },
    packages: [{ nevra: 'hello-audit-1.0-1.noarch', file: { path: rpm }, component: 'hello-audit' }],
    artifacts: [{ path: join(imageDir, 'root.verity') }, { path: join(imageDir, 'root.erofs') }],
    rootHash: sha256('root hash'),
  });
  assert.deepEqual(validateSlsaStatement(statement), []);
  assert.equal(statement.predicate.buildDefinition.buildType, IMAGE_BUILD_TYPE);
  assert.deepEqual(statement.subject.map((s) => s.name), ['root.erofs', 'root.verity']);
  assert.equal(statement.subject[0]!.digest.sha256, sha256('filesystem bytes'));
  const pkg = statement.predicate.buildDefinition.resolvedDependencies[0]!;
  assert.equal(pkg.name, 'hello-audit-1.0-1.noarch.rpm');
  assert.equal(pkg.digest?.sha256, sha256(await readFile(rpm)));
});

// The validator must be able to fail, or the tests above prove nothing.
const broken: Array<[string, (s: Statement & Record<string, unknown>) => void, RegExp]> = [
  ['wrong _type', (s) => void ((s as { _type: string })._type = 'https://in-toto.io/Statement/v0.1'), /_type/],
  ['empty subject', (s) => void (s.subject = []), /subject: must be a non-empty array/],
  ['short digest', (s) => void (s.subject[0]!.digest.sha256 = 'abc'), /64 hex digits/],
  ['no buildType', (s) => void delete (s.predicate.buildDefinition as Partial<typeof s.predicate.buildDefinition>).buildType, /missing required field buildType/],
  ['no builder id', (s) => void delete (s.predicate.runDetails.builder as { id?: string }).id, /missing required field id/],
  ['local timestamp', (s) => void (s.predicate.runDetails.metadata.startedOn = '2026-01-01 00:00:00'), /startedOn/],
  ['version not a map', (s) => void ((s.predicate.runDetails.builder as { version: unknown }).version = '0.1.0'), /version/],
  ['descriptor without uri/digest/content', (s) => void s.predicate.buildDefinition.resolvedDependencies.push({ name: 'x' }), /at least one of uri, digest, content/],
  ['unknown top-level field', (s) => void (s.extra = 1), /unknown field extra/],
];

for (const [name, mutate, expected] of broken) {
  test(`the schema check rejects a statement with ${name}`, async (t) => {
    const { root, input } = await buildFixtureJob();
    t.after(() => rm(root, { recursive: true, force: true }));
    const statement = structuredClone(await rpmProvenance(input)) as Statement & Record<string, unknown>;
    mutate(statement);
    assert.match(validateSlsaStatement(statement).join('\n'), expected);
  });
}

/**
 * buildDistro end to end on a tiny project (hello, libgreet noarch, greeter
 * needing libgreet-devel): every stage for real, sandboxed builds, the cache,
 * --explain, --keep-going, the repository, reproducibility across folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadProject } from '../../src/config/load.js';
import { BuildFailure, buildDistro, repoDir, type BuildSummary } from '../../src/build/index.js';
import { memoryLogger } from '../../src/util/log.js';
import type { Arch } from '../../src/config/model.js';
import { StrataErrors } from '../../src/util/errors.js';
import { FIXTURES, tempDir } from './helpers.js';

async function project(dir: string, components = ['hello', 'libgreet', 'greeter']): Promise<string> {
  await cp(join(FIXTURES, 'project'), dir, { recursive: true });
  for (const name of components) await cp(join(FIXTURES, name), join(dir, 'specs', name), { recursive: true });
  // The overlay belongs to greeter: a project without greeter must not mention it.
  if (!components.includes('greeter')) await rm(join(dir, 'overlays/greeter.toml'));
  return dir;
}

async function build(dir: string, arches: Arch[] = ['x86_64'], extra: { keepGoing?: boolean; explain?: boolean } = {}): Promise<BuildSummary> {
  const model = await loadProject({ cwd: dir });
  return buildDistro(model, { arches, log: memoryLogger(), jobs: 2, explain: extra.explain ?? true, keepGoing: extra.keepGoing });
}

const statusOf = (summary: BuildSummary): Record<string, string> => Object.fromEntries(summary.jobs.map((job) => [job.job, job.status]));

test('build, no-op rebuild, an overlay change, a dependency change: only what changed is rebuilt, and --explain says why', async () => {
  const t = await tempDir('distro-cycle');
  try {
    const dir = await project(t.path);
    const first = await build(dir);
    assert.deepEqual(statusOf(first), { 'greeter/x86_64': 'built', 'hello/x86_64': 'built', 'libgreet/noarch': 'built' });
    const repo = await readdir(repoDir(await loadProject({ cwd: dir }), 'x86_64'));
    assert.deepEqual(repo.filter((f) => !f.startsWith('.')).sort(), [
      'greeter-1.0-2.tp1.x86_64.rpm',
      'greeter-1.0-2.tp1.x86_64.rpm.intoto.json',
      'hello-1.0-1.tp1.x86_64.rpm',
      'hello-1.0-1.tp1.x86_64.rpm.intoto.json',
      'libgreet-devel-2.1-1.tp1.noarch.rpm',
      'libgreet-devel-2.1-1.tp1.noarch.rpm.intoto.json',
      'repodata',
    ]);
    assert.match(await readFile(join(dir, 'out/repo/x86_64/repodata/repomd.xml'), 'utf8'), /<revision>1767225600<\/revision>/);
    assert.match(await readFile(join(dir, 'out/logs/x86_64/greeter.log'), 'utf8'), /Wrote: \/build\/RPMS\/x86_64\/greeter/);

    const second = await build(dir);
    assert.deepEqual(Object.values(statusOf(second)), ['cached', 'cached', 'cached'], 'the second run does no build work');
    assert.deepEqual(second.jobs.map((j) => j.artifacts), first.jobs.map((j) => j.artifacts));

    await writeFile(join(dir, 'overlays/greeter.toml'), (await readFile(join(dir, 'overlays/greeter.toml'), 'utf8')).replace('value = "2%{?dist}"', 'value = "3%{?dist}"'));
    const third = await build(dir);
    assert.deepEqual(statusOf(third), { 'greeter/x86_64': 'built', 'hello/x86_64': 'cached', 'libgreet/noarch': 'cached' });
    const why = third.jobs.find((j) => j.job === 'greeter/x86_64')!.explain!;
    assert.deepEqual(why, ['overlay #1 (spec-set-tag) at overlays/greeter.toml:1 changed: Distro rebuild: bump the release.']);

    await writeFile(join(dir, 'specs/libgreet/greet.h'), '#define GREETING "changed greetings"\n');
    await writeFile(join(dir, 'specs/libgreet/libgreet.signatures.json'), '{"Signatures": {}}\n');
    // A dry run says what would build, and why, and touches nothing.
    const repoBefore = await readFile(join(dir, 'out/repo/x86_64/repodata/repomd.xml'), 'utf8');
    const dry = await buildDistro(await loadProject({ cwd: dir }), { arches: ['x86_64'], log: memoryLogger(), explain: true, dryRun: true });
    assert.deepEqual(statusOf(dry), { 'greeter/x86_64': 'planned', 'hello/x86_64': 'cached', 'libgreet/noarch': 'planned' });
    assert.deepEqual(dry.jobs.find((j) => j.job === 'greeter/x86_64')!.explain, ['builds after libgreet/noarch; a hit then if their new RPMs are byte-identical']);
    assert.equal(await readFile(join(dir, 'out/repo/x86_64/repodata/repomd.xml'), 'utf8'), repoBefore);
    const fourth = await build(dir);
    assert.deepEqual(statusOf(fourth), { 'greeter/x86_64': 'built', 'hello/x86_64': 'cached', 'libgreet/noarch': 'built' });
    assert.ok(fourth.jobs.find((j) => j.job === 'libgreet/noarch')!.explain!.some((r) => /^source greet\.h changed/.test(r)));
    assert.deepEqual(fourth.jobs.find((j) => j.job === 'greeter/x86_64')!.explain, ['dependency libgreet-devel was rebuilt with different bytes']);

    // Building one component (and what it needs) keeps the other components' RPMs in the repository.
    const model = await loadProject({ cwd: dir });
    const only = await buildDistro(model, { arches: ['x86_64'], components: ['hello'], log: memoryLogger() });
    assert.deepEqual(only.jobs.map((j) => j.job), ['hello/x86_64']);
    const after = (await readdir(repoDir(model, 'x86_64'))).filter((f) => f.endsWith('.rpm')).sort();
    assert.deepEqual(after, ['greeter-1.0-3.tp1.x86_64.rpm', 'hello-1.0-1.tp1.x86_64.rpm', 'libgreet-devel-2.1-1.tp1.noarch.rpm']);
  } finally {
    await t.remove();
  }
});

test('an unsatisfiable BuildRequires fails that job with rpm\'s message; with keep-going the rest still build and are published', async () => {
  const t = await tempDir('distro-keep-going');
  try {
    const dir = await project(t.path, ['hello', 'libgreet', 'greeter', 'needsmissing']);
    const failure = await build(dir, ['x86_64'], { keepGoing: true }).then(
      () => assert.fail('the build must fail'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof BuildFailure);
    assert.equal(failure.errors.length, 1);
    assert.equal(failure.errors[0]!.job, 'needsmissing/noarch');
    assert.match(failure.errors[0]!.message, /Failed build dependencies: libdoesnotexist-devel >= 3 is needed by needsmissing/);
    assert.deepEqual(statusOf(failure.summary), { 'greeter/x86_64': 'built', 'hello/x86_64': 'built', 'libgreet/noarch': 'built', 'needsmissing/noarch': 'failed' });
    const repo = await readdir(join(dir, 'out/repo/x86_64'));
    assert.ok(repo.includes('hello-1.0-1.tp1.x86_64.rpm') && repo.includes('repodata'));
  } finally {
    await t.remove();
  }
});

test('without keep-going, an unsatisfiable BuildRequires stops the build before any job runs', async () => {
  const t = await tempDir('distro-refuse');
  try {
    const dir = await project(t.path, ['hello', 'needsmissing']);
    const failure = await build(dir).then(
      () => assert.fail('the build must not start'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof StrataErrors && !(failure instanceof BuildFailure));
    assert.equal(failure.errors.length, 1);
    assert.equal(failure.errors[0]!.component, 'needsmissing');
    assert.match(failure.errors[0]!.message, /BuildRequires 'libdoesnotexist-devel >= 3' \(x86_64\) is provided by no component/);
    await assert.rejects(readdir(join(dir, 'out')), /ENOENT/, 'nothing is written to the output');
    await assert.rejects(readdir(join(dir, '.strata-cache/jobs')), /ENOENT/, 'no job ran');
  } finally {
    await t.remove();
  }
});

test('a damaged cache entry is rebuilt, not trusted', async () => {
  const t = await tempDir('distro-damage');
  try {
    const dir = await project(t.path, ['hello']);
    const first = await build(dir);
    const key = first.jobs[0]!.key!;
    const rpm = join(dir, '.strata-cache/jobs', key, 'rpms', first.jobs[0]!.artifacts[0]!.file);
    const bytes = await readFile(rpm);
    bytes[200] ^= 0x01;
    await writeFile(rpm, bytes);
    const second = await build(dir);
    assert.equal(second.jobs[0]!.status, 'built');
    assert.match(second.jobs[0]!.explain![0]!, /cache entry was damaged .*has sha256/);
    assert.deepEqual(second.jobs[0]!.artifacts, first.jobs[0]!.artifacts, 'the rebuild reproduces the original bytes');
  } finally {
    await t.remove();
  }
});

test('a missing or mismatching source is an error before any build starts', async () => {
  const t = await tempDir('distro-sources');
  try {
    const dir = await project(t.path, ['hello', 'greeter', 'libgreet']);
    await writeFile(join(dir, 'specs/hello/hello.signatures.json'), `{"Signatures": {"hello.c": "${'0'.repeat(64)}", "upstream-1.0.tar.gz": "${'1'.repeat(64)}"}}\n`);
    const error = await build(dir).then(
      () => assert.fail('must fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StrataErrors && !(error instanceof BuildFailure));
    const messages = error.errors.map((e) => e.message).sort();
    assert.match(messages[0]!, /^hello\.c does not match its pin/);
    assert.match(messages[1]!, /^pinned file upstream-1\.0\.tar\.gz \(sha256 111111111111…\) was not found/);
    await assert.rejects(readdir(join(dir, 'out/logs')), 'no job ran');
  } finally {
    await t.remove();
  }
});

test('the same project in two folders gives identical RPM SHA-256s for both arches', async () => {
  const a = await tempDir('distro-repro-a');
  const b = await tempDir('distro-repro-bb');
  try {
    // 'upstream' is written like an Azure Linux spec: a tarball by URL pinned in its signatures file, %autosetup, make.
    const components = ['hello', 'libgreet', 'greeter', 'upstream'];
    const first = await build(await project(a.path, components), ['x86_64', 'aarch64'], { explain: false });
    const second = await build(await project(b.path, components), ['x86_64', 'aarch64'], { explain: false });
    const artifacts = (s: BuildSummary) => Object.fromEntries(s.jobs.map((j) => [j.job, j.artifacts]));
    assert.deepEqual(Object.keys(artifacts(first)), ['greeter/aarch64', 'greeter/x86_64', 'hello/aarch64', 'hello/x86_64', 'libgreet/noarch', 'upstream/aarch64', 'upstream/x86_64']);
    assert.deepEqual(artifacts(second), artifacts(first));
    // The noarch package is published into both repositories; repository metadata is identical too.
    for (const arch of ['x86_64', 'aarch64']) {
      const repomd = (root: string) => readFile(join(root, 'out/repo', arch, 'repodata/repomd.xml'), 'utf8');
      assert.equal(await repomd(b.path), await repomd(a.path));
      assert.ok((await readdir(join(a.path, 'out/repo', arch))).includes('libgreet-devel-2.1-1.tp1.noarch.rpm'));
    }
    // Every ELF file in the aarch64 repository is aarch64 machine code (the upstream Makefile build too).
    const payload = join(a.path, 'payload');
    await mkdir(payload);
    execFileSync('sh', ['-c', 'for r in "$1"/*.rpm; do rpm2cpio "$r" | cpio -idm --quiet; done', 'sh', join(a.path, 'out/repo/aarch64')], { cwd: payload });
    const elves = execFileSync('sh', ['-c', 'find . -type f -exec file {} + | grep ELF'], { cwd: payload, encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(elves.map((line) => line.split(':')[0]).sort(), ['./usr/bin/greeter', './usr/bin/hello', './usr/bin/upstream']);
    for (const line of elves) assert.match(line, /ARM aarch64/);
  } finally {
    await a.remove();
    await b.remove();
  }
});

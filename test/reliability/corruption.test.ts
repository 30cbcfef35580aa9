/**
 * Corruption: damage what a previous run left (cache entries, the published
 * repository, a composed image) the way a disk, a crash or a person would,
 * and check that strata never trusts it: the next build rebuilds or restores
 * the exact bytes, and `strata verify` reports image damage precisely (exit 1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open, readFile, readdir, rm, stat, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCH, IMAGE, checkCache, copyProject, diffMaps, outputHashes, removeProject, strata } from './helpers.js';

let project: string;
let reference: Map<string, string>;
let cases = 0;

interface JobJson {
  job: string;
  component: string;
  status: string;
  key?: string;
  explain?: string[];
}

async function buildJson(): Promise<JobJson[]> {
  const result = await strata(project, ['build', '--arch', ARCH, '--json', '--explain']);
  assert.equal(result.exitCode, 0, result.stderr);
  return (JSON.parse(result.stdout) as { jobs: JobJson[] }).jobs;
}

/** Flips one byte in place, keeping size and modification time: damage no size or date check sees. */
async function flipByte(path: string, offset: number): Promise<void> {
  const st = await stat(path);
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0x5a;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
  await utimes(path, st.atime, st.mtime);
}

async function entryRpms(key: string): Promise<string[]> {
  const dir = join(project, '.strata-cache/jobs', key, 'rpms');
  return (await readdir(dir)).sort().map((name) => join(dir, name));
}

const imageDir = (): string => join(project, 'out/images', IMAGE, ARCH);

before(async () => {
  project = await copyProject('corrupt');
  const result = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
  assert.equal(result.exitCode, 0, result.stderr);
  reference = await outputHashes(project);
});

after(async () => {
  console.log(`# corruption cases tried: ${cases}`);
  await removeProject(project);
});

test('a truncated RPM and a flipped byte in cache entries: both jobs rebuilt, same bytes, never a cache hit', { timeout: 180_000 }, async () => {
  const jobs = await buildJson();
  const lib = jobs.find((j) => j.component === 'rel-lib')!;
  const app = jobs.find((j) => j.component === 'rel-app')!;
  assert.equal(lib.status, 'cached');
  const [libRpm] = await entryRpms(lib.key!);
  await truncate(libRpm!, Math.floor((await stat(libRpm!)).size / 2));
  const [appRpm] = await entryRpms(app.key!);
  await flipByte(appRpm!, 3000);
  cases += 2;
  const rerun = await buildJson();
  for (const job of rerun) {
    assert.equal(job.status, 'built', `${job.job} must be rebuilt, not taken from a damaged entry: ${JSON.stringify(job)}`);
    assert.match((job.explain ?? []).join(' '), /damaged/, `${job.job}: the reason names the damage`);
  }
  assert.deepEqual(diffMaps(reference, await outputHashes(project)), []);
  assert.deepEqual((await checkCache(project)).bad, []);
});

test('a garbled manifest and a missing RPM in cache entries: rebuilt', { timeout: 180_000 }, async () => {
  const jobs = await buildJson();
  const lib = jobs.find((j) => j.component === 'rel-lib')!;
  const app = jobs.find((j) => j.component === 'rel-app')!;
  await writeFile(join(project, '.strata-cache/jobs', lib.key!, 'manifest.json'), '{"format": "strata-build-entry/1", "key": ');
  await unlink((await entryRpms(app.key!))[0]!);
  cases += 2;
  const rerun = await buildJson();
  assert.deepEqual(rerun.map((j) => j.status), ['built', 'built']);
  assert.deepEqual(diffMaps(reference, await outputHashes(project)), []);
  assert.deepEqual((await checkCache(project)).bad, []);
});

test('a truncated RPM in out/repo is restored by the next build', { timeout: 180_000 }, async () => {
  const repo = join(project, 'out/repo', ARCH);
  const rpm = (await readdir(repo)).filter((n) => n.startsWith('rel-app-')).map((n) => join(repo, n))[0]!;
  await truncate(rpm, 1000);
  cases++;
  await buildJson();
  assert.deepEqual(diffMaps(reference, await outputHashes(project)), []);
});

test(
  'an RPM in out/repo with a flipped byte (same size, same mtime) is restored by the next build',
  {
    timeout: 180_000,
  },
  async () => {
    const repo = join(project, 'out/repo', ARCH);
    const rpm = (await readdir(repo)).filter((n) => n.startsWith('rel-lib-devel-')).map((n) => join(repo, n))[0]!;
    await flipByte(rpm, 2000);
    cases++;
    try {
      await buildJson();
      assert.deepEqual(diffMaps(reference, await outputHashes(project)), []);
    } finally {
      // Leave a sound repository for the tests after this one, whatever this one found.
      await rm(join(project, 'out/repo'), { recursive: true, force: true });
      await buildJson();
    }
  },
);

/** Runs verify, expects exit 1 and every pattern among its FAIL lines; then restores the file. */
async function expectVerifyFailure(damaged: string, patterns: RegExp[]): Promise<void> {
  const result = await strata(project, ['verify', IMAGE, '--arch', ARCH]);
  const failures = result.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
  assert.equal(result.exitCode, 1, `verify must fail for damaged ${damaged}\n${result.stdout}\n${result.stderr}`);
  for (const pattern of patterns) assert.ok(failures.some((line) => pattern.test(line)), `a FAIL line matching ${pattern}\n${failures.join('\n')}`);
  cases++;
}

async function withBackup(file: string, damage: (path: string) => Promise<void>, check: () => Promise<void>): Promise<void> {
  const path = join(imageDir(), file);
  const backup = `${path}.bak-test`;
  await copyFile(path, backup);
  try {
    await damage(path);
    await check();
  } finally {
    await copyFile(backup, path);
    await unlink(backup);
  }
}

test('strata verify names a flipped byte in the root filesystem, with its block', { timeout: 120_000 }, async () => {
  await withBackup('root.erofs', (p) => flipByte(p, 20_000), () =>
    expectVerifyFailure('root.erofs', [/artifact root\.erofs: sha256/, /root\.erofs verity: .*data block 4 \(bytes 16384\.\.20479\)/]),
  );
});

test('strata verify names a flipped byte inside the disk image\'s root partition', { timeout: 120_000 }, async () => {
  const erofs = await readFile(join(imageDir(), 'root.erofs'));
  const disk = await readFile(join(imageDir(), 'disk.raw'));
  // The root partition holds root.erofs byte for byte: find where, and damage its 6th block.
  const start = disk.indexOf(erofs.subarray(1024, 1024 + 128)) - 1024;
  assert.ok(start > 0, 'root.erofs is inside disk.raw');
  await withBackup('disk.raw', (p) => flipByte(p, start + 5 * 4096 + 7), () =>
    expectVerifyFailure('disk.raw', [/artifact disk\.raw: sha256/, /disk\.raw/]),
  );
});

test('strata verify reports a damaged verity hash tree and a truncated SBOM', { timeout: 120_000 }, async () => {
  await withBackup('root.verity', (p) => flipByte(p, 4096 + 100), () => expectVerifyFailure('root.verity', [/root\.verity/]));
  await withBackup('sbom.spdx.json', (p) => truncate(p, 100), () => expectVerifyFailure('sbom.spdx.json', [/sbom/]));
});

test('a damaged image is recomposed, not trusted: the next compose restores the exact bytes and verify passes', { timeout: 180_000 }, async () => {
  await flipByte(join(imageDir(), 'root.erofs'), 30_000);
  await truncate(join(imageDir(), 'disk.raw'), 1_000_000);
  cases += 2;
  const result = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(diffMaps(reference, await outputHashes(project)), []);
  const verify = await strata(project, ['verify', IMAGE, '--arch', ARCH]);
  assert.equal(verify.exitCode, 0, verify.stdout);
});

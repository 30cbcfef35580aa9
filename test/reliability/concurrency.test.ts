/**
 * Concurrency: two `strata build` processes on the same project, output folder
 * and cache at once. Both must succeed (one may wait, saying so), the cache
 * must verify afterwards, the repository must hold exactly the RPMs the cache
 * entries describe, and a third build must be all cache hits. A `cache gc`
 * during a build must refuse with a clear message instead of deleting under it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sha256File } from '../../src/util/hash.js';
import { ARCH, IMAGE, checkCache, copyProject, diffMaps, outputHashes, removeProject, scratchLeft, sleep, spawnStrata, strata } from './helpers.js';

interface Summary {
  jobs: Array<{ job: string; status: string; artifacts: Array<{ file: string; sha256: string }> }>;
}

test('two builds at once on one project and cache: both succeed, the cache verifies, the repo matches it', { timeout: 300_000 }, async () => {
  const project = await copyProject('concurrent');
  try {
    const a = spawnStrata(project, ['build', '--arch', ARCH, '--json']);
    await sleep(150);
    const b = spawnStrata(project, ['build', '--arch', ARCH, '--json']);
    let outA = '';
    let outB = '';
    a.child.stdout!.removeAllListeners('data');
    b.child.stdout!.removeAllListeners('data');
    a.child.stdout!.on('data', (chunk: Buffer) => (outA += chunk.toString()));
    b.child.stdout!.on('data', (chunk: Buffer) => (outB += chunk.toString()));
    const [exitA, exitB] = await Promise.all([a.exited, b.exited]);
    assert.equal(exitA.code, 0, `first build\n${a.stderr()}`);
    assert.equal(exitB.code, 0, `second build\n${b.stderr()}`);
    const waited = /waiting for strata \(pid \d+\)/.test(a.stderr() + b.stderr());
    console.log(`# concurrent builds: both succeeded; one waited with a message: ${waited}`);
    const summaries = [JSON.parse(outA) as Summary, JSON.parse(outB) as Summary];
    const cache = await checkCache(project);
    assert.deepEqual(cache.bad, [], 'every cache entry verifies');
    assert.equal(cache.good.length, 2);
    // Same inputs: both processes report the same artifacts, and the repo holds exactly those bytes.
    const artifacts = (s: Summary): string[] => s.jobs.flatMap((j) => j.artifacts.map((x) => `${x.file} ${x.sha256}`)).sort();
    assert.deepEqual(artifacts(summaries[0]!), artifacts(summaries[1]!));
    for (const line of artifacts(summaries[0]!)) {
      const [file, sha256] = line.split(' ') as [string, string];
      assert.equal(await sha256File(join(project, 'out/repo', ARCH, file)), sha256, `out/repo/${ARCH}/${file}`);
    }
    const third = await strata(project, ['build', '--arch', ARCH, '--json']);
    assert.equal(third.exitCode, 0, third.stderr);
    assert.deepEqual((JSON.parse(third.stdout) as Summary).jobs.map((j) => j.status), ['cached', 'cached']);
    assert.deepEqual([...(await scratchLeft(join(project, 'out'))), ...(await scratchLeft(join(project, '.strata-cache')))], []);

    // gc while a build holds the cache: refused, nothing deleted.
    const running = spawnStrata(project, ['build', '--arch', ARCH]);
    for (let i = 0; i < 400 && !(running.stderr().length > 0); i++) await sleep(10);
    const gc = await strata(project, ['cache', 'gc', '--max-size', '0']);
    const exit = await running.exited;
    assert.equal(exit.code, 0, running.stderr());
    if (gc.exitCode === 1) {
      assert.match(gc.stderr, /a strata build \(pid \d+\) is using the cache/);
      assert.equal((await checkCache(project)).good.length, 2, 'a refused gc deletes nothing');
    } else {
      // The build had already released the cache: gc then ran alone, which is fine.
      assert.equal(gc.exitCode, 0, gc.stderr);
    }
  } finally {
    await removeProject(project);
  }
});

test('two composes of the same image at once: both succeed (or one waits), the image verifies and is the same bytes', { timeout: 300_000 }, async () => {
  const project = await copyProject('concurrent-compose');
  try {
    const first = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
    assert.equal(first.exitCode, 0, first.stderr);
    const reference = await outputHashes(project);
    const a = spawnStrata(project, ['compose', IMAGE, '--arch', ARCH]);
    const b = spawnStrata(project, ['compose', IMAGE, '--arch', ARCH]);
    const [exitA, exitB] = await Promise.all([a.exited, b.exited]);
    console.log(`# concurrent composes: exit ${exitA.code} and ${exitB.code}`);
    const verify = await strata(project, ['verify', IMAGE, '--arch', ARCH]);
    assert.equal(verify.exitCode, 0, `the image left behind verifies\n${verify.stdout}`);
    assert.deepEqual(diffMaps(reference, await outputHashes(project)), [], 'the same bytes as a lone compose');
    assert.equal(exitA.code, 0, `first compose\n${a.stderr()}`);
    assert.equal(exitB.code, 0, `second compose\n${b.stderr()}`);
  } finally {
    await removeProject(project);
  }
});

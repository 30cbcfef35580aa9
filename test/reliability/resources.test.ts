/**
 * A full disk: the fixture project lives on a small tmpfs (so its out/ and
 * cache folders do too, as config paths must stay inside the project). After
 * a successful compose the tmpfs is filled up; a compose and then a build
 * that must write new outputs have to fail with a clear error (exit 1, no
 * internal error), leave the previous outputs intact and the cache verifying,
 * and succeed again once space is freed. Needs root (mount); skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, statfs, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ARCH, IMAGE, checkCache, copyProject, diffMaps, outputHashes, scratchLeft, strata } from './helpers.js';

const isRoot = process.getuid?.() === 0;

/** Fills the filesystem of `dir` until at most `leaveBytes` are free. */
async function fill(dir: string, leaveBytes: number): Promise<string> {
  const path = join(dir, 'filler');
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(1024 * 1024, 0x55);
    for (;;) {
      const st = await statfs(dir);
      const free = st.bavail * st.bsize;
      if (free <= leaveBytes) break;
      const size = Math.min(chunk.length, free - leaveBytes);
      try {
        await handle.write(chunk, 0, Math.max(4096, size));
      } catch {
        break;
      }
    }
  } finally {
    await handle.close();
  }
  return path;
}

function clearError(result: { exitCode: number | undefined; stdout: string; stderr: string }, what: string): void {
  const all = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.exitCode, 1, `${what}: exit 1\n${all}`);
  assert.match(all, /^error:/m, `${what}: an error line\n${all}`);
  assert.match(all, /no space left on device|ENOSPC|disk is full|not enough space/i, `${what}: says the disk is full\n${all}`);
}

test('a full disk during compose and build: clear errors, previous outputs intact, recovery once space is freed', { skip: !isRoot && 'needs root to mount a tmpfs', timeout: 300_000 }, async () => {
  const mountPoint = await mkdtemp(join(tmpdir(), 'strata-rel-full-'));
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mountPoint]);
  try {
    const project = await copyProject('full', { parent: mountPoint });
    const first = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
    assert.equal(first.exitCode, 0, first.stderr);
    const reference = await outputHashes(project);

    const filler = await fill(mountPoint, 256 * 1024);
    const compose = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
    const composeMessage = `${compose.stdout}\n${compose.stderr}`.split('\n').filter((l) => l.startsWith('error:')).join(' | ');
    console.log(`# full disk, compose: exit ${compose.exitCode}: ${composeMessage}`);
    assert.doesNotMatch(`${compose.stdout}${compose.stderr}`, /internal error/, 'not an internal error');
    clearError(compose, 'compose on a full disk');
    assert.deepEqual(diffMaps(reference, await outputHashes(project)), [], 'the previous image and repository are intact');

    // A change that needs a new build result: the build cannot store it.
    const spec = join(project, 'specs/rel-app/rel-app.spec');
    await rm(filler);
    await writeFile(spec, (await readFile(spec, 'utf8')).replace('Release:        1%{?dist}', 'Release:        2%{?dist}'));
    const filler2 = await fill(mountPoint, 64 * 1024);
    const build = await strata(project, ['build', '--arch', ARCH]);
    const buildMessage = `${build.stdout}\n${build.stderr}`.split('\n').filter((l) => l.startsWith('error:')).join(' | ');
    console.log(`# full disk, build: exit ${build.exitCode}: ${buildMessage}`);
    assert.doesNotMatch(`${build.stdout}${build.stderr}`, /internal error/, 'not an internal error');
    clearError(build, 'build on a full disk');
    assert.deepEqual((await checkCache(project)).bad, [], 'no damaged cache entry under a final name');
    const imageNow = await outputHashes(project);
    for (const [path, hash] of imageNow) if (path.startsWith('images/')) assert.equal(hash, reference.get(path), `${path} intact`);

    await rm(filler2);
    const again = await strata(project, ['compose', IMAGE, '--arch', ARCH]);
    assert.equal(again.exitCode, 0, `with space again the compose succeeds\n${again.stderr}`);
    const verify = await strata(project, ['verify', IMAGE, '--arch', ARCH]);
    assert.equal(verify.exitCode, 0, verify.stdout);
    assert.deepEqual((await checkCache(project)).bad, []);
    const litter = [...(await scratchLeft(join(project, 'out'))), ...(await scratchLeft(join(project, '.strata-cache')))];
    assert.deepEqual(litter, [], 'failed runs on a full disk leave no scratch behind');
  } finally {
    await execa('umount', [mountPoint], { reject: false });
    await execa('umount', ['-l', mountPoint], { reject: false });
    await rm(mountPoint, { recursive: true, force: true });
  }
});

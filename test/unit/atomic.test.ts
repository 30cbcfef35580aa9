import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../../src/util/atomic.js';

test('replaceDirAtomic swaps a complete folder in and keeps the old one when filling fails', async () => {
  const root = await mkdtemp(join(tmpdir(), 'strata-atomic-'));
  try {
    const target = join(root, 'out');
    await replaceDirAtomic(target, (tmp) => writeFile(join(tmp, 'a'), 'first'));
    await assert.rejects(
      replaceDirAtomic(target, async (tmp) => {
        await writeFile(join(tmp, 'a'), 'second');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(await readFile(join(target, 'a'), 'utf8'), 'first');
    assert.deepEqual(await readdir(root), ['out'], 'no temporary folder is left behind');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('temporary folders of killed writers are removed; those of live ones are kept', async () => {
  const root = await mkdtemp(join(tmpdir(), 'strata-atomic-'));
  try {
    // A pid that certainly belonged to a process now gone.
    const deadPid = spawnSync('true').pid!;
    const stale = join(root, `.out.tmp-${deadPid}-0123abcd`);
    const live = join(root, `.out.tmp-${process.ppid}-89abcdef`);
    const other = join(root, `.other.tmp-${deadPid}-0123abcd`);
    for (const dir of [stale, live, other]) await mkdir(dir);
    await replaceDirAtomic(join(root, 'out'), (tmp) => writeFileAtomic(join(tmp, 'a'), 'x'));
    assert.deepEqual((await readdir(root)).sort(), [`.other.tmp-${deadPid}-0123abcd`, `.out.tmp-${process.ppid}-89abcdef`, 'out']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

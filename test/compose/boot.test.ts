/**
 * Boots composed images under qemu (TCG) with Debian's kernel and the
 * generated initramfs: the image's init must print the marker; a single
 * flipped byte in the root partition must stop the boot with a verity error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootImage, composeImage } from '../../src/compose/index.js';
import { walkTree } from '../../src/util/paths.js';
import { run } from '../../src/util/process.js';
import { fixtureImage, fixtureModel, fixtureRepo } from './fixture.js';
import { extractFilesystem, flipByte, log } from './helpers.js';

// Kernel, busybox and initramfs are cached here across test runs, as in a project's cache folder.
const CACHE = join(tmpdir(), 'strata-test-boot-cache');

async function project(images = [fixtureImage()]) {
  const model = fixtureModel(await mkdtemp(join(tmpdir(), 'strata-boot-test-')), images);
  return { ...model, build: { ...model.build, cacheDir: CACHE } };
}

test('x86_64: the image boots to its marker; a flipped byte in the root partition fails with a verity error', async () => {
  const repo = await fixtureRepo('x86_64');
  const model = await project();
  const { outDir, manifest } = await composeImage(model, 'fx', 'x86_64', { log, repo });
  const good = await bootImage(model, 'fx', 'x86_64', { log });
  assert.equal(good.outcome, 'marker', good.console.slice(-2000));
  assert.match(good.console, /fx-init: config 'closure-installed'/);

  const tampered = join(await mkdtemp(join(tmpdir(), 'strata-tampered-')), 'image');
  await cp(outDir, tampered, { recursive: true });
  const data = manifest.disk!.partitions.find((p) => p.role === 'root')!;
  // A byte in the last data block: the kernel only sees it because the initramfs reads every block.
  await flipByte(join(tampered, 'disk.raw'), data.offset + data.payloadSize - 10);
  const bad = await bootImage(model, 'fx', 'x86_64', { log, dir: tampered });
  assert.equal(bad.ok, false);
  assert.equal(bad.outcome, 'verity-error', bad.console.slice(-2000));
  assert.match(bad.evidence!, new RegExp(`data block ${data.payloadSize / 4096 - 1} is corrupted`));
  assert.ok(!bad.console.includes('STRATA-BOOT-OK'));
});

test('x86_64: a usr-layout image (read-only /usr under verity, tmpfs root) boots', async () => {
  const repo = await fixtureRepo('x86_64');
  const model = await project([fixtureImage({ layout: 'usr' })]);
  const { manifest } = await composeImage(model, 'fx', 'x86_64', { log, repo });
  assert.deepEqual(manifest.disk!.partitions.map((p) => p.name), ['usr-x86-64', 'usr-x86-64-verity']);
  assert.match(manifest.cmdline!, /^usrhash=[0-9a-f]{64} systemd.verity_usr_data=PARTUUID=/);
  const booted = await bootImage(model, 'fx', 'x86_64', { log });
  assert.equal(booted.outcome, 'marker', booted.console.slice(-2000));
});

test('aarch64: every ELF file is aarch64 and the image boots under qemu-system-aarch64', async () => {
  const repo = await fixtureRepo('aarch64');
  const model = await project();
  const { outDir, manifest } = await composeImage(model, 'fx', 'aarch64', { log, repo });
  assert.equal(manifest.disk!.partitions[0]!.typeGuid, 'b921b045-1df0-41c3-af44-4c6f280d3fae');
  const tree = await extractFilesystem(join(outDir, 'root.erofs'), 'erofs');
  const files = (await walkTree(tree)).filter((e) => e.type === 'file').map((e) => e.absPath);
  const described = (await run('file', ['-b', ...files])).stdout.trim().split('\n');
  const elves = described.filter((d) => d.startsWith('ELF'));
  assert.ok(elves.length > 0);
  for (const d of elves) assert.match(d, /ARM aarch64/);
  const booted = await bootImage(model, 'fx', 'aarch64', { log });
  assert.equal(booted.outcome, 'marker', booted.console.slice(-2000));
});

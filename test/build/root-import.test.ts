import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { DEFAULT_IMPORT_LIMITS, unpackArchives } from '../../src/build/root-import.js';
import { materializeRoot, resolveBuildRoot } from '../../src/build/build-root.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import { sha256Hex } from '../../src/util/hash.js';
import { tempDir } from './helpers.js';

type Entry = Partial<tar.Header> & { name: string; body?: string };

async function tarball(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ mode: 0o644, mtime: new Date(0), ...header }, body ?? '', (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function unpack(entries: Entry[], limits = DEFAULT_IMPORT_LIMITS): Promise<string> {
  const t = await tempDir('import');
  const archive = join(t.path, 'root.tar.gz');
  await writeFile(archive, gzipSync(await tarball(entries)));
  const root = join(t.path, 'root');
  await mkdir(root);
  await unpackArchives([archive], root, limits);
  return root;
}

test('a plain root unpacks with modes, symlinks and hard links', async () => {
  const root = await unpack([
    { name: 'usr/', type: 'directory', mode: 0o755 },
    { name: 'usr/bin/', type: 'directory', mode: 0o755 },
    { name: 'usr/bin/tool', body: '#!/bin/sh\n', mode: 0o755 },
    { name: 'usr/bin/tool-again', type: 'link', linkname: 'usr/bin/tool' },
    { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
    { name: 'etc/os-release', body: 'ID=test\n' },
  ]);
  assert.equal((await stat(join(root, 'usr/bin/tool'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(root, 'usr/bin/tool-again'))).ino, (await stat(join(root, 'usr/bin/tool'))).ino);
  assert.equal(await readlink(join(root, 'bin')), 'usr/bin');
  assert.equal(await readFile(join(root, 'etc/os-release'), 'utf8'), 'ID=test\n');
});

test('hostile archives are refused: escaping paths, links out, device nodes, absurd sizes', async () => {
  const cases: Array<[string, Entry[], RegExp, typeof DEFAULT_IMPORT_LIMITS?]> = [
    ['dot-dot', [{ name: 'usr/../../evil', body: 'x' }], /contains \.\./],
    ['device node', [{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }], /is a block-device/],
    ['char device', [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }], /is a character-device/],
    ['through a symlink', [{ name: 'escape', type: 'symlink', linkname: '/tmp' }, { name: 'escape/planted', body: 'x' }], /goes through the symlink/],
    ['relative symlink out', [{ name: 'usr/lib/up', type: 'symlink', linkname: '../../../../etc' }], /leaves the root/],
    ['hard link out', [{ name: 'x', type: 'link', linkname: '../../etc/passwd' }], /contains \.\.|leaves the root|missing file/],
    ['too big', [{ name: 'big', body: 'x'.repeat(2048) }], /limit 1024/, { ...DEFAULT_IMPORT_LIMITS, maxEntryBytes: 1024 }],
    ['too many', [{ name: 'a', body: '' }, { name: 'b', body: '' }, { name: 'c', body: '' }], /limit of 2 entries/, { ...DEFAULT_IMPORT_LIMITS, maxEntries: 2 }],
  ];
  for (const [what, entries, message, limits] of cases) {
    await assert.rejects(unpack(entries, limits), message, what);
  }
});

test('an OCI image layout: layers in order, whiteouts applied, unpacked once into the cache', async () => {
  const t = await tempDir('oci');
  try {
    const layout = join(t.path, 'image');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const blob = async (data: Buffer): Promise<string> => {
      const digest = sha256Hex(data);
      await writeFile(join(blobs, digest), data);
      return `sha256:${digest}`;
    };
    const layer1 = await blob(gzipSync(await tarball([{ name: 'usr/bin/old', body: 'old' }, { name: 'etc/keep', body: 'keep' }, { name: 'opt/dir/file', body: 'x' }])));
    const layer2 = await blob(gzipSync(await tarball([{ name: 'usr/bin/.wh.old', body: '' }, { name: 'opt/dir/.wh..wh..opq', body: '' }, { name: 'usr/bin/new', body: 'new' }])));
    const manifest = await blob(Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [{ digest: layer1 }, { digest: layer2 }] })));
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: manifest, platform: { architecture: 'amd64', os: 'linux' } }] }));
    const cacheDir = join(t.path, 'cache');
    const resolved = await resolveBuildRoot({ type: 'oci', path: layout, provides: ['make'] }, await DigestCache.open(cacheDir));
    assert.equal(resolved.identity.archives.length, 2);
    const root = await materializeRoot(resolved.identity, resolved.blobs, cacheDir);
    assert.equal(root, join(cacheDir, 'build', 'roots', resolved.identity.id));
    assert.equal(await readFile(join(root, 'usr/bin/new'), 'utf8'), 'new');
    await assert.rejects(lstat(join(root, 'usr/bin/old')));
    await assert.rejects(lstat(join(root, 'opt/dir/file')));
    assert.equal(await readFile(join(root, 'etc/keep'), 'utf8'), 'keep');
    // Same identity, same folder: not unpacked again.
    assert.equal(await materializeRoot(resolved.identity, resolved.blobs, cacheDir), root);
  } finally {
    await t.remove();
  }
});

/**
 * File overlays inside source archives: the edit lands in the right entry, the
 * rewritten archive is deterministic (sorted entries, root owner, mtimes from
 * source-date-epoch, same compression) and unsafe paths are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { renderComponent } from '../../src/overlays/render.js';
import { ArchiveFiles, detectCompression } from '../../src/overlays/files/archive.js';
import type { OverlaySpec } from '../../src/config/model.js';
import { StrataErrors, StrataError, renderError } from '../../src/util/errors.js';
import { run } from '../../src/util/process.js';
import { COMPONENTS, componentAt, modelWith } from './harness.js';

function overlay(index: number, type: string, fields: Record<string, unknown>): OverlaySpec {
  const location = { file: 'inline.toml', line: index * 10, col: 1 };
  const fieldLocations = Object.fromEntries(Object.keys(fields).map((k, i) => [k, { file: 'inline.toml', line: index * 10 + i + 1, col: 1 }]));
  return { type, fields, description: null, category: null, upstreamStatus: null, location, fieldLocations, index };
}

async function entries(bytes: Buffer): Promise<Array<{ name: string; mode: number; uid: number; gid: number; uname: string; mtime: number; type: string; data: string }>> {
  const extract = tar.extract();
  const out: Array<{ name: string; mode: number; uid: number; gid: number; uname: string; mtime: number; type: string; data: string }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      out.push({ name: h.name, mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, uname: h.uname ?? '', mtime: (h.mtime?.getTime() ?? 0) / 1000, type: h.type ?? '', data: Buffer.concat(chunks).toString() });
    }
  })();
  Readable.from([bytes]).pipe(extract);
  await done;
  return out;
}

const LIBFOO = join(COMPONENTS, 'libfoo');
const ARCHIVE = 'libfoo-2.1.tar.gz';

async function renderArchive(overlays: OverlaySpec[], dir = LIBFOO, name = ARCHIVE): Promise<Buffer> {
  const component = componentAt(dir, overlays, 'libfoo.spec');
  const rendered = await renderComponent(modelWith([component]), component);
  const file = rendered.files.find((f) => f.path === name)!;
  assert.ok(file.data, 'the archive was rewritten');
  assert.deepEqual(file.modifiedBy, overlays.map((o) => o.index));
  return file.data!;
}

test('file-search-replace inside a tar.gz edits that entry only and repacks deterministically', async () => {
  const overlays = [overlay(1, 'file-search-replace', { archive: ARCHIVE, file: 'src/foo.c', regex: 'FOO_LIMIT 64', replacement: 'FOO_LIMIT 128', count: 1 })];
  const first = await renderArchive(overlays);
  const second = await renderArchive(overlays);
  assert.ok(first.equals(second), 'two renders give identical archive bytes');
  assert.equal(detectCompression(first), 'gzip');
  const before = await entries(gunzipSync(readFileSync(join(LIBFOO, ARCHIVE))));
  const after = await entries(gunzipSync(first));
  assert.deepEqual(after.map((e) => e.name), [...after.map((e) => e.name)].sort(), 'entries sorted by path');
  assert.deepEqual(after.map((e) => e.name), before.map((e) => e.name));
  for (const entry of after) {
    assert.equal(entry.uid, 0);
    assert.equal(entry.gid, 0);
    assert.equal(entry.uname, 'root');
    assert.equal(entry.mtime, 1767225600, `${entry.name} mtime is source-date-epoch`);
  }
  const foo = after.find((e) => e.name === 'libfoo-2.1/src/foo.c')!;
  assert.match(foo.data, /#define FOO_LIMIT 128\n/);
  assert.doesNotMatch(foo.data, /FOO_LIMIT 64/);
  assert.equal(after.find((e) => e.name === 'libfoo-2.1/configure')!.mode, 0o755, 'modes kept');
  assert.equal(after.find((e) => e.name === 'libfoo-2.1/README')!.data, before.find((e) => e.name === 'libfoo-2.1/README')!.data);
  // tar itself reads the result.
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-test-'));
  try {
    writeFileSync(join(dir, 'a.tar.gz'), first);
    const listing = await run('tar', ['-tzvf', join(dir, 'a.tar.gz')]);
    assert.match(listing.stdout, /root\/root .* 2026-01-01 00:00 libfoo-2\.1\/src\/foo\.c/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file-add, file-remove and file-rename inside an archive, applied in order into one archive', async () => {
  const data = await renderArchive([
    overlay(1, 'file-add', { archive: ARCHIVE, file: 'contrib/x.sysusers', source: 'inputs/libfoo.sysusers' }),
    overlay(2, 'file-remove', { archive: ARCHIVE, file: 'configure' }),
    overlay(3, 'file-rename', { archive: ARCHIVE, 'archive-root': 'libfoo-2.1', file: 'README', replacement: 'README.md' }),
  ]);
  const names = (await entries(gunzipSync(data))).map((e) => e.name);
  assert.deepEqual(names, [
    'libfoo-2.1/',
    'libfoo-2.1/COPYING',
    'libfoo-2.1/README.md',
    'libfoo-2.1/contrib/',
    'libfoo-2.1/contrib/x.sysusers',
    'libfoo-2.1/src/',
    'libfoo-2.1/src/foo.c',
    'libfoo-2.1/src/foo.h',
  ]);
});

for (const [tool, suffix] of [['xz', 'xz'], ['bzip2', 'bz2']] as const) {
  test(`archives compressed with ${tool} are rewritten with ${tool}, deterministically`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-archive-test-'));
    try {
      const component = join(dir, 'libfoo');
      cpSync(LIBFOO, component, { recursive: true });
      const tarPath = join(component, 'libfoo-2.1.tar');
      writeFileSync(tarPath, gunzipSync(readFileSync(join(component, ARCHIVE))));
      await run(tool, ['-z', '-q', tarPath]);
      rmSync(join(component, ARCHIVE));
      const name = `libfoo-2.1.tar.${suffix}`;
      const overlays = [overlay(1, 'file-prepend-lines', { archive: name, file: 'src/*.h', lines: ['/* distro */'] })];
      const first = await renderArchive(overlays, component, name);
      const second = await renderArchive(overlays, component, name);
      assert.ok(first.equals(second));
      assert.equal(detectCompression(first), tool);
      const files = await ArchiveFiles.open(name, first, undefined);
      assert.equal(files.root, 'libfoo-2.1');
      assert.equal((await files.read('src/foo.h')).toString(), '/* distro */\nint foo_parse(const char *s);\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function failure(overlays: OverlaySpec[], dir = LIBFOO): Promise<string> {
  const component = componentAt(dir, overlays, 'libfoo.spec');
  try {
    await renderComponent(modelWith([component]), component);
  } catch (error) {
    const errors = error instanceof StrataErrors ? error.errors : [error as StrataError];
    return errors.map(renderError).join('\n');
  }
  assert.fail('expected the overlay to fail');
}

test('archive edits fail clearly: unknown archive, missing archive-root, entries escaping the root', async () => {
  assert.match(await failure([overlay(1, 'file-remove', { archive: 'libfoo-2.2.tar.gz', file: 'configure' })]), /^inline\.toml:11:1: \[component libfoo\] overlay 1 \(file-remove\) did not apply: archive 'libfoo-2\.2\.tar\.gz' is not in the component folder/);
  assert.match(await failure([overlay(1, 'file-remove', { archive: ARCHIVE, 'archive-root': 'libfoo-9', file: 'configure' })]), /inline\.toml:12:1: .*archive 'libfoo-2\.1\.tar\.gz' has no folder 'libfoo-9'/);
  assert.match(await failure([overlay(1, 'file-remove', { archive: ARCHIVE, file: '../etc/passwd' })]), /inline\.toml:12:1: .*file '\.\.\/etc\/passwd' escapes its folder/);
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-test-'));
  try {
    const component = join(dir, 'libfoo');
    cpSync(LIBFOO, component, { recursive: true });
    const pack = tar.pack();
    pack.entry({ name: '../outside.txt', mode: 0o644 }, 'x');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    writeFileSync(join(component, 'evil.tar'), Buffer.concat(chunks));
    assert.match(await failure([overlay(1, 'file-remove', { archive: 'evil.tar', file: 'x' })], component), /archive 'evil\.tar' entry '\.\.\/outside\.txt' escapes the archive root/);
    writeFileSync(join(component, 'broken.tar.gz'), readFileSync(join(LIBFOO, ARCHIVE)).subarray(0, 200));
    assert.match(await failure([overlay(1, 'file-remove', { archive: 'broken.tar.gz', file: 'x' })], component), /inline\.toml:11:1: .*archive 'broken\.tar\.gz' cannot be decompressed \(gzip\): unexpected end of file/);
    writeFileSync(join(component, 'notes.tar'), 'just text, not a tar archive');
    assert.match(await failure([overlay(1, 'file-remove', { archive: 'notes.tar', file: 'x' })], component), /archive 'notes\.tar' is not a tar archive/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

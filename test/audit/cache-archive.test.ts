import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import {
  CACHE_ARCHIVE_FORMAT,
  MANIFEST_NAME,
  exportCache,
  gcCache,
  importCache,
  leaseCache,
  listCacheEntries,
  lockCacheForGc,
  touchCacheEntry,
  safeArchivePath,
} from '../../src/build/cache-archive.js';
import { walkTree } from '../../src/util/paths.js';
import { parseSize } from '../../src/util/units.js';

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const KEY_A = sha256('job a');
const KEY_B = sha256('job b');
const ROOT_ID = sha256('root');
const BLOB = sha256('blob');

/**
 * A cache shaped like the build's: blobs by digest, job entries by key, a
 * seed RPM, remembered durations; and what must not travel: an unpacked root
 * with a symlink, the host-local digest memo, a lock and a temporary file.
 */
async function makeCache(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {
    [`blobs/${BLOB.slice(0, 2)}/${BLOB}`]: 'x'.repeat(100_000),
    [`jobs/${KEY_A}/record.json`]: '{"job":"greet/x86_64"}\n',
    [`jobs/${KEY_A}/greet-1.0-1.x86_64.rpm`]: 'rpm bytes a',
    [`jobs/${KEY_B}/record.json`]: '{"job":"tinyinit/x86_64"}\n',
    [`build/seeds/${BLOB}.rpm`]: 'seed rpm',
    'build/durations.json': '{}\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await mkdir(join(dir, 'build', 'roots', ROOT_ID, 'usr', 'bin'), { recursive: true });
  await writeFile(join(dir, 'build', 'roots', ROOT_ID, 'usr', 'bin', 'sh'), 'shell');
  await symlink('usr/bin', join(dir, 'build', 'roots', ROOT_ID, 'bin'));
  await writeFile(join(dir, 'build', 'digests.json'), '{"/home/ci/x.tar.gz":{}}');
  await writeFile(join(dir, '.gc.lock'), '');
  await writeFile(join(dir, 'jobs', '.record.json.tmp-1-abcd'), 'partial');
  return files;
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await walkTree(dir)) if (entry.type === 'file') out[entry.path] = await readFile(entry.absPath, 'utf8');
  return out;
}

test('export then import into an empty cache restores every file, and nothing hidden', async (t) => {
  const dir = await scratch(t);
  const files = await makeCache(join(dir, 'a'));
  const exported = await exportCache(join(dir, 'a'), join(dir, 'cache.tar.gz'));
  assert.equal(exported.files, 6);
  assert.equal(exported.entries, 5);
  assert.deepEqual(exported.skipped, [`build/roots/${ROOT_ID}`]);
  const imported = await importCache(join(dir, 'b'), join(dir, 'cache.tar.gz'));
  assert.deepEqual(imported.installed, [`blobs/${BLOB.slice(0, 2)}/${BLOB}`, 'build/durations.json', `build/seeds/${BLOB}.rpm`, `jobs/${KEY_A}`, `jobs/${KEY_B}`]);
  assert.deepEqual(await contents(join(dir, 'b')), files);
});

test('export is deterministic: the same content gives the same bytes whatever the mtimes', async (t) => {
  const dir = await scratch(t);
  await makeCache(join(dir, 'a'));
  await cp(join(dir, 'a'), join(dir, 'copy'), { recursive: true });
  await utimes(join(dir, 'copy', 'build', 'durations.json'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  await exportCache(join(dir, 'a'), join(dir, 'one.tar.gz'));
  await exportCache(join(dir, 'copy'), join(dir, 'two.tar.gz'));
  assert.equal(sha256(await readFile(join(dir, 'one.tar.gz'))), sha256(await readFile(join(dir, 'two.tar.gz'))));
});

test('import keeps entries the cache already has', async (t) => {
  const dir = await scratch(t);
  await makeCache(join(dir, 'a'));
  await exportCache(join(dir, 'a'), join(dir, 'cache.tar'));
  await mkdir(join(dir, 'b', 'jobs', KEY_A), { recursive: true });
  await writeFile(join(dir, 'b', 'jobs', KEY_A, 'record.json'), 'local');
  const result = await importCache(join(dir, 'b'), join(dir, 'cache.tar'));
  assert.deepEqual(result.kept, [`jobs/${KEY_A}`]);
  assert.equal(result.installed.length, 4);
  assert.equal(await readFile(join(dir, 'b', 'jobs', KEY_A, 'record.json'), 'utf8'), 'local');
});

interface Member {
  name: string;
  data?: string;
  type?: 'file' | 'symlink' | 'directory' | 'character-device';
  linkname?: string;
}

/** Writes a hand-made archive: a manifest (as given) and members (as given), so each rule of import can be broken on purpose. */
async function craft(path: string, manifest: unknown, members: Member[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  if (manifest !== undefined) pack.entry({ name: MANIFEST_NAME }, JSON.stringify(manifest));
  for (const member of members) {
    if (member.type === undefined || member.type === 'file') pack.entry({ name: member.name }, member.data ?? '');
    else pack.entry({ name: member.name, type: member.type, linkname: member.linkname });
  }
  pack.finalize();
  await done;
  await writeFile(path, Buffer.concat(chunks));
}

function listing(files: Array<{ path: string; data: string }>): unknown {
  return { format: CACHE_ARCHIVE_FORMAT, files: files.map((f) => ({ path: f.path, size: Buffer.byteLength(f.data), mode: 0o644, sha256: sha256(f.data) })) };
}

const good = { path: 'jobs/k/record.json', data: 'good' };
const rejected: Array<[string, unknown, Member[], RegExp, { maxFileBytes?: number }?]> = [
  ['a member whose bytes differ from the manifest', listing([good]), [{ name: good.path, data: 'evil' }], /has sha256 .* the manifest says/],
  ['a path escaping the cache', listing([{ path: '../escape', data: 'x' }]), [{ name: '../escape', data: 'x' }], /outside the cache/],
  ['an absolute path', listing([{ path: '/etc/passwd', data: 'x' }]), [{ name: '/etc/passwd', data: 'x' }], /outside the cache/],
  ['a hidden control file', listing([{ path: '.lock', data: 'x' }]), [{ name: '.lock', data: 'x' }], /outside the cache/],
  ['a symlink', listing([good]), [{ name: good.path, type: 'symlink', linkname: '/etc/passwd' }], /is a symlink/],
  ['a device', listing([good]), [{ name: 'jobs/k/dev', type: 'character-device' }], /is a character-device/],
  ['a member not in the manifest', listing([good]), [{ name: good.path, data: good.data }, { name: 'jobs/k/extra', data: 'x' }], /not listed in the manifest/],
  ['a truncated archive', listing([good, { path: 'jobs/k/rpm', data: 'rpm' }]), [{ name: good.path, data: good.data }], /missing from the archive/],
  ['an oversized member', listing([{ path: 'jobs/k/big', data: 'x'.repeat(2048) }]), [{ name: 'jobs/k/big', data: 'x'.repeat(2048) }], /over the 1024-byte limit/, { maxFileBytes: 1024 }],
  ['no manifest first', undefined, [{ name: good.path, data: good.data }], /first member/],
  ['a manifest of another format', { format: 'other/1', files: [] }, [], /not a strata-cache\/1 manifest/],
];

for (const [name, manifest, members, expected, options] of rejected) {
  test(`import rejects ${name} and leaves the cache as it was`, async (t) => {
    const dir = await scratch(t);
    const cache = join(dir, 'cache');
    await mkdir(join(cache, 'jobs', 'old'), { recursive: true });
    await writeFile(join(cache, 'jobs', 'old', 'record.json'), 'old');
    await craft(join(dir, 'bad.tar'), manifest, members);
    await assert.rejects(importCache(cache, join(dir, 'bad.tar'), options), expected);
    assert.deepEqual(await readdir(cache), ['jobs']);
    assert.deepEqual(await readdir(join(cache, 'jobs')), ['old']);
    assert.deepEqual(await readdir(dir), ['bad.tar', 'cache']);
  });
}

test('a damaged compressed archive is refused', async (t) => {
  const dir = await scratch(t);
  await makeCache(join(dir, 'a'));
  await exportCache(join(dir, 'a'), join(dir, 'cache.tar.gz'));
  const bytes = await readFile(join(dir, 'cache.tar.gz'));
  await writeFile(join(dir, 'cut.tar.gz'), bytes.subarray(0, bytes.length - 200));
  await assert.rejects(importCache(join(dir, 'b'), join(dir, 'cut.tar.gz')), /cannot be read|missing from the archive/);
  assert.deepEqual(await readdir(join(dir, 'b')), []);
});

test('safeArchivePath accepts plain relative paths only', () => {
  assert.equal(safeArchivePath('jobs/k/a.rpm'), true);
  for (const bad of ['', '/a', 'a/../b', './a', 'a//b', 'a\\b', '.hidden', 'jobs/.tmp']) assert.equal(safeArchivePath(bad), false, bad);
});

test('gc removes least-recently-used entries until under the limit', async (t) => {
  const dir = await scratch(t);
  const cache = join(dir, 'cache');
  const ages: Array<[string, number]> = [['oldest', 4], ['old', 3], ['new', 1], ['newest', 0]];
  const entry = (name: string): string => `jobs/${sha256(name)}`;
  for (const [name, daysAgo] of ages) {
    await mkdir(join(cache, entry(name)), { recursive: true });
    await writeFile(join(cache, entry(name), 'data'), 'x'.repeat(1000));
    const when = new Date(Date.now() - daysAgo * 86_400_000);
    await utimes(join(cache, entry(name), 'data'), when, when);
    await utimes(join(cache, entry(name)), when, when);
  }
  assert.deepEqual((await listCacheEntries(cache)).map((e) => e.entry), ['oldest', 'old', 'new', 'newest'].map(entry));
  // A use refreshes an entry: the oldest becomes the newest.
  await touchCacheEntry(cache, entry('oldest'));
  const dry = await gcCache(cache, { maxBytes: 2000, dryRun: true });
  assert.deepEqual(dry.removed.map((r) => r.entry), [entry('old'), entry('new')]);
  assert.equal((await readdir(join(cache, 'jobs'))).length, 4);
  const result = await gcCache(cache, { maxBytes: 2000 });
  assert.deepEqual(result, { before: 4000, after: 2000, removed: [{ entry: entry('old'), bytes: 1000 }, { entry: entry('new'), bytes: 1000 }], kept: 2 });
  assert.deepEqual((await readdir(join(cache, 'jobs'))).sort(), [sha256('oldest'), sha256('newest')].sort());
});

test('gc refuses while a build holds a lease, and a lease waits for a running gc', async (t) => {
  const dir = await scratch(t);
  const cache = join(dir, 'cache');
  // A lease of another live process (this test's parent stands in for a running build).
  await mkdir(join(cache, '.users'), { recursive: true });
  await writeFile(join(cache, '.users', 'build'), String(process.ppid));
  await assert.rejects(lockCacheForGc(cache), /a strata build \(pid \d+\) is using the cache/);
  // A lease whose process is gone does not block gc.
  await writeFile(join(cache, '.users', 'build'), '999999999');
  const gc = await lockCacheForGc(cache);
  let leased = false;
  const lease = leaseCache(cache).then((l) => {
    leased = true;
    return l;
  });
  await new Promise((resolvePromise) => setTimeout(resolvePromise, 500));
  assert.equal(leased, false, 'a build started while gc held the cache');
  await gc.release();
  await (await lease).release();
  assert.equal(leased, true);
  assert.deepEqual(await readdir(join(cache, '.users')), []);
});

test('parseSize reads the sizes users write', () => {
  const cases: Array<[string, number]> = [['1024', 1024], ['2G', 2 * 1024 ** 3], ['500M', 500 * 1024 ** 2], ['1.5GiB', 1.5 * 1024 ** 3], ['10k', 10240], ['3 TB', 3 * 1024 ** 4]];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
  assert.throws(() => parseSize('lots'), /not a size/);
});

/**
 * Hostile archives, made here with tar-stream, given to every place strata
 * unpacks or opens one: `strata cache import`, a tarball build root
 * (`[build.build-root] type = "tarball"`), and a source archive that a file
 * overlay edits. Each hostile member (absolute path, `..`, a symlink or a hard
 * link leading outside, a device node, a decompression bomb) must end in a
 * clean error (exit 1, one `error:` line, no internal error) with nothing
 * written: no escaped file on the host, no cache entry, no unpacked root, no
 * rendered output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { REPO, strata, CLI } from './helpers.js';
import { walkTree } from '../../src/util/paths.js';
import { sha256File } from '../../src/util/hash.js';
import { StrataError } from '../../src/util/errors.js';
import { importCache } from '../../src/build/cache-archive.js';
import { materializeRoot } from '../../src/build/build-root.js';
import { execa } from 'execa';

const token = randomBytes(6).toString('hex');
const EVIL = `strata-rel-evil-${token}`;
/** Where an escaping member would land on the host. */
const HOST_TARGET = join('/tmp', EVIL);
let tried = 0;

interface Member {
  name: string;
  type?: tar.Header['type'];
  data?: Buffer;
  linkname?: string;
  size?: number;
  devmajor?: number;
  devminor?: number;
  mode?: number;
}

/** A tar archive of `members`; a member with `size` but no data gets only its header (for bombs). */
async function makeTar(members: Member[], trailer: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const member of members) {
    const header: Partial<tar.Header> & { name: string } = {
      name: member.name,
      type: member.type ?? 'file',
      mode: member.mode ?? (member.type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(member.linkname !== undefined ? { linkname: member.linkname } : {}),
      ...(member.devmajor !== undefined ? { devmajor: member.devmajor, devminor: member.devminor ?? 0 } : {}),
    };
    if (member.size !== undefined && member.data === undefined) {
      // Header only: the data that follows is whatever the caller appends (a bomb's zeros).
      header.size = member.size;
      pack.entry(header);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return Buffer.concat([...chunks, trailer]);
    }
    await new Promise<void>((resolve, reject) => pack.entry(header, member.type === 'file' || member.type === undefined ? (member.data ?? Buffer.alloc(0)) : Buffer.alloc(0), (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await collected;
  return Buffer.concat([...chunks, trailer]);
}

/**
 * A gzip stream that inflates to `gib` GiB of zeros after `head`: concatenated
 * gzip members (which gunzip reads as one stream), so it costs a few MB to make.
 */
function gzipBomb(head: Buffer, gib: number): Buffer {
  const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const parts = [gzipSync(head)];
  for (let i = 0; i < gib * 16; i++) parts.push(zeros);
  return Buffer.concat(parts);
}

async function snapshot(root: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for (const entry of await walkTree(root).catch(() => [])) {
    // The folder of cache leases: a command holding the cache registers there and removes its entry when done.
    if (entry.path === '.users' && entry.type === 'dir' && (await readdir(entry.absPath)).length === 0) continue;
    state.set(entry.path, entry.type === 'file' ? await sha256File(entry.absPath) : entry.type);
  }
  return state;
}

/** A failed build prints its summary and errors on stdout (the report), other failures on stderr: both are read. */
function assertCleanError(result: { exitCode: number | undefined; stdout?: string; stderr: string }, pattern: RegExp, what: string): void {
  const errors = `${result.stdout ?? ''}\n${result.stderr}`.split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(result.exitCode, 1, `${what}: exit status\n${result.stderr}`);
  assert.ok(errors.length >= 1, `${what}: an error line\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /internal error|at .*\.js:\d+/, `${what}: no crash\n${result.stderr}`);
  assert.match(errors.join('\n'), pattern, `${what}\n${result.stderr}`);
}

async function assertNothingEscaped(what: string): Promise<void> {
  for (const path of [HOST_TARGET, join('/tmp', `${EVIL}-dir`), `/etc/${EVIL}`]) {
    assert.equal(await stat(path).catch(() => null), null, `${what}: ${path} must not exist`);
  }
}

after(async () => {
  for (const path of [HOST_TARGET, join('/tmp', `${EVIL}-dir`), `/etc/${EVIL}`]) await rm(path, { recursive: true, force: true });
  console.log(`# hostile archive cases tried: ${tried}`);
});

const deep = '../'.repeat(12);

/** Cases run through the CLI (exit status, error line); the others call the same function in process. */
const viaCli = (name: string): boolean => /^(dot-dot path|character device|decompression bomb \(9)/.test(name);

/** The hostile members every unpacker is given, each with what the error must say. */
const HOSTILE: Array<{ name: string; members: Member[] }> = [
  { name: 'absolute path', members: [{ name: `/tmp/${EVIL}`, data: Buffer.from('x') }] },
  { name: 'dot-dot path', members: [{ name: `${deep}tmp/${EVIL}`, data: Buffer.from('x') }] },
  {
    name: 'symlink to outside, then a file through it',
    members: [
      { name: 'link', type: 'symlink', linkname: '/tmp' },
      { name: `link/${EVIL}`, data: Buffer.from('x') },
    ],
  },
  {
    name: 'relative symlink climbing out, then a file through it',
    members: [
      { name: 'up', type: 'symlink', linkname: `${deep}tmp` },
      { name: `up/${EVIL}`, data: Buffer.from('x') },
    ],
  },
  { name: 'hard link to a host file', members: [{ name: 'hostname', type: 'link', linkname: `${deep}etc/hostname` }] },
  { name: 'character device', members: [{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }] },
  { name: 'block device', members: [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 }] },
];

// ---------------------------------------------------------------- cache import

/** A strata-cache/1 archive whose manifest lists `files`, followed by `members`. */
async function cacheArchive(files: Array<{ path: string; size: number; sha256: string }>, members: Member[], trailer?: Buffer): Promise<Buffer> {
  const manifest = Buffer.from(JSON.stringify({ format: 'strata-cache/1', files: files.map((f) => ({ ...f, mode: 0o644 })) }));
  return makeTar([{ name: 'strata-cache.json', data: manifest }, ...members], trailer);
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('strata cache import refuses every hostile member; the cache is left exactly as it was', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-rel-import-'));
  try {
    const cache = join(dir, 'cache');
    await mkdir(join(cache, 'jobs', 'a'.repeat(64)), { recursive: true });
    await writeFile(join(cache, 'jobs', 'a'.repeat(64), 'manifest.json'), '{}');
    const before = await snapshot(cache);
    const cases: Array<{ name: string; archive: Buffer; expect: RegExp; args?: string[] }> = [];
    for (const hostile of HOSTILE) {
      const files = hostile.members.filter((m) => (m.type ?? 'file') === 'file').map((m) => ({ path: m.name, size: m.data!.length, sha256: sha(m.data!) }));
      cases.push({ name: hostile.name, archive: await cacheArchive(files, hostile.members), expect: /outside the cache|holds regular files only|is a (symlink|link|character-device|block-device)/ });
    }
    // Listed honestly in the manifest (so only the manifest's own checks can stop it).
    cases.push({
      name: 'dot-dot path listed in the manifest',
      archive: await cacheArchive([{ path: `jobs/${deep}${EVIL}`, size: 1, sha256: sha(Buffer.from('x')) }], [{ name: `jobs/${deep}${EVIL}`, data: Buffer.from('x') }]),
      expect: /outside the cache/,
    });
    // Bombs: a member claiming 9 GiB (over the default 8 GiB ceiling), and 1 GiB of zeros under a 1 MiB --max-file-size.
    const bombHead = await cacheArchive([{ path: `jobs/${'b'.repeat(64)}/rpms/x.rpm`, size: 9 * 1024 ** 3, sha256: '0'.repeat(64) }], [{ name: `jobs/${'b'.repeat(64)}/rpms/x.rpm`, size: 9 * 1024 ** 3 }]);
    cases.push({ name: 'decompression bomb (9 GiB member)', archive: gzipBomb(bombHead, 1), expect: /over the \d+-byte limit/ });
    const smallHead = await cacheArchive([{ path: `jobs/${'c'.repeat(64)}/rpms/x.rpm`, size: 1024 ** 3, sha256: '0'.repeat(64) }], [{ name: `jobs/${'c'.repeat(64)}/rpms/x.rpm`, size: 1024 ** 3 }]);
    cases.push({ name: 'decompression bomb (1 GiB under --max-file-size 1M)', archive: gzipBomb(smallHead, 1), expect: /over the \d+-byte limit/, args: ['--max-file-size', '1M'] });
    for (const c of cases) {
      const archive = join(dir, `${c.name.replace(/\W+/g, '-')}.tar.gz`);
      await writeFile(archive, c.name.startsWith('decompression') ? c.archive : gzipSync(c.archive));
      const started = Date.now();
      if (viaCli(c.name)) {
        const result = await execa('node', [CLI, 'cache', 'import', archive, '--cache-dir', cache, ...(c.args ?? [])], { cwd: dir, reject: false, env: { NO_COLOR: '1' }, timeout: 60_000 });
        assertCleanError({ exitCode: result.exitCode, stderr: String(result.stderr) }, c.expect, `cache import: ${c.name}`);
      } else {
        // The same function the command runs, in process (a CLI start per case costs seconds on a loaded machine).
        const maxFileBytes = c.args ? 1024 * 1024 : undefined;
        await assert.rejects(importCache(cache, archive, { maxFileBytes }), (error: unknown) => {
          assert.ok(error instanceof StrataError, `cache import: ${c.name}: a StrataError, not ${String(error)}`);
          assert.equal(error.kind, 'input');
          assert.match(error.message, c.expect, `cache import: ${c.name}`);
          return true;
        });
      }
      assert.ok(Date.now() - started < 30_000, `${c.name}: refused quickly`);
      assert.deepEqual(await snapshot(cache), before, `cache import: ${c.name}: the cache must be unchanged`);
      await assertNothingEscaped(`cache import: ${c.name}`);
      tried++;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- tarball build root

async function baseProject(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `strata-rel-${tag}-`));
  const project = join(dir, 'project');
  await cp(join(REPO, 'test/bad-input/_base'), project, { recursive: true });
  return project;
}

test('a tarball build root with a hostile member: the build fails cleanly, no root is unpacked, nothing escapes', { timeout: 240_000 }, async () => {
  const project = await baseProject('root');
  try {
    const config = join(project, 'toolkit.config.toml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('type = "host"', 'type = "tarball"\npath = "root.tar.gz"'));
    const cases: Array<{ name: string; archive: Buffer; expect: RegExp }> = [];
    for (const hostile of HOSTILE) {
      const members: Member[] = [{ name: 'usr/', type: 'directory' }, { name: 'usr/bin/', type: 'directory' }, ...hostile.members];
      cases.push({ name: hostile.name, archive: gzipSync(await makeTar(members)), expect: /refusing (to import|imported root)/ });
    }
    const head = await makeTar([{ name: 'usr/', type: 'directory' }, { name: 'usr/zeros', size: 9 * 1024 ** 3 }]);
    cases.push({ name: 'decompression bomb (9 GiB member)', archive: gzipBomb(head, 1), expect: /refusing to import .* bytes \(limit/ });
    for (const c of cases) {
      await writeFile(join(project, 'root.tar.gz'), c.archive);
      if (!viaCli(c.name) && c.name !== 'absolute path') {
        // materializeRoot, as the executor calls it, in process.
        const sha256 = await sha256File(join(project, 'root.tar.gz'));
        const identity = { type: 'tarball' as const, id: sha256, provides: [], archives: [{ path: 'layer-000', sha256, size: c.archive.length, mode: 0o644 }] };
        await assert.rejects(materializeRoot(identity, new Map([[sha256, join(project, 'root.tar.gz')]]), join(project, '.strata-cache')), (error: unknown) => {
          assert.ok(error instanceof StrataError, `build root: ${c.name}: a StrataError, not ${String(error)}`);
          assert.match(error.message, c.expect, `build root: ${c.name}`);
          return true;
        });
        assert.deepEqual(await readdir(join(project, '.strata-cache/build/roots')).catch(() => [] as string[]), [], `build root: ${c.name}: nothing unpacked is kept`);
        await assertNothingEscaped(`build root: ${c.name}`);
        tried++;
        continue;
      }
      const result = await strata(project, ['build', '--arch', 'x86_64'], { timeoutMs: 120_000 });
      if (c.name === 'absolute path') {
        // By design (as GNU tar does) an absolute name is taken inside the root: no escape, the root is just useless here.
        await assertNothingEscaped(`build root: ${c.name}`);
        const roots = await readdir(join(project, '.strata-cache/build/roots')).catch(() => [] as string[]);
        for (const root of roots) assert.ok(await stat(join(project, '.strata-cache/build/roots', root, 'tmp', EVIL)), 'the absolute member lands inside the root');
        await rm(join(project, '.strata-cache/build/roots'), { recursive: true, force: true });
        await rm(join(project, 'out'), { recursive: true, force: true });
        tried++;
        continue;
      }
      assertCleanError(result, c.expect, `build root: ${c.name}`);
      const roots = await readdir(join(project, '.strata-cache/build/roots')).catch(() => [] as string[]);
      assert.deepEqual(roots, [], `build root: ${c.name}: nothing unpacked is kept (not even scratch)`);
      const rpms = (await readdir(join(project, 'out/repo/x86_64')).catch(() => [] as string[])).filter((n) => n.endsWith('.rpm'));
      assert.deepEqual(rpms, [], `build root: ${c.name}: no package published`);
      await assertNothingEscaped(`build root: ${c.name}`);
      tried++;
    }
  } finally {
    await rm(join(project, '..'), { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- overlay on a source archive

test('a file overlay on a source archive with a hostile member: render fails cleanly and writes nothing', { timeout: 180_000 }, async () => {
  const project = await baseProject('overlay-archive');
  try {
    await writeFile(
      join(project, 'overlays/hello.toml'),
      `[[components.hello.overlays]]
type = "file-search-replace"
description = "Edit a file inside the source archive."
archive = "hello-1.0.tar.gz"
file = "README"
regex = "hello"
replacement = "HELLO"
`,
    );
    const good = [
      { name: 'hello-1.0/', type: 'directory' as const },
      { name: 'hello-1.0/README', data: Buffer.from('this is hello\n') },
      { name: 'hello-1.0/hello.c', data: Buffer.from('int main(void) { return 0; }\n') },
    ];
    const cases: Array<{ name: string; members: Member[] }> = [
      { name: 'absolute path', members: [...good, { name: `/tmp/${EVIL}`, data: Buffer.from('x') }] },
      { name: 'dot-dot path', members: [...good, { name: `hello-1.0/${deep}tmp/${EVIL}`, data: Buffer.from('x') }] },
      { name: 'hard link to a host file', members: [...good, { name: 'hello-1.0/hostname', type: 'link', linkname: `${deep}etc/hostname` }] },
      { name: 'relative symlink climbing out of the archive', members: [...good, { name: 'hello-1.0/up', type: 'symlink', linkname: `${deep}etc` }] },
      { name: 'character device', members: [...good, { name: 'hello-1.0/null', type: 'character-device', devmajor: 1, devminor: 3 }] },
      { name: 'the edited file is a symlink to a host file', members: [good[0]!, good[2]!, { name: 'hello-1.0/README', type: 'symlink', linkname: '/etc/hostname' }] },
    ];
    const strict: string[] = [];
    for (const c of cases) {
      const archive = gzipSync(await makeTar(c.members));
      await writeFile(join(project, 'specs/hello/hello-1.0.tar.gz'), archive);
      await writeFile(join(project, 'specs/hello/hello.signatures.json'), JSON.stringify({ Signatures: { 'hello-1.0.tar.gz': sha(archive) } }));
      const before = await snapshot(project);
      const result = await strata(project, ['render']);
      tried++;
      if (result.exitCode === 0) {
        strict.push(c.name);
        await rm(join(project, 'out'), { recursive: true, force: true });
        continue;
      }
      assertCleanError(result, /hello-1\.0\.tar\.gz|archive/, `overlay archive: ${c.name}`);
      const after = await snapshot(project);
      for (const path of after.keys()) if (!before.has(path)) assert.match(path, /^\.strata-cache\//, `overlay archive: ${c.name}: render wrote ${path}`);
      await assertNothingEscaped(`overlay archive: ${c.name}`);
    }
    overlayAccepted = strict;
    console.log(`# overlay archives: accepted without error: ${strict.length ? strict.join('; ') : 'none'}`);
  } finally {
    await rm(join(project, '..'), { recursive: true, force: true });
  }
});

let overlayAccepted: string[] = [];

test(
  'the overlay engine refuses source archives whose links lead outside the archive',
    () => {
    assert.deepEqual(overlayAccepted, []);
  },
);

test(
  'a source-archive decompression bomb (1 MiB of gzip inflating 1000:1) is refused before it is inflated in memory',
  {
    timeout: 120_000,
  },
  async () => {
    const project = await baseProject('overlay-bomb');
    try {
      await writeFile(
        join(project, 'overlays/hello.toml'),
        `[[components.hello.overlays]]\ntype = "file-search-replace"\ndescription = "Edit a file inside the source archive."\narchive = "hello-1.0.tar.gz"\nfile = "README"\nregex = "hello"\nreplacement = "HELLO"\n`,
      );
      await rm(join(project, 'specs/hello/hello.signatures.json'));
      // 128 MiB of zeros behind a README: small enough to cost CI little even while the bug stands.
      const head = await makeTar([{ name: 'hello-1.0/', type: 'directory' }, { name: 'hello-1.0/README', data: Buffer.from('this is hello\n') }, { name: 'hello-1.0/zeros', size: 128 * 1024 ** 2 }]);
      const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      await writeFile(join(project, 'specs/hello/hello-1.0.tar.gz'), Buffer.concat([gzipSync(head), zeros, zeros, gzipSync(Buffer.alloc(1024))]));
      const result = await strata(project, ['render']);
      tried++;
      assertCleanError(result, /hello-1\.0\.tar\.gz/, 'overlay archive: decompression bomb');
      assert.equal(await stat(join(project, 'out/rendered')).catch(() => null), null, 'nothing rendered');
    } finally {
      await rm(join(project, '..'), { recursive: true, force: true });
    }
  },
);

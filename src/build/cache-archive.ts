/**
 * Moving the content-addressed cache between machines (CI runs) and keeping
 * it small: `strata cache export|import|gc`.
 *
 * The cache is a set of entries. Walking down from the cache folder, the
 * first path segment whose name carries a digest (16 or more hex digits:
 * `build/roots/<id>`, `build/seeds/<hex>.rpm`, `jobs/<key>`), or else the
 * regular file itself (`build/digests.json`), is an entry; the folders above
 * it are buckets. Entries are the unit of installing and deleting, so a reader
 * sees an entry completely or not at all. Names that start with a dot
 * (temporary files of atomic writes, locks, staging folders) are never
 * exported, imported or counted.
 *
 * Only portable entries travel: an entry holding symlinks or special files
 * (an unpacked build root) is derived data that the build recreates from
 * its blobs, and an archive member that is a link is refused on import.
 * Host-local memos (the digest memo, keyed by path and inode) stay home too.
 *
 * Archive format (`strata-cache/1`): a tar (optionally gzip-compressed) whose
 * first member is `strata-cache.json`, the list of every file with its size,
 * mode and SHA-256, followed by those files in the same (byte-sorted) order.
 * Every header has mtime 0, uid/gid 0 and no user names, so the same cache
 * exports to the same bytes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { z } from 'zod';
import { tempSibling } from '../util/atomic.js';
import { StrataError } from '../util/errors.js';
import { processAlive } from '../util/process.js';

export const CACHE_ARCHIVE_FORMAT = 'strata-cache/1';
export const MANIFEST_NAME = 'strata-cache.json';
/** Default ceiling for one file in an imported archive; a cache never holds bigger blobs than images do. */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 3;
const MAX_MANIFEST_BYTES = 256 * 1024 ** 2;

const manifestFile = z.strictObject({
  path: z.string(),
  size: z.number().int().nonnegative(),
  mode: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const manifestSchema = z.strictObject({
  format: z.literal(CACHE_ARCHIVE_FORMAT),
  files: z.array(manifestFile),
});
export type CacheManifest = z.infer<typeof manifestSchema>;
export type CacheManifestFile = z.infer<typeof manifestFile>;

function hidden(name: string): boolean {
  return name.startsWith('.');
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const DIGEST_NAME = /[0-9a-f]{16,}/;

/**
 * Cache files that only mean something on the host that wrote them: the
 * digest memo is keyed by absolute path and inode (DigestCache), so another
 * clone could never use it.
 */
const HOST_LOCAL = new Set(['build/digests.json']);

/** The entry a cache-relative file path belongs to (see the module comment). */
export function entryOf(relPath: string): string {
  const parts = relPath.split('/');
  const at = parts.findIndex((part, i) => i === parts.length - 1 || DIGEST_NAME.test(part));
  return parts.slice(0, at + 1).join('/');
}

/**
 * A relative path as found in an archive, accepted only when it is plain:
 * no absolute path, no `.`/`..`/empty segment, no hidden segment, no NUL or
 * backslash. Anything else could write outside the cache or into its control files.
 */
export function safeArchivePath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..' && !hidden(segment));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export interface CacheFile {
  /** Relative to the cache folder, '/'-separated. */
  path: string;
  absPath: string;
  size: number;
  /** 0o755 or 0o644: the only modes an archive carries. */
  mode: number;
}

export interface CacheEntryInfo {
  /** Relative to the cache folder, e.g. `build/roots/3f…`. */
  entry: string;
  bytes: number;
  /** Last use in ms since the epoch: the newest modification time of the entry or anything in it. */
  lastUsed: number;
  /** Regular files only (no links, devices): the entry can travel in an archive. */
  portable: boolean;
  files: CacheFile[];
}

/** Every entry of the cache with its files, size and last use, sorted by name. */
export async function scanCache(cacheDir: string): Promise<CacheEntryInfo[]> {
  if (!(await exists(cacheDir))) return [];
  const entries = new Map<string, CacheEntryInfo>();
  const entryFor = (rel: string): CacheEntryInfo => {
    const name = entryOf(rel);
    let info = entries.get(name);
    if (!info) entries.set(name, (info = { entry: name, bytes: 0, lastUsed: 0, portable: true, files: [] }));
    return info;
  };
  async function visit(dir: string, rel: string): Promise<void> {
    for (const dirent of await readdir(dir, { withFileTypes: true })) {
      if (hidden(dirent.name)) continue;
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      const absPath = join(dir, dirent.name);
      const st = await lstat(absPath);
      if (dirent.isDirectory()) {
        // A folder that is (or is inside) an entry: its own mtime records a use (touchCacheEntry).
        if (DIGEST_NAME.test(childRel)) {
          const info = entryFor(`${childRel}/x`);
          info.lastUsed = Math.max(info.lastUsed, st.mtimeMs);
        }
        await visit(absPath, childRel);
        continue;
      }
      const info = entryFor(childRel);
      info.bytes += st.size;
      info.lastUsed = Math.max(info.lastUsed, st.mtimeMs);
      if (dirent.isFile()) info.files.push({ path: childRel, absPath, size: st.size, mode: st.mode & 0o111 ? 0o755 : 0o644 });
      else info.portable = false;
    }
  }
  await visit(cacheDir, '');
  for (const info of entries.values()) info.files.sort((a, b) => byteOrder(a.path, b.path));
  return [...entries.values()].sort((a, b) => byteOrder(a.entry, b.entry));
}

function hashingTap(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

export interface ExportResult {
  archive: string;
  files: number;
  bytes: number;
  entries: number;
  /** Entries left out because they hold links or special files (the build recreates them). */
  skipped: string[];
}

/**
 * Writes the whole cache as a deterministic archive (`.tar`, or gzip when the
 * name ends in `.gz`/`.tgz`). The archive appears under its name only when complete.
 */
export async function exportCache(cacheDir: string, archivePath: string): Promise<ExportResult> {
  const entries = await scanCache(cacheDir);
  const portable = entries.filter((entry) => entry.portable && !HOST_LOCAL.has(entry.entry));
  const files = portable.flatMap((entry) => entry.files).sort((a, b) => byteOrder(a.path, b.path));
  // Hash first: the manifest leads the archive so that import can check each member as it streams by.
  const manifest: CacheManifest = { format: CACHE_ARCHIVE_FORMAT, files: [] };
  for (const file of files) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file.absPath)) hash.update(chunk as Buffer);
    manifest.files.push({ path: file.path, size: file.size, mode: file.mode, sha256: hash.digest('hex') });
  }
  const pack = tar.pack();
  const header = (name: string, size: number, mode: number): Partial<tar.Header> & { name: string } => ({
    name,
    size,
    mode,
    mtime: new Date(0),
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    type: 'file',
  });
  const fill = async (): Promise<void> => {
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
    await new Promise<void>((resolvePromise, reject) => {
      pack.entry(header(MANIFEST_NAME, manifestBytes.length, 0o644), manifestBytes, (error) => (error ? reject(error) : resolvePromise()));
    });
    for (const [i, file] of files.entries()) {
      const record = manifest.files[i]!;
      const hash = createHash('sha256');
      const sink = pack.entry(header(file.path, record.size, record.mode));
      await pipeline(createReadStream(file.absPath), hashingTap(hash), sink);
      if (hash.digest('hex') !== record.sha256) {
        throw new StrataError(`cache file ${file.path} changed while it was being exported`, {
          hint: 'export when no build is running (a build may be writing to the cache)',
        });
      }
    }
    pack.finalize();
  };
  const tmp = tempSibling(archivePath);
  await mkdir(dirname(archivePath), { recursive: true });
  const compress = /\.(gz|tgz)$/.test(archivePath);
  try {
    const write = compress ? pipeline(pack, createGzip({ level: 6 }), createWriteStream(tmp)) : pipeline(pack, createWriteStream(tmp));
    await Promise.all([
      fill().catch((error: unknown) => {
        pack.destroy(error as Error);
        throw error;
      }),
      write,
    ]);
    await rename(tmp, archivePath);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const bytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
  return {
    archive: archivePath,
    files: files.length,
    bytes,
    entries: portable.length,
    skipped: entries.filter((entry) => !entry.portable).map((entry) => entry.entry),
  };
}

export interface ImportOptions {
  maxFileBytes?: number;
}

export interface ImportResult {
  archive: string;
  files: number;
  bytes: number;
  /** Entries that were new and are now in the cache. */
  installed: string[];
  /** Entries the cache already had; the cache's copy is kept (same key, same content). */
  kept: string[];
}

function corrupt(archive: string, message: string, hint = 'the archive is damaged or was not written by strata cache export; nothing was installed'): StrataError {
  return new StrataError(`${archive}: ${message}`, { hint });
}

/** gzip is recognised by its magic bytes, whatever the file is called. */
async function openArchive(archivePath: string): Promise<Readable> {
  const head = Buffer.alloc(2);
  const handle = await open(archivePath, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(archivePath);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.on('error', (error) => gunzip.destroy(error));
    return raw.pipe(gunzip);
  }
  return raw;
}

/**
 * Restores an archive into the cache. Every member is checked against the
 * manifest (path, type, size, SHA-256) while it is unpacked into a staging
 * folder inside the cache; only when the whole archive checked out are the
 * entries renamed into place, one rename per entry. A damaged archive changes nothing.
 */
export async function importCache(cacheDir: string, archivePath: string, options: ImportOptions = {}): Promise<ImportResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  try {
    await stat(archivePath);
  } catch {
    throw new StrataError(`cache archive ${archivePath} does not exist`, { hint: 'give the path strata cache export wrote' });
  }
  await mkdir(cacheDir, { recursive: true });
  const staging = join(cacheDir, `.import-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    const manifest = await unpackVerified(archivePath, staging, maxFileBytes);
    const entries = [...new Set(manifest.files.map((file) => entryOf(file.path)))].sort(byteOrder);
    const installed: string[] = [];
    const kept: string[] = [];
    for (const entry of entries) {
      const target = join(cacheDir, entry);
      if (await exists(target)) {
        kept.push(entry);
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(join(staging, entry), target);
      } catch (error) {
        // A build running meanwhile produced the same entry first: same key, same content.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        kept.push(entry);
        continue;
      }
      installed.push(entry);
    }
    return {
      archive: archivePath,
      files: manifest.files.length,
      bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
      installed,
      kept,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function unpackVerified(archivePath: string, staging: string, maxFileBytes: number): Promise<CacheManifest> {
  const extract = tar.extract();
  const source = await openArchive(archivePath);
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  let manifest: CacheManifest | undefined;
  const expected = new Map<string, CacheManifestFile>();
  const seen = new Set<string>();
  try {
    for await (const member of extract) {
      const { name, type, size = 0 } = member.header;
      if (type !== 'file') {
        throw corrupt(archivePath, `member ${JSON.stringify(name)} is a ${type}; a cache archive holds regular files only`);
      }
      if (manifest === undefined) {
        if (name !== MANIFEST_NAME) throw corrupt(archivePath, `the first member is ${JSON.stringify(name)}, not ${MANIFEST_NAME}`);
        manifest = await readManifest(archivePath, member, size, maxFileBytes);
        for (const file of manifest.files) expected.set(file.path, file);
        continue;
      }
      const want = expected.get(name);
      if (!safeArchivePath(name)) throw corrupt(archivePath, `member ${JSON.stringify(name)} would be written outside the cache`);
      if (want === undefined) throw corrupt(archivePath, `member ${name} is not listed in the manifest`);
      if (seen.has(name)) throw corrupt(archivePath, `member ${name} appears twice`);
      if (size !== want.size) throw corrupt(archivePath, `member ${name} is ${size} bytes, the manifest says ${want.size}`);
      if (size > maxFileBytes) throw corrupt(archivePath, `member ${name} is ${size} bytes, over the ${maxFileBytes}-byte limit`, 'raise --max-file-size if the cache really holds files this big');
      seen.add(name);
      const target = join(staging, name);
      await mkdir(dirname(target), { recursive: true });
      const hash = createHash('sha256');
      await pipeline(member, hashingTap(hash), createWriteStream(target, { mode: want.mode === 0o755 ? 0o755 : 0o644 }));
      const digest = hash.digest('hex');
      if (digest !== want.sha256) throw corrupt(archivePath, `member ${name} has sha256 ${digest}, the manifest says ${want.sha256}`);
    }
  } catch (error) {
    extract.destroy();
    source.destroy();
    if (error instanceof StrataError) throw error;
    throw corrupt(archivePath, `cannot be read: ${(error as Error).message}`);
  }
  if (manifest === undefined) throw corrupt(archivePath, 'is empty (no manifest)');
  const missing = manifest.files.filter((file) => !seen.has(file.path));
  if (missing.length > 0) {
    throw new StrataError(`${archivePath}: ${missing.length} file(s) listed in the manifest are missing from the archive`, {
      details: missing.slice(0, 10).map((file) => file.path),
      hint: 'the archive is truncated; export it again. Nothing was installed',
    });
  }
  return manifest;
}

async function readManifest(archivePath: string, member: AsyncIterable<unknown>, size: number, maxFileBytes: number): Promise<CacheManifest> {
  if (size > MAX_MANIFEST_BYTES) throw corrupt(archivePath, `its manifest is ${size} bytes, too big to be real`);
  const chunks: Buffer[] = [];
  for await (const chunk of member) chunks.push(chunk as Buffer);
  let parsed: CacheManifest;
  try {
    parsed = manifestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (error) {
    throw corrupt(archivePath, `its manifest is not a ${CACHE_ARCHIVE_FORMAT} manifest: ${(error as Error).message.split('\n')[0]}`);
  }
  const paths = new Set<string>();
  const folders = new Set<string>();
  for (const file of parsed.files) {
    if (!safeArchivePath(file.path)) throw corrupt(archivePath, `its manifest names ${JSON.stringify(file.path)}, which would be written outside the cache`);
    if (paths.has(file.path)) throw corrupt(archivePath, `its manifest lists ${file.path} twice`);
    if (file.size > maxFileBytes) throw corrupt(archivePath, `its manifest lists ${file.path} at ${file.size} bytes, over the ${maxFileBytes}-byte limit`, 'raise --max-file-size if the cache really holds files this big');
    paths.add(file.path);
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  const clash = [...paths].find((path) => folders.has(path));
  if (clash !== undefined) throw corrupt(archivePath, `its manifest uses ${clash} as both a file and a folder`);
  return parsed;
}

/** The entries of the cache, least recently used first (the order gc deletes in). */
export async function listCacheEntries(cacheDir: string): Promise<CacheEntryInfo[]> {
  return (await scanCache(cacheDir)).sort((a, b) => a.lastUsed - b.lastUsed || byteOrder(a.entry, b.entry));
}

const USERS_DIR = '.users';
const GC_LOCK = '.gc.lock';

async function holder(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : null;
}

export interface CacheLease {
  release(): Promise<void>;
}

/**
 * Marks the cache as in use for as long as a build runs, so that
 * `strata cache gc` never deletes an entry under it. Each side first
 * announces itself and then looks for the other (a build: its lease, then the
 * gc lock; gc: its lock, then the leases), so the two can never both go ahead.
 * While a gc runs, a new lease waits for it to finish.
 */
export async function leaseCache(cacheDir: string, signal?: AbortSignal): Promise<CacheLease> {
  const users = join(cacheDir, USERS_DIR);
  await mkdir(users, { recursive: true });
  const mine = join(users, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(mine, String(process.pid));
  try {
    while ((await holder(join(cacheDir, GC_LOCK))) !== null) {
      if (signal?.aborted) throw new StrataError('interrupted', { kind: 'interrupted' });
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
    }
  } catch (error) {
    await rm(mine, { force: true });
    throw error;
  }
  return { release: () => rm(mine, { force: true }) };
}

/** Holds the cache for gc: no build may hold a lease meanwhile. */
export async function lockCacheForGc(cacheDir: string): Promise<CacheLease> {
  await mkdir(cacheDir, { recursive: true });
  const lock = join(cacheDir, GC_LOCK);
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = await holder(lock);
      if (pid !== null) {
        throw new StrataError(`another strata cache gc (pid ${pid}) is running on ${cacheDir}`, { hint: 'wait for it to finish' });
      }
      // Left behind by a gc that died: take it over.
      await rm(lock, { force: true });
    }
  }
  const users = await readdir(join(cacheDir, USERS_DIR)).catch(() => [] as string[]);
  for (const user of users) {
    const pid = await holder(join(cacheDir, USERS_DIR, user));
    if (pid === null) {
      await rm(join(cacheDir, USERS_DIR, user), { force: true });
    } else if (pid !== process.pid) {
      await rm(lock, { force: true });
      throw new StrataError(`a strata build (pid ${pid}) is using the cache ${cacheDir}`, {
        hint: 'run strata cache gc when no build is running (in CI: after the build step)',
      });
    }
  }
  return { release: () => rm(lock, { force: true }) };
}

/**
 * Records that an entry was just used (a cache hit), so that gc keeps it over
 * entries nobody needed for longer. Use is tracked by mtime, not atime: hosts
 * mount with relatime or noatime, and merely scanning or exporting the cache
 * would refresh atimes.
 */
export async function touchCacheEntry(cacheDir: string, entry: string): Promise<void> {
  const now = new Date();
  await utimes(join(cacheDir, entry), now, now);
}

export interface GcOptions {
  maxBytes: number;
  dryRun?: boolean;
}

export interface GcResult {
  before: number;
  after: number;
  removed: Array<{ entry: string; bytes: number }>;
  kept: number;
}

/**
 * Removes least-recently-used entries until the cache is at most `maxBytes`.
 * Each entry is first renamed to a hidden name (one atomic step: readers see
 * it whole or not at all), then deleted. Call it under lockCacheForGc, which
 * guarantees no build is using any entry.
 */
export async function gcCache(cacheDir: string, options: GcOptions): Promise<GcResult> {
  const entries = await listCacheEntries(cacheDir);
  const before = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  let total = before;
  const removed: GcResult['removed'] = [];
  for (const entry of entries) {
    if (total <= options.maxBytes) break;
    if (!options.dryRun) {
      const doomed = join(cacheDir, `.gc-${process.pid}-${randomBytes(4).toString('hex')}`);
      await rename(join(cacheDir, entry.entry), doomed);
      await rm(doomed, { recursive: true, force: true });
    }
    removed.push({ entry: entry.entry, bytes: entry.bytes });
    total -= entry.bytes;
  }
  return { before, after: total, removed, kept: entries.length - removed.length };
}

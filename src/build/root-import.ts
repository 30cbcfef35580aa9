/**
 * Unpacks a root filesystem from tar archives (a tarball, or the layers of an
 * OCI image in order) with tar-stream, refusing anything that could reach
 * outside the root or that has no business in a build root: paths escaping
 * through `..` or symlinks, device nodes, absurd sizes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join, normalize, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { StrataError } from '../util/errors.js';
import { isInside, walkTree } from '../util/paths.js';

export interface ImportLimits {
  /** Largest single file accepted. */
  maxEntryBytes: number;
  /** Largest unpacked total accepted. */
  maxTotalBytes: number;
  maxEntries: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxEntryBytes: 8 * 1024 ** 3,
  maxTotalBytes: 64 * 1024 ** 3,
  maxEntries: 2_000_000,
};

/** Opens an archive, decompressing gzip in-process and xz/zstd/bzip2 through the host tools. */
async function openDecompressed(path: string): Promise<Readable> {
  const head = Buffer.alloc(6);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 6, 0);
  } finally {
    await handle.close();
  }
  const tool =
    head[0] === 0xfd && head.subarray(1, 6).toString('latin1') === '7zXZ\0'
      ? 'xz'
      : head.readUInt32LE(0) === 0xfd2fb528
        ? 'zstd'
        : head.subarray(0, 3).toString('latin1') === 'BZh'
          ? 'bzip2'
          : null;
  if (head[0] === 0x1f && head[1] === 0x8b) return createReadStream(path).pipe(createGunzip());
  if (tool === null) return createReadStream(path);
  const child = spawn(tool, ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.on('error', () => child.stdout.destroy(new Error(`${tool} is needed to unpack ${path}`)));
  return child.stdout;
}

function reject(archive: string, entry: string, why: string): StrataError {
  return new StrataError(`refusing to import ${archive}: entry '${entry}' ${why}`, {
    kind: 'input',
    hint: 'build roots must be plain file trees: no device nodes, no paths leaving the root',
  });
}

/** Resolves `rel` inside `root` without following a symlink that leads outside. */
async function safeTarget(root: string, rel: string, archive: string, entry: string): Promise<string> {
  // Absolute names are taken relative to the root, as GNU tar does.
  const clean = normalize(rel.replace(/^\/+/, '')).replace(/^(\.\/)+/, '');
  if (clean === '' || clean === '.') return root;
  const target = join(root, clean);
  if (!isInside(root, target)) throw reject(archive, entry, 'leaves the root');
  // Every existing parent must be a real directory: a symlink parent could point anywhere.
  let dir = dirname(target);
  while (dir !== root && isInside(root, dir)) {
    const st = await lstat(dir).catch(() => null);
    if (st?.isSymbolicLink()) throw reject(archive, entry, `goes through the symlink ${dir.slice(root.length)}`);
    dir = dirname(dir);
  }
  return target;
}

/**
 * Unpacks `archives` in order into `root` (which must exist and be empty at
 * first). OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`) of later layers remove
 * what earlier layers put there.
 */
export async function unpackArchives(archives: string[], root: string, limits: ImportLimits = DEFAULT_IMPORT_LIMITS): Promise<void> {
  const counters = { total: 0, entries: 0 };
  for (const archive of archives) {
    const extract = tar.extract();
    const source = await openDecompressed(archive);
    const done = pipeline(source, extract);
    try {
      await unpackEntries(extract, archive, root, limits, counters);
    } catch (error) {
      // Stop reading; the pipeline's own "premature close" is a consequence, not news.
      source.destroy();
      extract.destroy();
      await done.catch(() => undefined);
      throw error;
    }
    await done;
  }
  await checkSymlinksStayInside(root);
}

async function unpackEntries(extract: tar.Extract, archive: string, root: string, limits: ImportLimits, counters: { total: number; entries: number }): Promise<void> {
  for await (const entry of extract) {
    const header = entry.header;
    const name = header.name.replace(/^\/+/, '');
    if (++counters.entries > limits.maxEntries) throw reject(archive, name, `is past the limit of ${limits.maxEntries} entries`);
    if (header.size > limits.maxEntryBytes) throw reject(archive, name, `is ${header.size} bytes (limit ${limits.maxEntryBytes})`);
    counters.total += header.size;
    if (counters.total > limits.maxTotalBytes) throw reject(archive, name, `takes the root past ${limits.maxTotalBytes} bytes`);
    if (name.split('/').includes('..')) throw reject(archive, name, 'contains ..');
    const base = posix.basename(name);
    if (base.startsWith('.wh.')) {
      const target = await safeTarget(root, posix.dirname(name), archive, name);
      if (base === '.wh..wh..opq') {
        await rm(target, { recursive: true, force: true });
        await mkdir(target, { recursive: true });
      } else {
        await rm(join(target, base.slice(4)), { recursive: true, force: true });
      }
      entry.resume();
      continue;
    }
    const target = await safeTarget(root, name, archive, name);
    switch (header.type) {
      case 'directory':
        await mkdir(target, { recursive: true });
        await chmod(target, header.mode & 0o7777);
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file': {
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true, recursive: true });
        await pipeline(entry, createWriteStream(target, { mode: header.mode & 0o7777 }));
        await chmod(target, header.mode & 0o7777);
        await utimes(target, header.mtime, header.mtime);
        break;
      }
      case 'symlink':
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true, recursive: true });
        await symlink(header.linkname, target);
        entry.resume();
        break;
      case 'link': {
        const source = await safeTarget(root, header.linkname.replace(/^\/+/, ''), archive, name);
        if ((await lstat(source).catch(() => null))?.isFile() !== true) throw reject(archive, name, `is a hard link to a missing file ${header.linkname}`);
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true, recursive: true });
        await link(source, target);
        entry.resume();
        break;
      }
      default:
        throw reject(archive, name, `is a ${header.type}`);
    }
  }
}

/**
 * Absolute symlinks are fine (they resolve inside the sandbox's own root), but
 * no relative link may climb out of the root when followed from the host.
 */
async function checkSymlinksStayInside(root: string): Promise<void> {
  for (const entry of await walkTree(root)) {
    if (entry.type !== 'symlink') continue;
    const target = await readlink(entry.absPath);
    if (target.startsWith('/')) continue;
    if (!isInside(root, join(dirname(entry.absPath), target))) {
      throw new StrataError(`refusing imported root: symlink /${entry.path} -> ${target} leaves the root`, { kind: 'input' });
    }
  }
}

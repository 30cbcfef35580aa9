/**
 * Source archives opened for file overlays and written back deterministically:
 * entries sorted by path, owner root:root, every mtime set to the distro's
 * source-date-epoch, the same compression as the original.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { run } from '../../util/process.js';
import { isConfinedRelative } from './glob.js';
import { sortedPaths, type FileSet } from './tree.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'bzip2';

interface ArchiveEntry {
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  data: Buffer;
  linkname?: string;
}

/** A problem with the archive itself (the engine turns it into a located error). */
export class ArchiveProblem extends Error {}

export function detectCompression(bytes: Buffer): Compression {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (bytes.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** xz and bzip2 run as host tools on temporary files (their output is binary). */
async function viaTool(tool: 'xz' | 'bzip2', args: string[], input: Buffer, suffix: string, outName: (name: string) => string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-archive-'));
  try {
    const name = join(dir, `data${suffix}`);
    await writeFile(name, input);
    await run(tool, [...args, name]);
    return await readFile(outName(name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Source archives are edited in memory. One that inflates past 64 MiB at more
 * than 100:1 (real sources compress 3–10:1) is a decompression bomb, and none
 * may inflate past 2 GiB; both are refused before they are held whole.
 */
const INFLATE_FLOOR = 64 * 1024 ** 2;
const INFLATE_RATIO = 100;
const INFLATE_MAX = 2 * 1024 ** 3;

function inflateLimit(compressedSize: number): number {
  return Math.min(INFLATE_MAX, Math.max(INFLATE_FLOOR, compressedSize * INFLATE_RATIO));
}

function tooLarge(limit: number): ArchiveProblem {
  return new ArchiveProblem(`inflates past ${limit} bytes (more than ${INFLATE_RATIO}:1 beyond ${INFLATE_FLOOR / 1024 ** 2} MiB, or over ${INFLATE_MAX / 1024 ** 3} GiB): refused as a decompression bomb`);
}

async function decompress(bytes: Buffer, compression: Compression): Promise<Buffer> {
  const limit = inflateLimit(bytes.length);
  let inflated: Buffer;
  switch (compression) {
    case 'gzip':
      try {
        inflated = gunzipSync(bytes, { maxOutputLength: limit });
      } catch (error) {
        if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
        throw error;
      }
      break;
    case 'xz':
      inflated = await viaTool('xz', ['-d', '-q'], bytes, '.xz', (n) => n.slice(0, -3));
      break;
    case 'bzip2':
      inflated = await viaTool('bzip2', ['-d', '-q'], bytes, '.bz2', (n) => n.slice(0, -4));
      break;
    case 'none':
      return bytes;
  }
  if (inflated.length > limit) throw tooLarge(limit);
  return inflated;
}

async function compress(bytes: Buffer, compression: Compression): Promise<Buffer> {
  switch (compression) {
    case 'gzip':
      return gzipSync(bytes, { level: 9 });
    case 'xz':
      // Single-threaded: multi-threaded xz splits blocks by timing-independent but core-count-dependent sizes.
      return viaTool('xz', ['-z', '-q', '-6', '-T1'], bytes, '', (n) => `${n}.xz`);
    case 'bzip2':
      return viaTool('bzip2', ['-z', '-q', '-9'], bytes, '', (n) => `${n}.bz2`);
    case 'none':
      return bytes;
  }
}

function normaliseName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** A symlink resolves from its own folder, a hard link from the archive root; neither may leave it. */
function linkStaysInside(name: string, type: string | null | undefined, target: string): boolean {
  if (posix.isAbsolute(target)) return false;
  const resolved = type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), target)) : posix.normalize(target);
  return isConfinedRelative(resolved.replace(/\/+$/, ''));
}

async function readTar(bytes: Buffer): Promise<Map<string, ArchiveEntry>> {
  const entries = new Map<string, ArchiveEntry>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const header = entry.header;
      const name = normaliseName(header.name);
      if (name === '') continue;
      if (!isConfinedRelative(name)) throw new ArchiveProblem(`entry '${header.name}' escapes the archive root`);
      const type = header.type;
      if (header.linkname && !linkStaysInside(name, type, header.linkname)) {
        throw new ArchiveProblem(`${type === 'link' ? 'hard link' : 'symlink'} '${header.name}' points outside the archive root (to '${header.linkname}')`);
      }
      if (type !== 'file' && type !== 'directory' && type !== 'symlink' && type !== 'link' && type !== 'contiguous-file') {
        throw new ArchiveProblem(`entry '${header.name}' has type ${type}, which source archives should not contain`);
      }
      entries.set(name, {
        type: type === 'contiguous-file' ? 'file' : type,
        mode: (header.mode ?? 0o644) & 0o7777,
        data: Buffer.concat(chunks),
        ...(header.linkname ? { linkname: header.linkname } : {}),
      });
    }
  })();
  Readable.from([bytes]).pipe(extract);
  await done;
  return entries;
}

async function writeTar(entries: Map<string, ArchiveEntry>, mtime: Date): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const name of sortedPaths(entries.keys())) {
    const entry = entries.get(name)!;
    const header = {
      name: entry.type === 'directory' ? `${name}/` : name,
      mode: entry.mode,
      type: entry.type,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      mtime,
      ...(entry.linkname ? { linkname: entry.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      pack.entry(header, entry.type === 'file' ? entry.data : Buffer.alloc(0), done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** The files below an archive's root (`archive-root`, else its single top folder). */
export class ArchiveFiles implements FileSet {
  readonly label: string;
  private dirty = false;

  private constructor(
    readonly archiveName: string,
    private readonly compression: Compression,
    private readonly entries: Map<string, ArchiveEntry>,
    readonly root: string,
  ) {
    this.label = `archive ${archiveName}${root ? `, below ${root}/` : ''}`;
  }

  static async open(archiveName: string, bytes: Buffer, requestedRoot: string | undefined): Promise<ArchiveFiles> {
    const compression = detectCompression(bytes);
    const tarBytes = await decompress(bytes, compression).catch((error: unknown) => {
      throw new ArchiveProblem(`cannot be decompressed (${compression}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    });
    if (tarBytes.length < 512 || tarBytes.subarray(257, 262).toString('latin1') !== 'ustar') {
      throw new ArchiveProblem('is not a tar archive (tar, tar.gz, tar.xz or tar.bz2)');
    }
    const entries = await readTar(tarBytes).catch((error: unknown) => {
      throw error instanceof ArchiveProblem ? error : new ArchiveProblem(`is a damaged tar archive: ${error instanceof Error ? error.message : String(error)}`);
    });
    const root = requestedRoot === undefined ? inferRoot(entries) : normaliseName(requestedRoot);
    if (requestedRoot !== undefined && root !== '' && ![...entries.keys()].some((name) => name.startsWith(`${root}/`))) {
      throw new ArchiveProblem(`has no folder '${root}' (archive-root)`);
    }
    return new ArchiveFiles(archiveName, compression, entries, root);
  }

  get changed(): boolean {
    return this.dirty;
  }

  private full(path: string): string {
    return this.root === '' ? path : `${this.root}/${path}`;
  }

  paths(): string[] {
    const prefix = this.root === '' ? '' : `${this.root}/`;
    const out: string[] = [];
    for (const [name, entry] of this.entries) {
      if (entry.type === 'file' && name.startsWith(prefix)) out.push(name.slice(prefix.length));
    }
    return sortedPaths(out);
  }
  has(path: string): boolean {
    return this.entries.has(this.full(path));
  }
  async read(path: string): Promise<Buffer> {
    return this.get(path).data;
  }
  mode(path: string): number {
    return this.get(path).mode;
  }
  write(path: string, data: Buffer, mode: number): void {
    const full = this.full(path);
    // Parent folders appear as entries so the rewritten archive extracts the same way.
    const parts = full.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.entries.has(dir)) this.entries.set(dir, { type: 'directory', mode: 0o755, data: Buffer.alloc(0) });
    }
    this.entries.set(full, { type: 'file', mode, data });
    this.dirty = true;
  }
  remove(path: string): void {
    this.entries.delete(this.full(path));
    this.dirty = true;
  }
  rename(from: string, to: string): void {
    const entry = this.get(from);
    this.entries.delete(this.full(from));
    this.entries.set(this.full(to), entry);
    this.dirty = true;
  }

  /** The archive's new bytes. */
  async pack(sourceDateEpoch: number): Promise<Buffer> {
    const tarBytes = await writeTar(this.entries, new Date(sourceDateEpoch * 1000));
    return compress(tarBytes, this.compression);
  }

  private get(path: string): ArchiveEntry {
    const entry = this.entries.get(this.full(path));
    if (!entry || entry.type !== 'file') throw new Error(`no file ${path} in ${this.label}`);
    return entry;
  }
}

function inferRoot(entries: Map<string, ArchiveEntry>): string {
  const tops = new Set<string>();
  for (const name of entries.keys()) tops.add(name.split('/')[0]!);
  if (tops.size !== 1) return '';
  const [top] = tops;
  const entry = entries.get(top!);
  const isDir = entry ? entry.type === 'directory' : [...entries.keys()].some((n) => n.startsWith(`${top}/`));
  return isDir ? top! : '';
}

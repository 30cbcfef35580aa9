/**
 * The content-addressed store of build results: `<cacheDir>/jobs/<key>/` holds
 * a job's RPMs (`rpms/`), its log and `manifest.json` listing each RPM's
 * SHA-256. An entry is assembled under a hidden temporary name and renamed
 * into place, so it exists completely or not at all; two strata processes
 * building the same key race harmlessly (same key, same content: the first
 * rename wins). Every read re-hashes the RPMs: a damaged entry is removed and
 * rebuilt, never trusted.
 */
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256File } from '../util/hash.js';
import { run } from '../util/process.js';
import { touchCacheEntry } from './cache-archive.js';
import type { JobArtifact } from './executor.js';

export const CACHE_ENTRY_FORMAT = 'strata-build-entry/1';

export interface CachedArtifact extends JobArtifact {
  /** The RPM's NAME and ARCH tags (which subpackage this is). */
  name: string;
  arch: string;
}

const manifestSchema = z.strictObject({
  format: z.literal(CACHE_ENTRY_FORMAT),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  job: z.string(),
  seconds: z.number(),
  artifacts: z.array(
    z.strictObject({ file: z.string().regex(/^[^/]+\.rpm$/), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative(), name: z.string(), arch: z.string() }),
  ),
});

export interface CacheEntry {
  key: string;
  job: string;
  /** How long the build that made it took. */
  seconds: number;
  artifacts: CachedArtifact[];
  dir: string;
}

export type CacheLookup = { hit: true; entry: CacheEntry } | { hit: false; reason: 'absent' } | { hit: false; reason: 'damaged'; detail: string };

export class BuildCache {
  constructor(readonly cacheDir: string) {}

  entryDir(key: string): string {
    return join(this.cacheDir, 'jobs', key);
  }

  artifactPath(entry: CacheEntry, artifact: JobArtifact): string {
    return join(entry.dir, 'rpms', artifact.file);
  }

  logPath(entry: CacheEntry): string {
    return join(entry.dir, 'build.log');
  }

  /** The entry for `key`, verified byte for byte; a damaged one is removed. */
  async lookup(key: string): Promise<CacheLookup> {
    const dir = this.entryDir(key);
    let text: string;
    try {
      text = await readFile(join(dir, 'manifest.json'), 'utf8');
    } catch {
      if (!(await stat(dir).catch(() => null))) return { hit: false, reason: 'absent' };
      return this.discard(key, 'manifest.json is missing');
    }
    let manifest: z.infer<typeof manifestSchema>;
    try {
      manifest = manifestSchema.parse(JSON.parse(text));
    } catch {
      return this.discard(key, 'manifest.json is not a valid entry manifest');
    }
    if (manifest.key !== key) return this.discard(key, `manifest names key ${manifest.key}`);
    const entry: CacheEntry = { key, job: manifest.job, seconds: manifest.seconds, artifacts: manifest.artifacts, dir };
    for (const artifact of entry.artifacts) {
      const path = this.artifactPath(entry, artifact);
      const st = await stat(path).catch(() => null);
      if (!st) return this.discard(key, `${artifact.file} is missing`);
      if (st.size !== artifact.size) return this.discard(key, `${artifact.file} is ${st.size} bytes, the manifest says ${artifact.size}`);
      const actual = await sha256File(path);
      if (actual !== artifact.sha256) return this.discard(key, `${artifact.file} has sha256 ${actual}, the manifest says ${artifact.sha256}`);
    }
    await touchCacheEntry(this.cacheDir, join('jobs', key)).catch(() => undefined);
    return { hit: true, entry };
  }

  private async discard(key: string, detail: string): Promise<CacheLookup> {
    const doomed = join(this.cacheDir, 'jobs', `.damaged-${key}-${randomBytes(4).toString('hex')}`);
    await rename(this.entryDir(key), doomed).catch(() => undefined);
    await rm(doomed, { recursive: true, force: true });
    return { hit: false, reason: 'damaged', detail };
  }

  /**
   * Moves a finished job's RPMs (in `outputDir`) and log into the cache under
   * `key`. When another process stored the same key meanwhile, its entry is kept.
   */
  async store(key: string, job: string, seconds: number, outputDir: string, artifacts: JobArtifact[], logFile: string): Promise<CacheEntry> {
    const tags = await rpmTags(artifacts.map((a) => join(outputDir, a.file)));
    const cached: CachedArtifact[] = artifacts.map((a, i) => ({ ...a, ...tags[i]! }));
    const jobsDir = join(this.cacheDir, 'jobs');
    const tmp = join(jobsDir, `.new-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(join(tmp, 'rpms'), { recursive: true });
    try {
      for (const artifact of artifacts) await rename(join(outputDir, artifact.file), join(tmp, 'rpms', artifact.file));
      await copyFile(logFile, join(tmp, 'build.log')).catch(() => undefined);
      const manifest: z.infer<typeof manifestSchema> = { format: CACHE_ENTRY_FORMAT, key, job, seconds, artifacts: cached };
      await writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
      try {
        await rename(tmp, this.entryDir(key));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        const existing = await this.lookup(key);
        if (existing.hit) return existing.entry;
        await rename(tmp, this.entryDir(key));
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return { key, job, seconds, artifacts: cached, dir: this.entryDir(key) };
  }
}

/** NAME and ARCH of each RPM, read from its header. */
async function rpmTags(paths: string[]): Promise<Array<{ name: string; arch: string }>> {
  if (paths.length === 0) return [];
  const out = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{NAME} %{ARCH}\\n', ...paths], { env: { HOME: '/nonexistent' } });
  const lines = out.stdout.split('\n').filter(Boolean);
  return lines.map((line) => {
    const [name, arch] = line.split(' ');
    return { name: name!, arch: arch! };
  });
}

import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { defineCommand, type CommandContext } from './command.js';
import { loadModel } from './project.js';
import { DEFAULT_MAX_FILE_BYTES, exportCache, gcCache, importCache, leaseCache, listCacheEntries, lockCacheForGc, type CacheLease } from '../build/cache-archive.js';
import { formatSize, parseSize } from '../util/units.js';
import { usageError } from '../util/errors.js';

const ACTIONS = ['export', 'import', 'gc', 'list'] as const;
type Action = (typeof ACTIONS)[number];

interface CacheArgs {
  action: Action;
  archive?: string;
  cacheDir?: string;
  maxSize?: string;
  maxFileSize?: string;
  missingOk: boolean;
  dryRun: boolean;
}

/** Export and import use the cache like a build does: a running gc finishes first, and none starts meanwhile. */
async function withLease<T>(cacheDir: string, work: () => Promise<T>): Promise<T> {
  const lease: CacheLease = await leaseCache(cacheDir);
  try {
    return await work();
  } finally {
    await lease.release();
  }
}

async function cacheFolder(context: CommandContext, override: string | undefined): Promise<string> {
  if (override !== undefined) return resolve(context.cwd, override);
  const model = await loadModel(context);
  return resolve(model.root, model.build.cacheDir);
}

export default defineCommand<CacheArgs>({
  command: 'cache <action> [archive]',
  describe: 'export, import, list or garbage-collect the content-addressed build cache',
  examples: [
    ['strata cache export ci-cache.tar.gz', 'write the whole cache as a deterministic, verifiable archive'],
    ['strata cache import ci-cache.tar.gz --missing-ok', 'restore a cache archive in CI (no error on the first run)'],
    ['strata cache gc --max-size 2G', 'delete least-recently-used entries until the cache is at most 2 GiB'],
    ['strata cache list --json', 'every cache entry with its size and last use'],
  ],
  builder: (yargs) =>
    yargs
      .positional('action', { type: 'string', choices: ACTIONS, demandOption: true, describe: 'what to do with the cache' })
      .positional('archive', { type: 'string', describe: 'archive path for export/import (.tar, or .tar.gz/.tgz to compress)' })
      .option('cache-dir', { type: 'string', describe: 'the cache folder (default: [build] cache-dir of the project)' })
      .option('max-size', { type: 'string', describe: 'gc: the size to shrink the cache to (e.g. 500M, 2G)' })
      .option('max-file-size', { type: 'string', describe: `import: refuse archive members bigger than this (default ${formatSize(DEFAULT_MAX_FILE_BYTES)})` })
      .option('missing-ok', { type: 'boolean', default: false, describe: 'import: succeed without doing anything when the archive does not exist' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'gc: list what would be deleted, delete nothing' }) as never,
  run: async (args, context) => {
    const action = args.action;
    if ((action === 'export' || action === 'import') && !args.archive) {
      throw usageError(`strata cache ${action} needs an archive path`, `e.g. strata cache ${action} ci-cache.tar.gz`);
    }
    if (action === 'gc' && args.maxSize === undefined) {
      throw usageError('strata cache gc needs --max-size', 'e.g. strata cache gc --max-size 2G');
    }
    const cacheDir = await cacheFolder(context, args.cacheDir);
    switch (action) {
      case 'export': {
        const result = await withLease(cacheDir, () => exportCache(cacheDir, resolve(context.cwd, args.archive!)));
        const skipped = result.skipped.length > 0 ? `; left out ${result.skipped.length} unpacked build roots (recreated on use)` : '';
        return {
          json: { cacheDir, ...result },
          text: `exported ${result.entries} entries (${result.files} files, ${formatSize(result.bytes)}) to ${result.archive}${skipped}`,
        };
      }
      case 'import': {
        const archive = resolve(context.cwd, args.archive!);
        if (args.missingOk && !(await stat(archive).then(() => true, () => false))) {
          return { json: { cacheDir, archive, missing: true, installed: [], kept: [] }, text: `no cache archive at ${archive}; nothing imported` };
        }
        const maxFileBytes = args.maxFileSize === undefined ? undefined : parseSize(args.maxFileSize);
        const result = await withLease(cacheDir, () => importCache(cacheDir, archive, { maxFileBytes }));
        return {
          json: { cacheDir, ...result },
          text: `verified ${result.files} files (${formatSize(result.bytes)}); installed ${result.installed.length} entries, ${result.kept.length} already present`,
        };
      }
      case 'gc': {
        const maxBytes = parseSize(args.maxSize!);
        const lock = await lockCacheForGc(cacheDir);
        const result = await gcCache(cacheDir, { maxBytes, dryRun: args.dryRun }).finally(() => lock.release());
        const verb = args.dryRun ? 'would remove' : 'removed';
        const lines = result.removed.map((r) => `  ${verb} ${r.entry} (${formatSize(r.bytes)})`);
        lines.push(`${verb} ${result.removed.length} entries: ${formatSize(result.before)} → ${formatSize(result.after)} (limit ${formatSize(maxBytes)}), ${result.kept} kept`);
        return { json: { cacheDir, maxBytes, dryRun: args.dryRun, ...result }, text: lines.join('\n') };
      }
      case 'list': {
        const entries = await listCacheEntries(cacheDir);
        const total = entries.reduce((sum, e) => sum + e.bytes, 0);
        const lines = entries.map((e) => `${new Date(e.lastUsed).toISOString().slice(0, 19)}Z  ${formatSize(e.bytes).padStart(10)}  ${e.entry}${e.portable ? '' : '  (not exported)'}`);
        lines.push(`${entries.length} entries, ${formatSize(total)} in ${cacheDir} (least recently used first)`);
        return {
          json: {
            cacheDir,
            bytes: total,
            entries: entries.map((e) => ({ entry: e.entry, bytes: e.bytes, files: e.files.length, portable: e.portable, lastUsed: new Date(e.lastUsed).toISOString() })),
          },
          text: lines.join('\n'),
        };
      }
    }
  },
});

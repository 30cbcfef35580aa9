/**
 * strata repro: composes an image twice, each time into its own clean output
 * folder with its own scratch space, and compares every artifact. When they
 * differ it names the first artifact that does and, for filesystem and disk
 * images, the first file or partition inside it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import type { Logger } from '../util/log.js';
import { run } from '../util/process.js';
import { walkTree } from '../util/paths.js';
import { sha256File } from '../util/hash.js';
import type { ImageManifest } from './manifest.js';
import { composeImage } from './index.js';

export interface ReproDifference {
  artifact: string;
  first: string;
  second: string;
  /** Inside the artifact: the first differing file, partition or JSON key, when found. */
  inside: string | null;
}

export interface ReproReport {
  identical: boolean;
  image: string;
  arch: Arch;
  artifacts: Record<string, string>;
  differences: ReproDifference[];
  dirs: [string, string];
}

type Composer = (outRoot: string) => Promise<{ outDir: string; manifest: ImageManifest }>;

/** The first path (in byte order) whose type, mode or content differs between two extracted trees. */
async function firstTreeDifference(a: string, b: string): Promise<string | null> {
  const [ta, tb] = [await walkTree(a), await walkTree(b)];
  const mb = new Map(tb.map((e) => [e.path, e]));
  for (const ea of ta) {
    const eb = mb.get(ea.path);
    if (!eb) return `/${ea.path} (only in the first)`;
    if (ea.type !== eb.type || ea.mode !== eb.mode) return `/${ea.path} (type or mode)`;
    if (ea.type === 'file' && (await sha256File(ea.absPath)) !== (await sha256File(eb.absPath))) return `/${ea.path}`;
  }
  const ma = new Set(ta.map((e) => e.path));
  const extra = tb.find((e) => !ma.has(e.path));
  return extra ? `/${extra.path} (only in the second)` : null;
}

async function insideFilesystem(type: string, a: string, b: string, scratch: string): Promise<string | null> {
  const xa = join(scratch, 'a');
  const xb = join(scratch, 'b');
  if (type === 'erofs') {
    await run('fsck.erofs', [`--extract=${xa}`, a], { allowFailure: true });
    await run('fsck.erofs', [`--extract=${xb}`, b], { allowFailure: true });
  } else {
    await run('unsquashfs', ['-q', '-d', xa, a], { allowFailure: true });
    await run('unsquashfs', ['-q', '-d', xb, b], { allowFailure: true });
  }
  return (await firstTreeDifference(xa, xb)) ?? 'same files; the difference is in filesystem metadata (times, order or UUID)';
}

function firstJsonDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    return JSON.stringify(a) === JSON.stringify(b) ? null : path;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  for (const key of keys) {
    const found = firstJsonDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

async function explain(name: string, first: { outDir: string; manifest: ImageManifest }, second: { outDir: string; manifest: ImageManifest }, scratch: string): Promise<string | null> {
  const fs = first.manifest.filesystem;
  if (name === fs.file) return insideFilesystem(fs.type, join(first.outDir, name), join(second.outDir, name), scratch);
  if (name.endsWith('.json')) {
    const [ja, jb] = await Promise.all([readFile(join(first.outDir, name), 'utf8'), readFile(join(second.outDir, name), 'utf8')]);
    return firstJsonDifference(JSON.parse(ja), JSON.parse(jb));
  }
  if (name.startsWith('disk.') && first.manifest.disk && second.manifest.disk) {
    const diff = first.manifest.disk.partitions.find((p, i) => first.manifest.artifacts[p.payload]?.sha256 !== second.manifest.artifacts[second.manifest.disk!.partitions[i]?.payload ?? '']?.sha256);
    return diff ? `partition ${diff.number} (${diff.name}, from ${diff.payload})` : 'the partition table or padding';
  }
  return null;
}

/**
 * Artifacts in the order the pipeline makes them: the first difference found is
 * then the cause (a different filesystem), not a consequence (a different cmdline).
 */
function pipelineOrder(manifest: ImageManifest, names: string[]): string[] {
  const made = [manifest.filesystem.file, manifest.verity?.file, manifest.verity?.rootHashFile, manifest.signature?.file, manifest.disk?.file];
  const rank = (name: string): number => {
    const i = made.indexOf(name);
    return i >= 0 ? i : name === 'manifest.json' ? made.length + 2 : name.startsWith('disk.') ? made.length : made.length + 1;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export async function compareComposes(image: string, arch: Arch, compose: Composer, log: Logger): Promise<ReproReport> {
  const dirs: [string, string] = [await mkdtemp(join(tmpdir(), 'strata-repro-1-')), await mkdtemp(join(tmpdir(), 'strata-repro-2-'))];
  log.info(`composing ${image}/${arch} twice: ${dirs[0]}, ${dirs[1]}`);
  const first = await compose(dirs[0]);
  const second = await compose(dirs[1]);
  const names = pipelineOrder(first.manifest, [...new Set([...Object.keys(first.manifest.artifacts), ...Object.keys(second.manifest.artifacts), 'manifest.json'])]);
  const differences: ReproDifference[] = [];
  const artifacts: Record<string, string> = {};
  const scratch = await mkdtemp(join(tmpdir(), 'strata-repro-diff-'));
  try {
    for (const name of names) {
      const a = await sha256File(join(first.outDir, name)).catch(() => 'missing');
      const b = await sha256File(join(second.outDir, name)).catch(() => 'missing');
      artifacts[name] = a;
      if (a !== b) differences.push({ artifact: name, first: a, second: b, inside: differences.length === 0 ? await explain(name, first, second, scratch) : null });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { identical: differences.length === 0, image, arch, artifacts, differences, dirs };
}

export async function reproImage(model: DistroModel, imageName: string, arch: Arch, options: { log: Logger; signal?: AbortSignal; repo?: string; keep?: boolean }): Promise<ReproReport> {
  const report = await compareComposes(imageName, arch, (outRoot) => composeImage(model, imageName, arch, { ...options, outRoot }), options.log);
  if (!options.keep) for (const dir of report.dirs) await rm(dir, { recursive: true, force: true });
  return report;
}

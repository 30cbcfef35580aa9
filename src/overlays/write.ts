/**
 * Rendered components on disk: one folder per component holding the rendered
 * spec under its own name plus every other file, modes kept. Each folder is
 * swapped in whole (replaceDirAtomic), and `checkRendered` is the CI drift gate
 * comparing such a tree with what the config produces now.
 */
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import { isInside, walkTree } from '../util/paths.js';
import { StrataError } from '../util/errors.js';
import type { DistroModel } from '../config/model.js';
import type { RenderedComponent } from './model.js';

const SPEC_MODE = 0o644;
/** Lists the component folders strata wrote, so a full render can drop folders of components that are gone. */
const MANIFEST = '.strata-rendered.json';

/**
 * Refuses an output folder whose component folders would overlap the
 * components' own folders (`--out specs` would replace the sources with their
 * rendering) or the project's config.
 */
export function assertSafeOutDir(model: DistroModel, outDir: string): void {
  for (const component of Object.values(model.components)) {
    const target = join(outDir, component.name);
    if (isInside(component.dir, target) || isInside(target, component.dir)) {
      throw new StrataError(`output folder ${outDir} would overwrite the folder of component ${component.name} (${component.dir})`, {
        kind: 'usage',
        hint: 'render into a folder of its own, e.g. the default <build.out-dir>/rendered',
      });
    }
  }
  for (const file of model.files) {
    if (isInside(outDir, file) && Object.keys(model.components).some((name) => isInside(join(outDir, name), file))) {
      throw new StrataError(`output folder ${outDir} would overwrite the config file ${file}`, { kind: 'usage' });
    }
  }
}

/** Every file of a rendered component as it lands on disk, spec included, sorted by path. */
export function renderedTree(component: RenderedComponent): Array<{ path: string; mode: number; sha256: string }> {
  return [
    { path: component.specFile, mode: SPEC_MODE, sha256: sha256Hex(component.specText) },
    ...component.files.map((f) => ({ path: f.path, mode: f.mode, sha256: f.sha256 })),
  ].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

async function fillComponent(dir: string, component: RenderedComponent): Promise<void> {
  await writeFile(join(dir, component.specFile), component.specText, { mode: SPEC_MODE });
  await chmod(join(dir, component.specFile), SPEC_MODE);
  for (const file of component.files) {
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    if (file.data) await writeFile(target, file.data);
    else await copyFile(file.absPath!, target);
    await chmod(target, file.mode);
  }
}

async function readManifest(outDir: string): Promise<string[]> {
  try {
    const parsed = JSON.parse(await readFile(join(outDir, MANIFEST), 'utf8')) as { components?: unknown };
    return Array.isArray(parsed.components) ? parsed.components.filter((c): c is string => typeof c === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Writes each component's folder atomically. With `complete` (every component
 * of the distro rendered), folders strata wrote earlier for components that no
 * longer exist are removed, and the manifest is rewritten.
 */
export async function writeRendered(outDir: string, rendered: readonly RenderedComponent[], complete = false): Promise<void> {
  const previous = await readManifest(outDir);
  // Only folders strata wrote are ever replaced: `--out` pointed at a folder of other things must not wipe them.
  const foreign: string[] = [];
  for (const component of rendered) {
    if (!previous.includes(component.name) && (await stat(join(outDir, component.name)).catch(() => null)) !== null) foreign.push(component.name);
  }
  if (foreign.length > 0) {
    throw new StrataError(`${outDir} already has ${foreign.map((n) => `'${n}'`).join(', ')}, which strata render did not write there`, {
      hint: `render into an empty folder, or remove ${foreign.length === 1 ? 'it' : 'them'} first`,
    });
  }
  for (const component of rendered) {
    await replaceDirAtomic(join(outDir, component.name), (dir) => fillComponent(dir, component));
  }
  const names = rendered.map((c) => c.name).sort();
  if (complete) {
    for (const stale of previous.filter((name) => !names.includes(name))) await rm(join(outDir, stale), { recursive: true, force: true });
  }
  const listed = complete ? names : [...new Set([...previous, ...names])].sort();
  await writeFileAtomic(join(outDir, MANIFEST), `${JSON.stringify({ components: listed }, null, 2)}\n`);
}

export interface Drift {
  component: string;
  /** Files whose content or mode differs. */
  changed: string[];
  /** Files the config produces that are not on disk. */
  missing: string[];
  /** Files on disk the config does not produce. */
  extra: string[];
  /**
   * absent: the folder is missing; stale: strata rendered it for a component that
   * no longer exists (a full render removes it); foreign: a folder strata did not
   * write (left for the user to remove).
   */
  state: 'differs' | 'absent' | 'stale' | 'foreign';
}

async function driftOf(dir: string, component: RenderedComponent): Promise<Drift | null> {
  const onDisk = await walkTree(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const expected = renderedTree(component);
  if (onDisk === null) return { component: component.name, changed: [], missing: expected.map((f) => f.path), extra: [], state: 'absent' };
  const disk = new Map(onDisk.filter((e) => e.type !== 'dir').map((e) => [e.path, e]));
  const drift: Drift = { component: component.name, changed: [], missing: [], extra: [], state: 'differs' };
  for (const file of expected) {
    const found = disk.get(file.path);
    if (!found) drift.missing.push(file.path);
    else if (found.type !== 'file' || found.mode !== file.mode || (await sha256File(found.absPath)) !== file.sha256) drift.changed.push(file.path);
    disk.delete(file.path);
  }
  drift.extra = [...disk.keys()];
  return drift.changed.length + drift.missing.length + drift.extra.length > 0 ? drift : null;
}

/**
 * Components whose folder under `outDir` differs from `rendered`. With
 * `complete`, folders of components that no longer exist count as drift too.
 */
export async function checkRendered(outDir: string, rendered: readonly RenderedComponent[], complete = false): Promise<Drift[]> {
  const drifts: Drift[] = [];
  for (const component of rendered) {
    const drift = await driftOf(join(outDir, component.name), component);
    if (drift) drifts.push(drift);
  }
  if (complete) {
    const names = new Set(rendered.map((c) => c.name));
    const ours = new Set(await readManifest(outDir));
    const present = await readdir(outDir, { withFileTypes: true }).catch(() => []);
    for (const entry of present) {
      if (entry.isDirectory() && !names.has(entry.name) && !entry.name.startsWith('.')) {
        drifts.push({ component: entry.name, changed: [], missing: [], extra: [], state: ours.has(entry.name) ? 'stale' : 'foreign' });
      }
    }
  }
  return drifts.sort((a, b) => a.component.localeCompare(b.component));
}

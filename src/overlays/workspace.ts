/**
 * One component's files while its overlays apply: the spec text and the folder's
 * files in memory, source archives opened on first use. Nothing here writes to
 * disk, which is what makes a component's overlays all-or-nothing.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import type { Component, DistroModel, OverlaySpec } from '../config/model.js';
import { StrataError } from '../util/errors.js';
import { isInside, toPosix, walkTree } from '../util/paths.js';
import { ArchiveFiles, ArchiveProblem } from './files/archive.js';
import { entryData, LooseFiles, type FileEntry, type FileSet } from './files/tree.js';
import { decodeText } from './files/select.js';
import { OverlayFailure, type OverlayContext } from './types/type.js';
import { sourcePath } from './source-path.js';

export const SPEC_PATH = '<spec>';

async function loadFolder(component: Component, specFile: string): Promise<Map<string, FileEntry>> {
  const entries = new Map<string, FileEntry>();
  const realDir = await realpath(component.dir);
  for (const entry of await walkTree(component.dir)) {
    if (entry.path === specFile || entry.path === '.git' || entry.path.startsWith('.git/') || entry.type === 'dir') continue;
    if (entry.type === 'symlink') {
      const target = await realpath(entry.absPath).catch(() => null);
      const info = target === null ? null : await stat(target);
      if (target === null || !isInside(realDir, target) || !info?.isFile()) {
        throw new StrataError(`symlink '${entry.path}' in the component folder does not point to a file inside it`, {
          component: component.name,
          location: component.definedAt,
          hint: 'replace it with the file itself',
        });
      }
      entries.set(entry.path, { mode: info.mode & 0o7777, absPath: target });
      continue;
    }
    entries.set(entry.path, { mode: entry.mode, absPath: entry.absPath });
  }
  return entries;
}

export class Workspace implements OverlayContext {
  readonly component: string;
  readonly specFile: string;
  spec: string;
  readonly loose: LooseFiles;
  private readonly archives = new Map<string, { entry: FileEntry; requestedRoot: string | undefined; files: ArchiveFiles }>();
  private overlay: OverlaySpec | null = null;

  private constructor(
    private readonly model: DistroModel,
    component: Component,
    spec: string,
    entries: Map<string, FileEntry>,
  ) {
    this.component = component.name;
    this.specFile = basename(component.specPath);
    this.spec = spec;
    this.loose = new LooseFiles(entries);
  }

  static async load(model: DistroModel, component: Component): Promise<Workspace> {
    const bytes = await readFile(component.specPath).catch((error: NodeJS.ErrnoException) => {
      throw new StrataError(`cannot read the spec ${toPosix(relative(model.root, component.specPath))}: ${error.code ?? error.message}`, {
        component: component.name,
        location: component.definedAt,
      });
    });
    // Old specs carry Latin-1 in their changelog: read as such rather than mangle it; rendered specs are UTF-8.
    const spec = decodeText(bytes).text;
    return new Workspace(model, component, spec, await loadFolder(component, basename(component.specPath)));
  }

  /** The overlay being applied (its file is where `source` paths start). */
  begin(overlay: OverlaySpec): void {
    this.overlay = overlay;
  }

  async files(archive?: { name: string; root?: string }): Promise<FileSet> {
    if (archive === undefined) return this.loose;
    const entry = this.loose.entries.get(archive.name);
    if (!entry) {
      throw new OverlayFailure(`archive '${archive.name}' is not in the component folder`, 'archive', undefined, [
        `archives there: ${this.loose.paths().filter((p) => /\.(tar|tgz|tar\.(gz|xz|bz2))$/.test(p)).join(', ') || 'none'}`,
      ]);
    }
    const open = this.archives.get(archive.name);
    // An archive stays open (and parsed) while its bytes and the root asked for stay the same.
    if (open && open.entry === entry && open.requestedRoot === archive.root) return open.files;
    try {
      const files = await ArchiveFiles.open(archive.name, await entryData(entry), archive.root);
      this.archives.set(archive.name, { entry, requestedRoot: archive.root, files });
      return files;
    } catch (error) {
      if (error instanceof ArchiveProblem) throw new OverlayFailure(`archive '${archive.name}' ${error.message}`, archive.root !== undefined && /archive-root/.test(error.message) ? 'archive-root' : 'archive');
      throw error;
    }
  }

  async readSource(source: string): Promise<{ data: Buffer; mode: number }> {
    const path = this.overlay ? sourcePath(this.model, this.overlay, source) : resolve(dirname(this.model.configFile), source);
    const shown = toPosix(relative(this.model.root, path));
    if (!isInside(this.model.root, path)) {
      throw new OverlayFailure(`source '${source}' points outside the project`, 'source', 'keep overlay inputs inside the project, next to the TOML that uses them');
    }
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new OverlayFailure(`source '${source}' (${shown}) is not a file`, 'source');
      return { data: await readFile(path), mode: info.mode & 0o7777 };
    } catch (error) {
      if (error instanceof OverlayFailure) throw error;
      throw new OverlayFailure(`source '${source}' not found (looked for ${shown})`, 'source', 'source paths are relative to the TOML file that defines the overlay');
    }
  }

  /** Writes back the archives the overlay changed; returns their names. */
  async finishOverlay(): Promise<string[]> {
    const changed: string[] = [];
    for (const [name, open] of [...this.archives]) {
      if (!open.files.changed) continue;
      const mode = open.entry.mode;
      const data = await open.files.pack(this.model.distro.sourceDateEpoch);
      this.loose.write(name, data, mode);
      this.archives.delete(name);
      changed.push(name);
    }
    return changed;
  }

  snapshot(): { spec: string; entries: Map<string, FileEntry> } {
    return { spec: this.spec, entries: new Map(this.loose.entries) };
  }
}

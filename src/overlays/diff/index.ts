/**
 * `strata diff`: base versus rendered, per file, every hunk attributed to the
 * overlay that made it. Overlays are applied one at a time (the same engine as
 * render) and each step's change is carried forward line by line.
 */
import type { Component, DistroModel, OverlaySpec } from '../../config/model.js';
import { formatLocation } from '../../util/errors.js';
import { entryData, type FileEntry } from '../files/tree.js';
import { renderComponent } from '../render.js';
import { SPEC_PATH } from '../workspace.js';
import { LineProvenance, splitLines, toHunks, type Hunk } from './attribute.js';

export interface OverlayRef {
  index: number;
  type: string;
  description: string | null;
  location: string;
}

export interface FileDiff {
  path: string;
  status: 'modified' | 'added' | 'removed';
  /** Binary files get no hunks, only the overlays that changed them. */
  binary: boolean;
  overlays: OverlayRef[];
  hunks: Array<Omit<Hunk, 'overlay'> & { overlay: OverlayRef | null }>;
}

export interface ComponentDiff {
  component: string;
  fingerprint: string;
  files: FileDiff[];
}

const MAX_TEXT = 4 * 1024 * 1024;

function asText(data: Buffer | null): string[] | null {
  if (data === null) return [];
  if (data.length > MAX_TEXT || data.includes(0)) return null;
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? splitLines(text) : null;
}

async function read(entries: ReadonlyMap<string, FileEntry>, path: string): Promise<Buffer | null> {
  const entry = entries.get(path);
  return entry ? entryData(entry) : null;
}

function refOf(overlay: OverlaySpec): OverlayRef {
  return { index: overlay.index, type: overlay.type, description: overlay.description, location: formatLocation(overlay.location) };
}

export async function diffComponent(model: DistroModel, component: Component): Promise<ComponentDiff> {
  let base: { spec: string; entries: ReadonlyMap<string, FileEntry> } = { spec: '', entries: new Map() };
  const steps: Array<{ overlay: OverlaySpec; spec: string; entries: ReadonlyMap<string, FileEntry>; touched: string[] }> = [];
  const rendered = await renderComponent(model, component, {
    onStart: (state) => (base = state),
    onStep: (step) => steps.push(step),
  });
  const byIndex = new Map(component.overlays.map((o) => [o.index, refOf(o)]));
  const paths = [...new Set(steps.flatMap((s) => s.touched))].sort((a, b) => (a === SPEC_PATH ? -1 : b === SPEC_PATH ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const files: FileDiff[] = [];
  for (const path of paths) {
    const name = path === SPEC_PATH ? rendered.specFile : path;
    const before = path === SPEC_PATH ? Buffer.from(base.spec) : await read(base.entries, path);
    const last = steps.at(-1)!;
    const after = path === SPEC_PATH ? Buffer.from(last.spec) : await read(last.entries, path);
    if (before !== null && after !== null && before.equals(after)) continue;
    const status = before === null ? 'added' : after === null ? 'removed' : 'modified';
    const touchers = steps.filter((s) => s.touched.includes(path)).map((s) => refOf(s.overlay));
    const baseLines = asText(before);
    const finalLines = asText(after);
    if (baseLines === null || finalLines === null) {
      files.push({ path: name, status, binary: true, overlays: touchers, hunks: [] });
      continue;
    }
    const provenance = new LineProvenance(baseLines);
    for (const step of steps) {
      if (!step.touched.includes(path)) continue;
      const data = path === SPEC_PATH ? Buffer.from(step.spec) : await read(step.entries, path);
      provenance.step(asText(data) ?? [], step.overlay.index);
    }
    const hunks = toHunks(provenance.result()).map((h) => ({ ...h, overlay: h.overlay === undefined ? null : (byIndex.get(h.overlay) ?? null) }));
    files.push({ path: name, status, binary: false, overlays: touchers, hunks });
  }
  return { component: component.name, fingerprint: rendered.fingerprint, files };
}

function describe(ref: OverlayRef | null): string {
  if (ref === null) return 'overlay ?';
  return `overlay ${ref.index} ${ref.type}${ref.description ? ` "${ref.description}"` : ''} (${ref.location})`;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** The diff as unified-diff text, each hunk header naming its overlay. */
export function formatDiff(diff: ComponentDiff): string {
  const out: string[] = [];
  for (const file of diff.files) {
    if (file.binary) {
      out.push(`Binary file ${file.path} ${file.status} by ${file.overlays.map(describe).join(', ')}`);
      continue;
    }
    out.push(`--- ${file.status === 'added' ? '/dev/null' : `a/${file.path}`}`);
    out.push(`+++ ${file.status === 'removed' ? '/dev/null' : `b/${file.path}`}`);
    for (const hunk of file.hunks) {
      out.push(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@ ${describe(hunk.overlay)}`);
      out.push(...hunk.lines);
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

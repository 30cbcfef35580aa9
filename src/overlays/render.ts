/**
 * The overlay engine: each component's overlays applied in order, in memory,
 * all-or-nothing. A component whose overlays all apply becomes a
 * RenderedComponent; one that fails yields one error naming the overlay, where it
 * is written and what it looked for.
 */
import pLimit from 'p-limit';
import type { Component, DistroModel, OverlaySpec } from '../config/model.js';
import { StrataError, StrataErrors, usageError } from '../util/errors.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import { didYouMean } from '../util/suggest.js';
import { overlayLabel, parseOverlay } from './check.js';
import { componentFingerprint } from './fingerprint.js';
import { sortedPaths, type FileEntry } from './files/tree.js';
import type { OverlayEffect, RenderedComponent, RenderedFile } from './model.js';
import { OverlayFailure } from './types/type.js';
import { SPEC_PATH, Workspace } from './workspace.js';
import { updatePins } from './signatures.js';

export { checkOverlays } from './check.js';

/** The state after one overlay applied (what `strata diff` attributes changes from). */
export interface RenderStep {
  overlay: OverlaySpec;
  spec: string;
  entries: ReadonlyMap<string, FileEntry>;
  touched: string[];
}

export interface RenderOptions {
  /** Called once with the component's state before any overlay. */
  onStart?: (state: { spec: string; entries: ReadonlyMap<string, FileEntry> }) => void;
  /** Called after each overlay with the state it left. */
  onStep?: (step: RenderStep) => void;
}

function failure(component: Component, overlay: OverlaySpec, error: OverlayFailure): StrataError {
  return new StrataError(`${overlayLabel(overlay)} did not apply: ${error.message}`, {
    location: (error.field !== undefined ? overlay.fieldLocations[error.field] : undefined) ?? overlay.location,
    component: component.name,
    hint: error.hint,
    details: error.details,
  });
}

function touchedPaths(before: ReturnType<Workspace['snapshot']>, work: Workspace): string[] {
  const touched: string[] = [];
  if (before.spec !== work.spec) touched.push(SPEC_PATH);
  const paths = new Set([...before.entries.keys(), ...work.loose.entries.keys()]);
  for (const path of sortedPaths(paths)) if (before.entries.get(path) !== work.loose.entries.get(path)) touched.push(path);
  return touched;
}

async function renderedFiles(work: Workspace, effects: OverlayEffect[]): Promise<RenderedFile[]> {
  const out: RenderedFile[] = [];
  for (const path of work.loose.paths()) {
    const entry = work.loose.entries.get(path)!;
    const modifiedBy = effects.filter((e) => e.touched.includes(path)).map((e) => e.index);
    out.push({
      path,
      mode: entry.mode,
      sha256: entry.data ? sha256Hex(entry.data) : await sha256File(entry.absPath!),
      ...(entry.data ? { data: entry.data } : { absPath: entry.absPath! }),
      ...(modifiedBy.length > 0 ? { modifiedBy } : {}),
    });
  }
  return out;
}

/** Applies each component's overlays in memory; all-or-nothing per component. */
export async function renderComponent(model: DistroModel, component: Component, options: RenderOptions = {}): Promise<RenderedComponent> {
  const parsed = component.overlays.map((overlay) => ({ overlay, result: parseOverlay(component, overlay) }));
  const invalid = parsed.flatMap(({ result }) => (Array.isArray(result) ? result : []));
  if (invalid.length > 0) throw new StrataErrors(invalid);
  const steps = parsed.flatMap(({ overlay, result }) => (Array.isArray(result) ? [] : [{ overlay, ...result }]));
  const work = await Workspace.load(model, component);
  const baseSpecText = work.spec;
  const effects: OverlayEffect[] = [];
  options.onStart?.(work.snapshot());
  for (const { overlay, type, fields } of steps) {
    const before = work.snapshot();
    work.begin(overlay);
    try {
      await type.apply(work, fields);
      await work.finishOverlay();
      await updatePins(work.loose, work.specFile, before.entries, touchedPaths(before, work));
    } catch (error) {
      if (error instanceof OverlayFailure) throw failure(component, overlay, error);
      if (error instanceof StrataError) throw error.withContext({ component: component.name, location: overlay.location });
      throw error;
    }
    const touched = touchedPaths(before, work);
    effects.push({ index: overlay.index, type: overlay.type, description: overlay.description, location: overlay.location, touched });
    options.onStep?.({ overlay, spec: work.spec, entries: new Map(work.loose.entries), touched });
  }
  const files = await renderedFiles(work, effects);
  return {
    name: component.name,
    specFile: work.specFile,
    baseSpecText,
    specText: work.spec,
    files,
    effects,
    fingerprint: componentFingerprint(model, component.overlays, work.specFile, work.spec, files),
  };
}

/** The components `names` selects (all when empty), sorted; an unknown name is a usage error with a suggestion. */
export function selectComponents(model: DistroModel, names: readonly string[] = []): Component[] {
  const known = Object.keys(model.components).sort();
  const unknown = names.filter((name) => !(name in model.components));
  if (unknown.length > 0) {
    throw new StrataErrors(unknown.map((name) => usageError(`unknown component '${name}'${didYouMean(name, known)}`, `components: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`)));
  }
  const chosen = names.length === 0 ? known : [...new Set(names)].sort();
  return chosen.map((name) => model.components[name]!);
}

/** Renders the named components (all when `names` is empty), sorted by name; every failure is reported. */
export async function renderComponents(model: DistroModel, names: string[] = []): Promise<RenderedComponent[]> {
  const components = selectComponents(model, names);
  const limit = pLimit(8);
  const errors: StrataError[] = [];
  const results = await Promise.all(
    components.map((component) =>
      limit(async () => {
        try {
          return await renderComponent(model, component);
        } catch (error) {
          if (error instanceof StrataErrors) errors.push(...error.errors);
          else if (error instanceof StrataError) errors.push(error);
          else throw error;
          return null;
        }
      }),
    ),
  );
  if (errors.length > 0) {
    errors.sort((a, b) => (a.component ?? '').localeCompare(b.component ?? ''));
    throw new StrataErrors(errors);
  }
  return results.filter((r): r is RenderedComponent => r !== null);
}

/**
 * `strata affected`: which components, arches and images a set of changed
 * files changes — the "build only what changed" question a CI system asks.
 *
 * Two steps. `classifyChanges` maps each changed file to what it feeds:
 * a component's folder or spec, the TOML lines that define a component, its
 * overlays or an image, an overlay's `source` payload, or something every
 * build sees (distro/rpm/build/graph settings, macro files, the build root).
 * Config files are compared by value (old and new parsed), so an edit to one
 * component's overlay in a shared file affects that component only, and a
 * comment edit affects nothing. `expandAffected` then follows the build graph to every
 * component that build-requires an affected one (per arch), and the package
 * closure of each image to the images that contain an affected component.
 */
import { existsSync } from 'node:fs';
import TOML from '@iarna/toml';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { readConfigFile } from '../config/config-file.js';
import { globMatcher, hasGlobMagic } from '../config/glob.js';
import type { Arch, DistroModel } from '../config/model.js';
import type { BuildGraph } from '../graph/model.js';
import type { SpecFacts } from '../spec/model.js';
import { canonicalJson } from '../util/hash.js';
import { isInside, toPosix } from '../util/paths.js';
import { fileAtCommit, projectRelative, type GitChanges } from './git.js';
import { imageClosures } from './image-closures.js';

/** What one changed file affects. */
export interface PathEffect {
  /** Project-relative. */
  path: string;
  /** Every component on every arch, and every image. */
  everything: boolean;
  components: string[];
  images: string[];
  /** Why, in words (for the report). */
  reason: string;
}

const NONE = (path: string, reason: string): PathEffect => ({ path, everything: false, components: [], images: [], reason });

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

/** A TOML file's parsed content; an absent file is empty. */
function parseToml(text: string | null): Record<string, unknown> {
  return text === null ? {} : (TOML.parse(text) as Record<string, unknown>);
}

function table(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/**
 * What a change to one config file affects, from the values it defines
 * before and after (so a comment or formatting edit affects nothing, and an
 * edit to one component's overlays affects that component only, whatever
 * else the file holds).
 */
async function classifyToml(model: DistroModel, changes: GitChanges, absPath: string): Promise<PathEffect> {
  const path = projectRelative(model.root, absPath);
  let before: Record<string, unknown>;
  let after: Record<string, unknown>;
  try {
    before = parseToml(await fileAtCommit(changes.repoRoot, changes.base, absPath));
    after = parseToml(await readFile(absPath, 'utf8').catch(() => null));
  } catch {
    return { path, everything: true, components: [], images: [], reason: 'a config file that is not valid TOML on one side' };
  }
  const everything: string[] = [];
  const components: string[] = [];
  const images: string[] = [];
  for (const key of unique([...Object.keys(before), ...Object.keys(after)])) {
    if (same(before[key], after[key])) continue;
    if (key !== 'components' && key !== 'images') {
      everything.push(`[${key}]`);
      continue;
    }
    const old = table(before[key]);
    const now = table(after[key]);
    for (const name of unique([...Object.keys(old), ...Object.keys(now)])) {
      if (same(old[name], now[name])) continue;
      if (key === 'images') {
        if (model.images[name]) images.push(name);
      } else if (model.components[name]) {
        components.push(name);
      } else {
        // A component that no longer exists was removed: the images that held it change.
        images.push(...Object.keys(model.images));
      }
    }
  }
  if (everything.length > 0) return { path, everything: true, components: [], images: [], reason: `changes ${everything.join(', ')}` };
  const affected = { components: unique(components), images: unique(images) };
  if (affected.components.length === 0 && affected.images.length === 0) return NONE(path, 'no value changed (comments or formatting only)');
  const what = [...affected.components.map((c) => `component ${c}`), ...affected.images.map((i) => `image ${i}`)];
  return { path, everything: false, ...affected, reason: `changes the definition of ${what.join(', ')}` };
}

/**
 * Whether a TOML file that no longer exists was part of the config: the
 * include patterns of the current config files still name it (a deleted
 * overlay file under `overlays/*.toml`).
 */
async function includeMatcher(model: DistroModel): Promise<(absPath: string) => boolean> {
  const tests: Array<(absPath: string) => boolean> = [];
  for (const file of model.files) {
    const { doc } = await readConfigFile(file, file);
    const patterns = Array.isArray(doc.include) ? doc.include.filter((p): p is string => typeof p === 'string') : [];
    const base = dirname(file);
    for (const pattern of patterns) {
      const matches = globMatcher(pattern);
      tests.push((absPath) => (hasGlobMagic(pattern) ? matches(toPosix(relative(base, absPath))) : resolve(base, pattern) === absPath));
    }
  }
  return (absPath) => tests.some((test) => test(absPath));
}

/** Files every build reads: macro files, the rpmrc, Lua modules, an imported build root. */
function globalInputs(model: DistroModel): { files: Set<string>; dirs: string[] } {
  const files = new Set(model.rpm.macroFiles);
  if (model.rpm.rpmrc) files.add(model.rpm.rpmrc);
  if (model.build.buildRoot.type !== 'host') files.add(resolve(model.root, model.build.buildRoot.path));
  return { files, dirs: model.rpm.luaDirs };
}

/** Overlay payloads: `source` files, relative to the TOML file that defines the overlay. */
function overlaySources(model: DistroModel): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const component of Object.values(model.components)) {
    for (const overlay of component.overlays) {
      const source = overlay.fields.source;
      if (typeof source !== 'string') continue;
      // Locations are written relative to the folder strata was started in (for messages).
      const abs = resolve(process.cwd(), dirname(overlay.location.file), source);
      users.set(abs, [...(users.get(abs) ?? []), component.name]);
    }
  }
  return users;
}

/** Component folder → the components in it (a folder may hold several specs). */
function componentFolders(model: DistroModel): Map<string, string[]> {
  const folders = new Map<string, string[]>();
  for (const component of Object.values(model.components)) folders.set(component.dir, [...(folders.get(component.dir) ?? []), component.name]);
  return folders;
}

/** The components whose folder holds `abs`, found by walking up from it (a specs tree may have thousands of folders). */
function componentsAround(folders: Map<string, string[]>, root: string, abs: string): string[] {
  for (let dir = dirname(abs); isInside(root, dir); dir = dirname(dir)) {
    const names = folders.get(dir);
    if (names) return names;
    if (dir === root) break;
  }
  return [];
}

/** Maps each changed file to what it affects. */
export async function classifyChanges(model: DistroModel, changes: GitChanges): Promise<PathEffect[]> {
  const configFiles = new Set(model.files);
  const included = await includeMatcher(model);
  const global = globalInputs(model);
  const sources = overlaySources(model);
  const folders = componentFolders(model);
  const outputs = [resolve(model.root, model.build.outDir), resolve(model.root, model.build.cacheDir)];
  const lookaside = model.build.lookaside === null || /^[a-z]+:\/\//i.test(model.build.lookaside) ? null : resolve(model.root, model.build.lookaside);
  const effects: PathEffect[] = [];
  for (const abs of changes.paths) {
    const path = projectRelative(model.root, abs);
    if (outputs.some((dir) => isInside(dir, abs))) {
      effects.push(NONE(path, 'build output or cache'));
      continue;
    }
    if (lookaside !== null && isInside(lookaside, abs)) {
      // A build takes a lookaside file by the digest its component pins, so only a pin change (in the component folder) changes a build.
      effects.push(NONE(path, 'lookaside store: builds take sources by their pinned digest'));
      continue;
    }
    if (global.files.has(abs) || global.dirs.some((dir) => isInside(dir, abs))) {
      effects.push({ path, everything: true, components: [], images: [], reason: 'rpm macro context or build root, which every build uses' });
      continue;
    }
    if (configFiles.has(abs) || (abs.endsWith('.toml') && !existsSync(abs) && included(abs))) {
      effects.push(await classifyToml(model, changes, abs));
      continue;
    }
    const owners = componentsAround(folders, model.root, abs);
    const payloadOf = sources.get(abs) ?? [];
    if (owners.length > 0 || payloadOf.length > 0) {
      const reasons = [
        ...(owners.length > 0 ? [`in the folder of ${owners.join(', ')}`] : []),
        ...(payloadOf.length > 0 ? [`overlay source of ${unique(payloadOf).join(', ')}`] : []),
      ];
      effects.push({ path, everything: false, components: unique([...owners, ...payloadOf]), images: [], reason: reasons.join('; ') });
      continue;
    }
    if (abs.endsWith('.spec') && !existsSync(abs)) {
      // A spec that is gone took its component with it: the images that held its packages change.
      effects.push({ path, everything: false, components: [], images: Object.keys(model.images).sort(), reason: 'spec removed: its component is gone' });
      continue;
    }
    effects.push(NONE(path, 'not an input of any component or image'));
  }
  return effects;
}

/** The graph stage's output for one arch, when it is available. */
export interface ArchAnalysis {
  graph: BuildGraph;
  facts: SpecFacts[];
}

export interface AffectedComponent {
  name: string;
  arch: Arch;
  /** Changed by a file directly (not only through a dependency). */
  direct: boolean;
  /** Why: the files, or the dependency chain. */
  because: string[];
}

export interface AffectedImage {
  name: string;
  arch: Arch;
  because: string[];
}

export interface AffectedReport {
  files: PathEffect[];
  everything: boolean;
  /** Per arch, the components whose build changes, sorted by name. */
  components: AffectedComponent[];
  images: AffectedImage[];
  /** Arches for which the graph was not available: there, dependents and image closures are not followed. */
  approximate: Array<{ arch: Arch; reason: string }>;
}

function componentArches(model: DistroModel, name: string): Arch[] {
  return model.components[name]?.arches ?? model.distro.arches;
}

/**
 * From the files' effects to components per arch (following reverse build
 * dependencies) and images (through their package closure). `analyses`
 * holds the graph of each arch where the graph stage could run; an arch
 * without one is reported as approximate, with every image counted as affected
 * when any component is (the safe answer for CI).
 */
export function expandAffected(
  model: DistroModel,
  files: PathEffect[],
  analyses: Partial<Record<Arch, ArchAnalysis | { error: string }>>,
): AffectedReport {
  const everything = files.some((f) => f.everything);
  const directReasons = new Map<string, string[]>();
  for (const file of files) {
    const targets = file.everything ? Object.keys(model.components) : file.components;
    for (const name of targets) directReasons.set(name, [...(directReasons.get(name) ?? []), file.path]);
  }
  const imageReasons = new Map<string, string[]>();
  for (const file of files) {
    const targets = file.everything ? Object.keys(model.images) : file.images;
    for (const name of targets) imageReasons.set(name, [...(imageReasons.get(name) ?? []), file.path]);
  }

  const components: AffectedComponent[] = [];
  const images: AffectedImage[] = [];
  const approximate: AffectedReport['approximate'] = [];
  for (const arch of model.distro.arches) {
    const analysis = analyses[arch];
    const onArch = new Map<string, AffectedComponent>();
    for (const [name, because] of directReasons) {
      if (componentArches(model, name).includes(arch)) onArch.set(name, { name, arch, direct: true, because: unique(because) });
    }
    if (analysis && 'graph' in analysis) {
      const buildable = new Set(analysis.graph.components.map((c) => c.name));
      for (const name of [...onArch.keys()]) if (!buildable.has(name)) onArch.delete(name);
      // Whoever build-requires an affected component's output is rebuilt too (its cache key includes that output).
      const dependents = new Map<string, Array<{ from: string; via: string }>>();
      for (const edge of analysis.graph.edges) dependents.set(edge.to, [...(dependents.get(edge.to) ?? []), { from: edge.from, via: edge.via }]);
      const queue = [...onArch.keys()];
      while (queue.length > 0) {
        const name = queue.shift()!;
        for (const { from, via } of dependents.get(name) ?? []) {
          if (onArch.has(from)) continue;
          onArch.set(from, { name: from, arch, direct: false, because: [`build-requires ${via} from ${name}`] });
          queue.push(from);
        }
      }
      const closures = imageClosures(model, analysis.facts, arch);
      for (const [image, closure] of closures) {
        const hits = [...closure.entries()].filter(([, component]) => onArch.has(component));
        const because = [...(imageReasons.get(image) ?? []), ...hits.map(([pkg, component]) => `contains ${pkg} from ${component}`)];
        if (because.length > 0) images.push({ name: image, arch, because: unique(because) });
      }
    } else {
      // Nothing to follow when no component changed; otherwise every image may hold one of them.
      if (onArch.size > 0) approximate.push({ arch, reason: analysis ? analysis.error : 'the build graph was not computed' });
      for (const image of Object.keys(model.images).sort()) {
        const because = [...(imageReasons.get(image) ?? []), ...(onArch.size > 0 ? ['package closure unknown without the graph: assumed affected'] : [])];
        if (because.length > 0) images.push({ name: image, arch, because: unique(because) });
      }
    }
    components.push(...[...onArch.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
  }
  return { files, everything, components, images, approximate };
}

/**
 * Components from both declarations: [[component-globs]] (one component per
 * matching spec file, named after it) and [components.NAME] stanzas, which
 * declare a component or refine one a glob found.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { StrataError, formatLocation, type SourceLocation } from '../util/errors.js';
import { isInside, toPosix } from '../util/paths.js';
import { didYouMean } from '../util/suggest.js';
import type { Arch, Component, OverlaySpec } from './model.js';
import type { MergedDocument } from './merge.js';
import { isTable } from './config-file.js';
import { expandGlob, globMatcher, hasGlobMagic } from './glob.js';
import type { ProjectPaths } from './project-paths.js';
import { archList } from './settings.js';
import { NAME_PATTERN, OVERLAY_METADATA_KEYS, type RawConfig, type RawOverlay } from './schema.js';

interface FoundSpec {
  /** Relative to the project root. */
  rel: string;
  globIndex: number;
}

/** Spec files the globs declare, by component name. */
function specsFromGlobs(globs: RawConfig['component-globs'], paths: ProjectPaths, merged: MergedDocument): Map<string, FoundSpec> {
  const matches = globs.map((glob, index) => {
    const at = ['component-globs', index, 'path'];
    if (!isInside(paths.root, paths.inside(at, glob.path))) return [];
    const excluded = glob.exclude.map(globMatcher);
    const specs = expandGlob(paths.root, glob.path);
    // Like includes: a pattern may match nothing, a plain path must exist.
    if (specs.length === 0 && !hasGlobMagic(glob.path)) paths.fail(at, `component-globs[${index}].path: file '${glob.path}' does not exist`);
    return specs.filter((rel) => rel.endsWith('.spec') && !excluded.some((matches) => matches(rel)));
  });
  const found = new Map<string, FoundSpec>();
  matches.forEach((rels, globIndex) => {
    const at = ['component-globs', globIndex, 'path'];
    for (const rel of rels) {
      const name = basename(rel, '.spec');
      const earlier = found.get(name);
      if (!NAME_PATTERN.test(name)) {
        paths.fail(at, `spec file '${rel}' does not give a valid component name ('${name}': use letters, digits and . _ + -)`);
      } else if (earlier === undefined) {
        found.set(name, { rel, globIndex });
      } else if (earlier.rel !== rel) {
        const where = earlier.globIndex === globIndex ? 'also by this glob' : `by the glob at ${formatLocation(merged.valueAt(['component-globs', earlier.globIndex, 'path']))}`;
        paths.fail(at, `component '${name}' is found twice: '${rel}' and '${earlier.rel}' (${where})`, 'exclude one of the two spec files, or rename one');
      }
    }
  });
  return found;
}

/** TOML date-times as their ISO text, so that fields hash and print like every other value. */
function plainValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainValue);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainValue(inner)]));
  return value;
}

function overlaySpecs(raw: RawOverlay[], path: Array<string | number>, merged: MergedDocument): OverlaySpec[] {
  const metadata = new Set<string>(OVERLAY_METADATA_KEYS);
  return raw.map((overlay, index) => {
    const at = [...path, index];
    const fields: Record<string, unknown> = {};
    const fieldLocations: Record<string, SourceLocation> = { type: merged.keyAt([...at, 'type']) };
    for (const [key, value] of Object.entries(overlay)) {
      if (metadata.has(key)) continue;
      fields[key] = plainValue(value);
      fieldLocations[key] = merged.keyAt([...at, key]);
    }
    return {
      type: overlay.type,
      fields,
      description: overlay.description ?? null,
      category: overlay.category ?? null,
      upstreamStatus: overlay['upstream-status'] ?? null,
      location: merged.keyAt(at),
      fieldLocations,
      index: index + 1,
      configFile: merged.fileOf(at).path,
    };
  });
}

export function resolveComponents(
  globs: RawConfig['component-globs'],
  stanzas: RawConfig['components'],
  distroArches: Arch[],
  merged: MergedDocument,
  paths: ProjectPaths,
): Record<string, Component> {
  const found = specsFromGlobs(globs, paths, merged);
  const components = new Map<string, Component>();
  for (const [name, spec] of found) {
    const specPath = resolve(paths.root, spec.rel);
    components.set(name, {
      name,
      specPath,
      dir: dirname(specPath),
      overlays: [],
      definedAt: merged.valueAt(['component-globs', spec.globIndex, 'path']),
      origin: 'glob',
      sourceHashes: {},
      arches: null,
    });
  }
  for (const [name, raw] of Object.entries(stanzas)) {
    const path = ['components', name];
    const stanzaAt = merged.keyAt(path);
    const globbed = components.get(name);
    let specPath: string;
    if (raw.spec !== undefined) {
      specPath = paths.existing([...path, 'spec'], raw.spec, 'file');
    } else if (globbed) {
      specPath = globbed.specPath;
    } else {
      specPath = resolve(paths.root, 'specs', name, `${name}.spec`);
      if (!existsSync(specPath)) {
        const near = didYouMean(name, found.keys());
        paths.errors.push(
          new StrataError(`component '${name}' has no spec file: specs/${name}/${name}.spec does not exist${near}`, {
            location: stanzaAt,
            hint: 'set spec = "path/to/NAME.spec", or add the spec where a [[component-globs]] pattern finds it',
          }),
        );
      }
    }
    components.set(name, {
      name,
      specPath,
      dir: dirname(specPath),
      overlays: overlaySpecs(raw.overlays, [...path, 'overlays'], merged),
      definedAt: globbed?.definedAt ?? stanzaAt,
      origin: globbed ? 'glob' : 'stanza',
      ...(globbed ? { refinedAt: stanzaAt } : {}),
      sourceHashes: raw['source-hashes'],
      arches: raw.arches === undefined ? null : archList([...path, 'arches'], raw.arches, paths, distroArches),
    });
  }
  const sorted = [...components.keys()].sort();
  checkSpecsUnshared(sorted.map((name) => components.get(name)!), stanzas, paths);
  return Object.fromEntries(sorted.map((name) => [name, components.get(name)!]));
}

/** One spec file makes one component: two components building it would make the same packages. */
function checkSpecsUnshared(components: Component[], stanzas: RawConfig['components'], paths: ProjectPaths): void {
  const owner = new Map<string, Component>();
  for (const component of components) {
    const first = owner.get(component.specPath);
    if (!first) {
      owner.set(component.specPath, component);
      continue;
    }
    // Report at the stanza that points a second component at the spec.
    const [other, culprit] = stanzas[component.name]?.spec !== undefined ? [first, component] : [component, first];
    paths.fail(
      ['components', culprit.name, 'spec'],
      `components '${culprit.name}' and '${other.name}' use the same spec file ${toPosix(relative(paths.root, component.specPath))}`,
      'a spec file makes one component: remove one of the two, or give each its own spec',
    );
  }
}

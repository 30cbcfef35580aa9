/**
 * The model's identity: the same project checked out in another folder, or
 * loaded from another working directory, has the same fingerprint. Paths are
 * made project-relative; where things were written (locations, the list of
 * files) is not part of what the config means, so it is left out.
 */
import { relative } from 'node:path';
import { hashRecord } from '../util/hash.js';
import { toPosix } from '../util/paths.js';
import type { Component, DistroModel } from './model.js';

export function portableModel(model: Omit<DistroModel, 'fingerprint'>): Record<string, unknown> {
  const rel = (path: string): string => toPosix(relative(model.root, path)) || '.';
  const buildRoot = model.build.buildRoot;
  return {
    distro: model.distro,
    rpm: { ...model.rpm, macroFiles: model.rpm.macroFiles.map(rel), luaDirs: model.rpm.luaDirs.map(rel), rpmrc: model.rpm.rpmrc === null ? null : rel(model.rpm.rpmrc) },
    components: Object.fromEntries(Object.values(model.components).map((component) => [component.name, portableComponent(component, rel)])),
    build: {
      ...model.build,
      buildRoot: 'path' in buildRoot ? { ...buildRoot, path: rel(buildRoot.path) } : buildRoot,
      outDir: rel(model.build.outDir),
      cacheDir: rel(model.build.cacheDir),
      lookaside: model.build.lookaside === null || /^[a-z]+:\/\//i.test(model.build.lookaside) ? model.build.lookaside : rel(model.build.lookaside),
    },
    graph: { providers: model.graph.providers, cycleBreaks: model.graph.cycleBreaks.map(({ location: _location, ...entry }) => entry) },
    images: Object.fromEntries(
      Object.values(model.images).map(({ definedAt: _definedAt, ...image }) => [
        image.name,
        { ...image, signing: image.signing === null ? null : { key: rel(image.signing.key), certificate: rel(image.signing.certificate) } },
      ]),
    ),
  };
}

function portableComponent(component: Component, rel: (path: string) => string): Record<string, unknown> {
  return {
    name: component.name,
    spec: rel(component.specPath),
    dir: rel(component.dir),
    sourceHashes: component.sourceHashes,
    arches: component.arches,
    overlays: component.overlays.map(({ location: _location, fieldLocations: _fieldLocations, configFile, ...overlay }) => ({
      ...overlay,
      configFile: configFile === undefined ? undefined : rel(configFile),
    })),
  };
}

export function modelFingerprint(model: Omit<DistroModel, 'fingerprint'>): string {
  return hashRecord(portableModel(model));
}

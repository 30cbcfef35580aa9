/**
 * The validated raw sections turned into the model's settings: paths resolved
 * and confined, cross-references (arches, component names) checked.
 */
import { resolve } from 'node:path';
import { didYouMean } from '../util/suggest.js';
import type { Arch, BuildSettings, Component, DistroSettings, FarmSettings, GraphSettings, ImageDefinition, RpmSettings } from './model.js';
import type { MergedDocument } from './merge.js';
import { formatPath, type KeyPath } from './key-path.js';
import type { ProjectPaths } from './project-paths.js';
import type { RawConfig, RawImage } from './schema.js';

/** A list of arches, each listed once and, for a component, among the distro's. */
export function archList(path: KeyPath, arches: Arch[], paths: ProjectPaths, distroArches?: Arch[]): Arch[] {
  arches.forEach((arch, index) => {
    const at = [...path, index];
    if (arches.indexOf(arch) !== index) paths.fail(at, `${formatPath(at)}: '${arch}' is listed twice`);
    else if (distroArches && !distroArches.includes(arch)) paths.fail(at, `${formatPath(at)}: '${arch}' is not one of the distro's arches (${distroArches.join(', ')})`);
  });
  return [...new Set(arches)];
}

export function distroSettings(raw: RawConfig['distro'], paths: ProjectPaths): DistroSettings {
  return {
    name: raw.name,
    version: raw.version,
    distTag: raw['dist-tag'],
    vendor: raw.vendor,
    arches: archList(['distro', 'arches'], raw.arches, paths),
    sourceDateEpoch: raw['source-date-epoch'],
  };
}

export function rpmSettings(raw: RawConfig['rpm'], paths: ProjectPaths): RpmSettings {
  return {
    macroFiles: paths.files(['rpm', 'macro-files'], raw['macro-files']),
    luaDirs: paths.folders(['rpm', 'lua-dirs'], raw['lua-dirs']),
    rpmrc: raw.rpmrc === undefined ? null : paths.existing(['rpm', 'rpmrc'], raw.rpmrc, 'file'),
    defines: raw.defines,
  };
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function lookaside(raw: string | undefined, paths: ProjectPaths): string | null {
  if (raw === undefined) return null;
  const at = ['build', 'lookaside'];
  if (!URL_SCHEME.test(raw)) return paths.inside(at, raw);
  if (!/^https?:\/\//.test(raw)) paths.fail(at, `build.lookaside: '${raw}' is neither an http(s) URL nor a folder`);
  else if (!raw.includes('{name}') && !raw.includes('{sha256}')) {
    paths.fail(at, 'build.lookaside: a lookaside URL needs {name} and/or {sha256}', 'e.g. "https://example.org/lookaside/{name}/sha256/{sha256}/{name}"');
  }
  return raw;
}

function buildRoot(raw: RawConfig['build']['build-root'], paths: ProjectPaths): BuildSettings['buildRoot'] {
  const at = ['build', 'build-root'];
  if (raw.type === 'host') {
    if (raw.path !== undefined) paths.fail([...at, 'path'], `build.build-root.path: only used when type is 'tarball' or 'oci'`);
    return { type: 'host', provides: raw.provides };
  }
  if (raw.path === undefined) {
    paths.missing(at, 'path', `needed when type is '${raw.type}'`);
    return { type: raw.type, path: paths.root, provides: raw.provides };
  }
  return { type: raw.type, path: paths.existing([...at, 'path'], raw.path, raw.type === 'tarball' ? 'file' : 'folder'), provides: raw.provides };
}

export function buildSettings(raw: RawConfig['build'], paths: ProjectPaths): BuildSettings {
  return {
    jobs: raw.jobs,
    sandbox: raw.sandbox,
    buildRoot: buildRoot(raw['build-root'], paths),
    outDir: paths.inside(['build', 'out-dir'], raw['out-dir']),
    cacheDir: paths.inside(['build', 'cache-dir'], raw['cache-dir']),
    lookaside: lookaside(raw.lookaside, paths),
    timeoutSeconds: raw.timeout,
    crossCheck: raw['cross-check'],
    executor: raw.executor,
    farm: farmSettings(raw.farm, paths.root),
  };
}

/** Credential files are the one kind of path allowed outside the project: secrets are kept apart from checkouts. */
function farmSettings(raw: RawConfig['build']['farm'], root: string): FarmSettings {
  const file = (path: string | undefined): string | undefined => (path === undefined ? undefined : resolve(root, path));
  const settings: FarmSettings = {
    url: raw.url,
    credsFile: file(raw['creds-file']),
    nkeyFile: file(raw['nkey-file']),
    tlsCa: file(raw['tls-ca']),
    tlsCert: file(raw['tls-cert']),
    tlsKey: file(raw['tls-key']),
    queueAhead: raw['queue-ahead'],
    replicas: raw.replicas,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as FarmSettings;
}

/**
 * References to components must name one. `invalid` holds components declared
 * with errors of their own (already reported), which are known all the same.
 */
export function graphSettings(raw: RawConfig['graph'], components: Record<string, Component>, invalid: Set<string>, paths: ProjectPaths, merged: MergedDocument): GraphSettings {
  const known = (name: string, at: KeyPath): void => {
    if (components[name] === undefined && !invalid.has(name)) paths.fail(at, `${formatPath(at)}: unknown component '${name}'${didYouMean(name, Object.keys(components))}`);
  };
  for (const [capability, component] of Object.entries(raw.providers)) known(component, ['graph', 'providers', capability]);
  return {
    providers: raw.providers,
    cycleBreaks: raw['cycle-breaks'].map((entry, index) => {
      known(entry.component, ['graph', 'cycle-breaks', index, 'component']);
      return { component: entry.component, requirement: entry.requirement, from: entry.from, location: merged.keyAt(['graph', 'cycle-breaks', index]) };
    }),
  };
}

function image(name: string, raw: RawImage, distroArches: Arch[], paths: ProjectPaths, merged: MergedDocument): ImageDefinition {
  const at = ['images', name];
  const perArch: ImageDefinition['perArch'] = {};
  for (const [arch, changes] of Object.entries(raw.arch) as Array<[Arch, NonNullable<RawImage['arch'][Arch]>]>) {
    if (!distroArches.includes(arch)) {
      paths.failKey([...at, 'arch', arch], `${formatPath([...at, 'arch'])}: '${arch}' is not one of the distro's arches (${distroArches.join(', ')})`);
    }
    perArch[arch] = { addPackages: changes['add-packages'], removePackages: changes['remove-packages'] };
  }
  return {
    name,
    packages: raw.packages,
    extraRepos: raw['extra-repos'],
    filesystem: raw.filesystem,
    verity: raw.verity,
    layout: raw.layout,
    minimise: { docs: raw.minimise.docs, locales: raw.minimise.locales, remove: raw.minimise.remove },
    init: raw.init,
    cmdline: raw.cmdline,
    formats: [...new Set(raw.formats)],
    signing: raw.signing
      ? { key: paths.inside([...at, 'signing', 'key'], raw.signing.key), certificate: paths.inside([...at, 'signing', 'certificate'], raw.signing.certificate) }
      : null,
    perArch,
    bootMarker: raw['boot-marker'],
    definedAt: merged.keyAt(at),
  };
}

export function imageDefinitions(raw: RawConfig['images'], distroArches: Arch[], paths: ProjectPaths, merged: MergedDocument): Record<string, ImageDefinition> {
  const names = Object.keys(raw).sort();
  return Object.fromEntries(names.map((name) => [name, image(name, raw[name]!, distroArches, paths, merged)]));
}

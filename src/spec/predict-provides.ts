/**
 * Provides rpm only generates at build time (from the files a package ships),
 * predicted from the %files list so the graph is right before anything is
 * built. Each rule mirrors an rpm dependency generator and fires only when the
 * file name alone says what the generator would print; see docs/graph.md for
 * what is predicted and what is not.
 */
import type { Dependency } from './model.js';
import type { FileEntry } from './parsed-spec.js';

export interface PredictInput {
  /** Package name, for config(NAME). */
  name: string;
  /** [epoch:]version-release of the package. */
  evr: string;
  version: string;
  /** Target arch of the package ('noarch' for noarch). */
  arch: string;
  files: FileEntry[];
}

const hasGlob = (text: string): boolean => /[*?[\]{}]/.test(text);

function provide(name: string, flag: Dependency['flag'] = null, evr: string | null = null): Dependency {
  return { raw: flag && evr ? `${name} ${flag} ${evr}` : name, name, flag, evr };
}

/** pkgconfigdeps.sh: `<libdir|datadir>/pkgconfig/NAME.pc` → pkgconfig(NAME) = the .pc Version (almost always the package's). */
function pkgconfig(path: string, input: PredictInput): Dependency[] {
  const m = /\/pkgconfig\/([^/]+)\.pc$/.exec(path);
  if (!m || hasGlob(m[1]!)) return [];
  return [provide(`pkgconfig(${m[1]})`, '=', input.version)];
}

/** cmake.prov: `<libdir|datadir>/cmake/DIR/NAMEConfig.cmake` or `name-config.cmake` → cmake(NAME) and cmake(name). */
function cmake(path: string, input: PredictInput): Dependency[] {
  const m = /\/(?:lib|lib64|share)\/cmake\/[^/]+\/([^/]+?)(Config|-config)\.cmake$/.exec(path);
  if (!m || hasGlob(m[1]!)) return [];
  const names = new Set([m[1]!, m[1]!.toLowerCase()]);
  return [...names].map((name) => provide(`cmake(${name})`, '=', input.version));
}

/** perl.prov: a .pm below a perl library root → perl(A::B). */
function perl(path: string): Dependency[] {
  const m = /\/perl5\/(?:vendor_perl\/|site_perl\/)?(?:[0-9][0-9.]*\/)?(?:[a-z0-9_]+-linux[^/]*\/)?(.+)\.pm$/.exec(path);
  if (!m || hasGlob(m[1]!)) return [];
  return [provide(`perl(${m[1]!.split('/').join('::')})`)];
}

/** pythondistdeps.py: site-packages/NAME-VERSION.dist-info (or .egg-info) → python3dist(name), pythonX.Ydist(name). */
function python(path: string, input: PredictInput): Dependency[] {
  const m = /\/python(3\.\d+)\/site-packages\/([A-Za-z0-9._]+?)-[^/]*\.(?:dist-info|egg-info)$/.exec(path);
  if (!m) return [];
  // PEP 503 normalisation, as pythondistdeps prints the name.
  const name = m[2]!.toLowerCase().replace(/[-_.]+/g, '-');
  return [provide(`python3dist(${name})`, '=', input.version), provide(`python${m[1]}dist(${name})`, '=', input.version)];
}

/**
 * elfdeps: a shared library named with its soname major (`libx.so.1`,
 * `libx.so.1.2.3`, or the usual `libx.so.1*` glob) → `libx.so.1()(64bit)`.
 */
function soname(path: string, input: PredictInput): Dependency[] {
  const m = /\/lib(?:64)?\/(lib[^/]+?\.so\.\d+)(?:[.*][^/]*)?$/.exec(path);
  if (!m || hasGlob(m[1]!) || input.arch === 'noarch') return [];
  return [provide(`${m[1]}()(64bit)`)];
}

const RULES = [pkgconfig, cmake, perl, python, soname];

/** The provides rpm's generators would add for these files, deduplicated and sorted. */
export function predictProvides(input: PredictInput): Dependency[] {
  const out = new Map<string, Dependency>();
  for (const entry of input.files) {
    if (entry.dir || entry.ghost) continue;
    for (const rule of RULES) for (const dep of rule(entry.path, input)) out.set(dep.raw, dep);
  }
  // rpm gives every package with %config files a config(NAME) = EVR provide.
  if (input.files.some((entry) => entry.config)) {
    const dep = provide(`config(${input.name})`, '=', input.evr);
    out.set(dep.raw, dep);
  }
  return [...out.values()].sort((a, b) => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0));
}

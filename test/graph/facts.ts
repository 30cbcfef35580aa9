/** Hand-made spec facts for graph tests (what rpmspec would report). */
import type { Arch } from '../../src/config/model.js';
import type { SpecFacts } from '../../src/spec/model.js';
import { simpleDependency, parseDependency } from '../../src/graph/dependency.js';

export interface SubSketch {
  name: string;
  provides?: string[];
  predicted?: string[];
  files?: string[];
  noarch?: boolean;
}

const dep = (text: string) => {
  const tree = parseDependency(text);
  return tree.kind === 'simple' ? simpleDependency(text) : { raw: text, name: null, flag: null, evr: null };
};

export function fact(component: string, options: { version?: string; subs?: SubSketch[]; br?: string[]; exclusiveArch?: string[]; arch?: Arch } = {}): SpecFacts {
  const arch = options.arch ?? 'x86_64';
  const version = options.version ?? '1.0';
  const evr = `${version}-1`;
  const subs = options.subs ?? [{ name: component }];
  const buildable = !options.exclusiveArch || options.exclusiveArch.includes(arch);
  return {
    component,
    arch,
    name: component,
    epoch: null,
    version,
    release: '1',
    evr,
    subpackages: subs.map((s) => ({
      name: s.name,
      arch: s.noarch ? 'noarch' : arch,
      // rpm's implicit NAME = EVR, then the explicit ones.
      provides: [dep(`${s.name} = ${evr}`), ...(s.provides ?? []).map(dep)],
      requires: [],
      files: s.files ?? [],
      predictedProvides: (s.predicted ?? []).map(dep),
    })),
    buildRequires: (options.br ?? []).map(dep),
    exclusiveArch: options.exclusiveArch ?? [],
    excludeArch: [],
    buildable,
    noarch: subs.every((s) => s.noarch),
    sources: [],
    patches: [],
    key: component,
  };
}

/**
 * Run-time package closures: which binary packages a list of packages pulls in,
 * and through which requirement, over spec facts or built RPM headers. The
 * composer uses it to build what an image needs; `affected` and `why` to find
 * the images a component reaches.
 *
 * The prediction resolves each requirement to every in-distro package that
 * provides it (or those of the component [graph] providers names), so it may list a package
 * dnf would not pick; it never misses one dnf could pick from this distro.
 */
import type { Dependency, SubpackageFacts } from '../spec/model.js';

export interface PackageNode {
  name: string;
  component: string;
  requires: Dependency[];
}

export interface ProviderIndex {
  packages: Map<string, PackageNode>;
  /** capability (name, provide, file path) → packages offering it. */
  providers: Map<string, string[]>;
}

const RICH_OPERATORS = new Set(['and', 'or', 'if', 'else', 'unless', 'with', 'without']);

/** Capability names a requirement can be satisfied by; a rich dependency counts every name in it. */
export function requirementNames(dep: Dependency): string[] {
  if (dep.name !== null) return [dep.name];
  return dep.raw
    .replace(/[()]/g, ' ')
    .split(/\s+/)
    .filter((word, i, words) => word !== '' && !RICH_OPERATORS.has(word) && !/^[<>=]/.test(word) && !/^[<>=]/.test(words[i - 1] ?? ''));
}

/** What an index needs of a component: spec facts, or the headers of built RPMs, both fit. */
export interface PackageSource {
  component: string;
  buildable: boolean;
  subpackages: Array<Pick<SubpackageFacts, 'name' | 'provides' | 'requires' | 'files' | 'predictedProvides'>>;
}

export function providerIndex(facts: readonly PackageSource[]): ProviderIndex {
  const packages = new Map<string, PackageNode>();
  const providers = new Map<string, string[]>();
  const offer = (capability: string, pkg: string): void => {
    const list = providers.get(capability) ?? [];
    if (!list.includes(pkg)) providers.set(capability, [...list, pkg]);
  };
  for (const fact of facts) {
    if (!fact.buildable) continue;
    for (const sub of fact.subpackages) {
      packages.set(sub.name, { name: sub.name, component: fact.component, requires: sub.requires });
      offer(sub.name, sub.name);
      for (const dep of [...sub.provides, ...sub.predictedProvides]) if (dep.name) offer(dep.name, sub.name);
      for (const file of sub.files) offer(file, sub.name);
    }
  }
  return { packages, providers };
}

/** How a package entered a closure: from the image's list (parent null) or required by `parent` through `via`. */
export interface ClosureStep {
  parent: string | null;
  via: string | null;
}

/**
 * Breadth-first closure, so each package's recorded parent lies on a shortest
 * chain from the image's list. `preferred` ([graph] providers) names the
 * component to take a capability from when several offer it.
 */
export function closure(index: ProviderIndex, roots: string[], preferred: Readonly<Record<string, string>> = {}): Map<string, ClosureStep> {
  const seen = new Map<string, ClosureStep>();
  const queue: string[] = [];
  for (const root of roots) {
    for (const pkg of index.providers.get(root) ?? []) {
      if (!seen.has(pkg)) {
        seen.set(pkg, { parent: null, via: root === pkg ? null : root });
        queue.push(pkg);
      }
    }
  }
  while (queue.length > 0) {
    const name = queue.shift()!;
    for (const dep of index.packages.get(name)?.requires ?? []) {
      for (const capability of requirementNames(dep)) {
        const chosen = preferred[capability];
        const offered = index.providers.get(capability) ?? [];
        const candidates = chosen ? offered.filter((pkg) => index.packages.get(pkg)?.component === chosen) : offered;
        for (const pkg of candidates) {
          if (seen.has(pkg)) continue;
          seen.set(pkg, { parent: name, via: dep.raw });
          queue.push(pkg);
        }
      }
    }
  }
  return seen;
}

/**
 * Spec facts: what rpmspec says a component is, per target arch.
 * Produced by src/spec from rendered components; consumed by src/graph.
 */
import type { Arch } from '../config/model.js';

export type DepFlag = '<' | '<=' | '=' | '>=' | '>';

/** One dependency as rpm writes it: `name`, `name >= evr`, or a rich `(a or b)`. */
export interface Dependency {
  /** The text as rpm printed it. */
  raw: string;
  /** Simple dependencies: the capability name; rich ones: null. */
  name: string | null;
  flag: DepFlag | null;
  evr: string | null;
}

export interface SubpackageFacts {
  name: string;
  /** Target arch, or 'noarch'. */
  arch: string;
  provides: Dependency[];
  requires: Dependency[];
  /** Paths from %files, macros expanded (globs left as written); folders listed with %dir end in '/'. */
  files: string[];
  /** Provides rpm would generate at build time, predicted from `files`. */
  predictedProvides: Dependency[];
  /** `%files -f LIST` names: file lists that only exist at build time (their files are not predicted). */
  fileLists?: string[];
}

export interface SpecFacts {
  component: string;
  arch: Arch;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  /** [epoch:]version-release */
  evr: string;
  subpackages: SubpackageFacts[];
  buildRequires: Dependency[];
  exclusiveArch: string[];
  excludeArch: string[];
  /** False when ExclusiveArch/ExcludeArch rule this arch out. */
  buildable: boolean;
  /** True when every subpackage is noarch: built once, not per arch. */
  noarch: boolean;
  sources: Array<{ index: number; name: string; url: string }>;
  patches: Array<{ index: number; name: string }>;
  /** Hash of (rendered spec, macro context, arch): the cache key of these facts. */
  key: string;
}

/**
 * The distro model: what `loadProject` returns after parsing and validating
 * toolkit.config.toml and its includes. Every path is absolute; every record
 * that came from a file knows where (for diagnostics and `strata config --json`).
 * Later stages trust this data and never re-validate it.
 */
import type { SourceLocation } from '../util/errors.js';

export type Arch = 'x86_64' | 'aarch64';
export const ARCHES: readonly Arch[] = ['x86_64', 'aarch64'];

export interface DistroModel {
  /** Project root: the folder holding toolkit.config.toml. */
  root: string;
  configFile: string;
  /** Every TOML file read, in merge order. */
  files: string[];
  distro: DistroSettings;
  rpm: RpmSettings;
  components: Record<string, Component>;
  build: BuildSettings;
  graph: GraphSettings;
  images: Record<string, ImageDefinition>;
  /** SHA-256 over the canonical merged model (paths made project-relative). */
  fingerprint: string;
}

export interface DistroSettings {
  name: string;
  version: string;
  /** e.g. ".sx1"; becomes %{dist}. */
  distTag: string;
  /** Default vendor string for RPMs and os-release. */
  vendor: string;
  arches: Arch[];
  /** Seconds since the epoch; every timestamp strata writes comes from it. */
  sourceDateEpoch: number;
}

export interface RpmSettings {
  /** Macro files loaded after rpm's own (absolute paths, expanded globs, in order). */
  macroFiles: string[];
  /** Extra folders of Lua modules (`require "x.y"`), copied under <configdir>/lua/. */
  luaDirs: string[];
  /** An rpmrc to use instead of the host's, if the distro has one. */
  rpmrc: string | null;
  /** `--define` pairs, applied last. */
  defines: Record<string, string>;
}

export interface Component {
  name: string;
  /** Absolute path of the spec file. */
  specPath: string;
  /** The component folder (the spec's folder): sources, patches, signatures. */
  dir: string;
  overlays: OverlaySpec[];
  /** Where the component was declared (its stanza, or the bulk glob that found it). */
  definedAt: SourceLocation;
  /** 'stanza' for [components.NAME], 'glob' for bulk declarations. */
  origin: 'stanza' | 'glob';
  /** For a component a glob found: the [components.NAME] stanza that refines it, if any. */
  refinedAt?: SourceLocation;
  /** Explicit sha256 pins from config, merged over the signatures file. */
  sourceHashes: Record<string, string>;
  /** Arches this component is built for (default: all distro arches). */
  arches: Arch[] | null;
}

/**
 * One overlay as written in config. `fields` holds every key of the overlay
 * table except the shared metadata, already validated against that type's schema.
 */
export interface OverlaySpec {
  type: string;
  fields: Record<string, unknown>;
  description: string | null;
  category: string | null;
  upstreamStatus: string | null;
  /** Position of the overlay table, and of each of its keys (for precise errors). */
  location: SourceLocation;
  fieldLocations: Record<string, SourceLocation>;
  /** 1-based position in the component's overlay list. */
  index: number;
  /** Absolute path of the config file the overlay is written in (for fields relative to it, like `source`). */
  configFile?: string;
}

export type SandboxBackend = 'bubblewrap' | 'podman';

export type BuildRootSpec =
  | { type: 'host'; provides: string[] }
  | { type: 'tarball' | 'oci'; path: string; provides: string[] };

export interface BuildSettings {
  /** Parallel jobs; 0 means the number of cores. */
  jobs: number;
  sandbox: SandboxBackend;
  buildRoot: BuildRootSpec;
  outDir: string;
  cacheDir: string;
  /** Folder or URL template (`{name}`, `{sha256}`) where sources not in the component folder are found. */
  lookaside: string | null;
  /** Per-job timeout in seconds. */
  timeoutSeconds: number;
  /** Run %check when cross-building (under qemu-user). */
  crossCheck: boolean;
  /** 'local': this machine's sandboxes; 'nats': the build farm. */
  executor: 'local' | 'nats';
  farm: FarmSettings;
}

/** Where the build farm is and how to log in (secrets only from the environment). Paths absolute. */
export interface FarmSettings {
  url?: string;
  credsFile?: string;
  nkeyFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  queueAhead?: number;
  /** Stream replicas when a build is the first to create the farm (3 on a three-node cluster). */
  replicas?: number;
}

export interface GraphSettings {
  /** capability → component, when several components provide it. */
  providers: Record<string, string>;
  /** Requirements declared satisfied outside the graph, to break cycles. */
  cycleBreaks: CycleBreak[];
}

export interface CycleBreak {
  component: string;
  requirement: string;
  /** Where the requirement is satisfied from instead. */
  from: 'build-root' | 'bootstrap';
  location: SourceLocation;
}

export type FilesystemType = 'erofs' | 'squashfs';

export interface ImageDefinition {
  name: string;
  packages: string[];
  /** Extra dnf repositories (baseurl), for users with a real distro mirror. */
  extraRepos: string[];
  filesystem: FilesystemType;
  verity: boolean;
  /** 'root': whole root read-only; 'usr': read-only /usr with its own verity partition. */
  layout: 'root' | 'usr';
  minimise: MinimiseRules;
  /** Path of init inside the image, for the kernel command line. */
  init: string;
  /** Extra kernel command-line arguments. */
  cmdline: string[];
  formats: Array<'raw' | 'vhd' | 'qcow2'>;
  signing: { key: string; certificate: string } | null;
  /** Per-arch changes: packages added or removed. */
  perArch: Partial<Record<Arch, { addPackages: string[]; removePackages: string[] }>>;
  /** Text the image's init prints when it booted correctly (strata boot waits for it). */
  bootMarker: string;
  definedAt: SourceLocation;
}

export interface MinimiseRules {
  docs: boolean;
  locales: string[];
  /** Extra path globs removed from the tree. */
  remove: string[];
}

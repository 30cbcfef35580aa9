/**
 * The executor contract: how one build job is described, handed to a backend,
 * and reported back. A job is a self-contained bundle (a JSON manifest that
 * names every input by SHA-256) so that a backend may run it here, in a local
 * sandbox, or ship it to another host (a NATS JetStream worker pool) that
 * fetches the blobs by digest. Executors know nothing about the graph, the
 * cache or the repository: they turn one bundle into RPM files.
 *
 * Stability: farm workers and local sandboxes both speak this format. Adding an
 * optional field is fine; changing the meaning of a field bumps BUNDLE_FORMAT.
 */
import type { Arch } from '../config/model.js';
import type { Logger } from '../util/log.js';
import { hashRecord } from '../util/hash.js';

export const BUNDLE_FORMAT = 'strata-job/1';

/** One input file of a bundle: where it goes in the job tree and what its bytes are. */
export interface BundleFile {
  /** Relative, '/'-separated path inside its group (SOURCES/, deps/, the rpm config tree). */
  path: string;
  sha256: string;
  size: number;
  /** Permission bits (0o644, 0o755). */
  mode: number;
}

/** What the build sees as its operating system, besides the job's own dependency RPMs. */
export interface BuildRootIdentity {
  type: 'host' | 'tarball' | 'oci';
  /**
   * Content identity of the root: for `host`, a hash of the installed package
   * set; for an imported root, a hash of its archives' digests. Changing it
   * changes every cache key.
   */
  id: string;
  /** Capabilities the root offers to BuildRequires (seeded into the job's rpm database). */
  provides: string[];
  /**
   * For imported roots: the archives (tarball, or OCI layers in order), as blobs.
   * Empty for `host`, which a remote worker must match by `id`.
   */
  archives: BundleFile[];
}

export interface JobBundle {
  format: typeof BUNDLE_FORMAT;
  /** Human-readable job name, `component/arch` or `component/noarch`. */
  job: string;
  component: string;
  /** The arch rpmbuild targets (`--target`); for a noarch job, the arch it was built on. */
  arch: Arch;
  /** All output is noarch: built once, published for every arch. */
  noarch: boolean;
  /** File name of the spec inside `sources`. */
  specFile: string;
  /** The rendered spec and every file of the component folder (sources, patches), placed in SOURCES/. */
  sources: BundleFile[];
  /** RPMs of this distro that the build needs (BuildRequires and their runtime closure). */
  dependencyRpms: BundleFile[];
  /** The private rpm configuration tree (RPM_CONFIGDIR): rpm's own files plus the distro's macros. */
  rpmConfig: BundleFile[];
  /** Arguments for rpmbuild besides the action and the spec (--target, --define …), config-dir free. */
  rpmArgs: string[];
  /** Environment for rpmbuild (without RPM_CONFIGDIR, HOME, PATH: the executor sets those). */
  env: Record<string, string>;
  buildRoot: BuildRootIdentity;
  sourceDateEpoch: number;
  /** Run %check (for cross builds: under qemu-user). */
  check: boolean;
  timeoutSeconds: number;
  /** Version of strata's build recipe (sandbox layout, rpmbuild defines): part of the cache key. */
  recipe: string;
  /** The cache key: hash of every field above that can change the output. */
  key: string;
}

/** The content address of a bundle (what a farm stores it under). */
export function bundleDigest(bundle: JobBundle): string {
  return hashRecord(bundle);
}

/** Every distinct blob a bundle refers to, with its size, sorted by digest. */
export function bundleBlobRefs(bundle: JobBundle): Array<{ sha256: string; size: number }> {
  const all = [...bundle.sources, ...bundle.dependencyRpms, ...bundle.rpmConfig, ...bundle.buildRoot.archives];
  const sizes = new Map(all.map((file) => [file.sha256, file.size]));
  return [...sizes].map(([sha256, size]) => ({ sha256, size })).sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
}

/** Every distinct blob a bundle refers to, sorted by digest. */
export function bundleBlobs(bundle: JobBundle): string[] {
  return bundleBlobRefs(bundle).map((ref) => ref.sha256);
}

export interface JobArtifact {
  /** File name, e.g. `greet-1.0-1.sx1.x86_64.rpm`. */
  file: string;
  sha256: string;
  size: number;
}

export type JobStatus = 'succeeded' | 'failed';

export interface JobResult {
  job: string;
  key: string;
  status: JobStatus;
  /** rpmbuild's exit status (null when it never ran or was killed). */
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  /** Binary RPMs written to the request's outputDir (sorted by file name). */
  artifacts: JobArtifact[];
  /** One-line reason for a failure, from the log when rpm said why (e.g. "Failed build dependencies: foo is needed by …"). */
  reason?: string;
  /** The last lines of the job log. */
  logTail: string[];
}

export interface ExecuteRequest {
  bundle: JobBundle;
  /** Where each blob named in the bundle can be read locally, by SHA-256. */
  blobs: ReadonlyMap<string, string>;
  /** An empty folder the executor fills with the binary RPMs it built. */
  outputDir: string;
  /** The job log (the executor appends to it). */
  logFile: string;
  signal?: AbortSignal;
}

export interface ProbeResult {
  backend: string;
  ok: boolean;
  /** What worked, or why it did not. */
  detail: string;
}

/**
 * A backend that runs bundles. `run` resolves for every build outcome (a
 * failed rpmbuild is a JobResult with status 'failed'); it rejects only when
 * the backend itself cannot work, and with a StrataError of kind 'interrupted'
 * when the signal aborts (after every process it started has been stopped and
 * nothing partial is left in outputDir).
 */
export interface Executor {
  readonly name: string;
  run(request: ExecuteRequest): Promise<JobResult>;
  /** Tries the backend for real on this host (for `strata doctor`). */
  probe(signal?: AbortSignal): Promise<ProbeResult>;
  /** Releases what the executor holds (connections, mounted roots). */
  close(): Promise<void>;
}

export interface ExecutorOptions {
  /** The cache folder the executor may keep unpacked roots and materialised config trees in. */
  cacheDir: string;
  log: Logger;
}

export type ExecutorFactory = (options: ExecutorOptions) => Executor;

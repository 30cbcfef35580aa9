/**
 * The record the composer's steps pass along. Each step reads what earlier
 * steps produced and returns a new context with its own part filled in; reading
 * src/compose/index.ts top to bottom tells the whole story of an image.
 */
import type { Arch, DistroModel, ImageDefinition } from '../config/model.js';
import type { Logger } from '../util/log.js';
import type { PartitionRole } from './partition-types.js';

export interface RepoSource {
  /** dnf repo id. */
  id: string;
  /** A local folder or a URL. */
  location: string;
}

export interface InstalledPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  /** name-[epoch:]version-release.arch */
  nevra: string;
  sourceRpm: string;
  /** The source component: the source RPM's name. */
  component: string;
  license: string;
  vendor: string;
  summary: string;
  /** Basename of the RPM file installed, and its SHA-256. */
  rpmFile: string;
  rpmSha256: string;
  /** Installed size as the package declares it. */
  installedSize: number;
  /** Bytes of the package's files still in the tree after minimisation. */
  imageBytes: number;
}

export interface MinimiseReport {
  /** Category → removed entries and their bytes. */
  removed: Record<string, { entries: number; bytes: number }>;
}

export interface FilesystemInfo {
  type: 'erofs' | 'squashfs';
  compression: string;
  /** Artifact name in the output folder. */
  file: string;
  /** Filesystem UUID (erofs); squashfs has none. */
  uuid: string | null;
  blockSize: number;
  size: number;
  sha256: string;
  /** SHA-256 over the sorted tree listing (paths, owners, modes, contents): what the UUID derives from. */
  treeDigest: string;
}

export interface VerityInfo {
  file: string;
  rootHashFile: string;
  rootHash: string;
  salt: string;
  uuid: string;
  hashAlgorithm: 'sha256';
  dataBlockSize: number;
  hashBlockSize: number;
  dataBlocks: number;
  size: number;
}

export interface SignatureInfo {
  file: string;
  certificateFingerprint: string;
}

export interface DiskPartition {
  number: number;
  role: PartitionRole;
  name: string;
  typeGuid: string;
  uuid: string;
  offset: number;
  size: number;
  /** The artifact copied into this partition. */
  payload: string;
  payloadSize: number;
}

export interface DiskInfo {
  file: string;
  guid: string;
  size: number;
  partitions: DiskPartition[];
}

export interface ComposeContext {
  readonly model: DistroModel;
  readonly image: ImageDefinition;
  readonly arch: Arch;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** The package list after per-arch additions and removals. */
  readonly packages: string[];
  readonly repos: RepoSource[];
  /** Scratch space for this compose (removed afterwards). */
  readonly workDir: string;
  /** The tree being composed. */
  readonly stageRoot: string;
  /**
   * The temporary output folder, swapped in for out/images/IMAGE/ARCH once every
   * step is done. Steps write plain files here: the folder swap is what makes the
   * output atomic, so a temp-and-rename per file would add nothing.
   */
  readonly outDir: string;
  readonly installed: InstalledPackage[];
  /** Package name → the paths its header lists (for the size report; not in the manifest). */
  readonly packageFiles: ReadonlyMap<string, readonly string[]>;
  readonly minimise?: MinimiseReport;
  readonly filesystem?: FilesystemInfo;
  readonly verity?: VerityInfo;
  readonly signature?: SignatureInfo;
  readonly disk?: DiskInfo;
  readonly cmdline?: string;
  /** Extra disk formats written (artifact names). */
  readonly conversions: string[];
  readonly sbom?: string;
}

export interface ComposeStep {
  readonly name: string;
  applies(context: ComposeContext): boolean;
  run(context: ComposeContext): Promise<ComposeContext>;
}

/** Environment for every tool the composer runs: fixed time, fixed locale, no timezone surprises. */
export function toolEnv(context: Pick<ComposeContext, 'model'>): Record<string, string> {
  return { SOURCE_DATE_EPOCH: String(context.model.distro.sourceDateEpoch), LC_ALL: 'C', TZ: 'UTC' };
}

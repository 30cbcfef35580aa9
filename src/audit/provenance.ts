/**
 * Build provenance: for every RPM and every image, an in-toto Statement v1
 * carrying a SLSA provenance v1 predicate, written beside the artifact as
 * `<artifact>.intoto.json`. docs/provenance.md describes every field.
 *
 * Statements are reproducible like the artifacts they describe: paths are
 * project-relative, timestamps come from the distro's source-date-epoch, and
 * the invocation id is the job's content-derived key, never a host name, a
 * wall-clock time or a random id.
 */
import { lstat, readFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import type { JobBundle } from '../build/executor.js';
import type { InputRecord } from '../build/history.js';
import type { Arch, DistroModel } from '../config/model.js';
import { writeFileAtomic } from '../util/atomic.js';
import { StrataError } from '../util/errors.js';
import { hashRecord, sha256File } from '../util/hash.js';
import { toPosix } from '../util/paths.js';
import { STRATA_VERSION } from '../version.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** One RPM build job: a rendered component built with rpmbuild for one arch. */
export const RPM_BUILD_TYPE = 'https://strata.dev/build-types/rpm/v1';
/** One image composition: a package set installed, minimised and sealed for one arch. */
export const IMAGE_BUILD_TYPE = 'https://strata.dev/build-types/image/v1';
/** The builder: strata running jobs in local sandboxes (or its workers, which run the same job bundles). */
export const BUILDER_ID = 'https://strata.dev/builder/v1';
export const PROVENANCE_SUFFIX = '.intoto.json';

/** An in-toto ResourceDescriptor (the SLSA spec uses the same type). */
export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export interface SlsaProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
    byproducts: ResourceDescriptor[];
  };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: SlsaProvenance;
}

/** A file that exists on disk: the build or compose stage names it, provenance hashes it. */
export interface ArtifactFile {
  path: string;
  /** Already known digest (skips re-reading a large file). */
  sha256?: string;
}

/** One build job as the build stage ran it. */
export interface RpmProvenanceInput {
  model: Pick<DistroModel, 'root' | 'fingerprint' | 'components'>;
  /** The job bundle: every input by digest, and the cache key. */
  bundle: JobBundle;
  /** The readable record of the same inputs (spec hashes, overlays with where they are written). */
  record: InputRecord;
  /** The RPMs this job produced (where they are now: the cache entry or the repository). */
  artifacts: ArtifactFile[];
}

export interface ImagePackage {
  /** name-[epoch:]version-release.arch */
  nevra: string;
  /** The RPM file it was installed from. */
  file: ArtifactFile;
  /** The component that built it, when it came from this distro. */
  component?: string;
}

export interface ImageProvenanceInput {
  /** DistroModel.fingerprint. */
  configFingerprint: string;
  sourceDateEpoch: number;
  arch: Arch;
  /** A content-derived id of the composition (its inputs' hash). */
  invocationId: string;
  image: string;
  /** The image definition as configured (packages, filesystem, verity, layout …): the external parameters. */
  definition: Record<string, unknown>;
  /** Every package installed into the image. */
  packages: ImagePackage[];
  /** Files of the image: root filesystem, verity tree, disk images … */
  artifacts: ArtifactFile[];
  /** The dm-verity root hash, when verity is on. */
  rootHash?: string;
  /** Byproducts worth pinning (the SBOM). */
  byproducts?: ArtifactFile[];
}

/** RFC 3339 in UTC, whole seconds: 2026-01-01T00:00:00Z. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function projectPath(root: string, path: string): string {
  const rel = toPosix(relative(root, path));
  return rel.startsWith('..') ? toPosix(path) : rel;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function digestOf(file: ArtifactFile): Promise<string> {
  return file.sha256 ?? (await sha256File(file.path));
}

/** Subjects are named by file name: that is how a consumer finds the artifact in a repo or image folder. */
async function subjectsOf(files: ArtifactFile[]): Promise<Statement['subject']> {
  if (files.length === 0) {
    throw new StrataError('a provenance statement needs at least one artifact', { kind: 'build' });
  }
  const subjects = await Promise.all(files.map(async (file) => ({ name: basename(file.path), digest: { sha256: await digestOf(file) } })));
  return subjects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function statement(subject: Statement['subject'], predicate: SlsaProvenance): Statement {
  return { _type: STATEMENT_TYPE, subject, predicateType: SLSA_PROVENANCE_V1, predicate };
}

function runDetails(input: { sourceDateEpoch: number; invocationId: string }, byproducts: ResourceDescriptor[]): SlsaProvenance['runDetails'] {
  const time = rfc3339(input.sourceDateEpoch);
  return {
    builder: { id: BUILDER_ID, version: { strata: STRATA_VERSION } },
    // Start and finish are the source-date-epoch: the statement must not vary between two builds of the same inputs.
    metadata: { invocationId: input.invocationId, startedOn: time, finishedOn: time },
    byproducts,
  };
}

/** Digest of a file list: SHA-256 of the canonical JSON of its sorted `[path, sha256]` pairs. */
export function fileListDigest(files: ReadonlyArray<{ path: string; sha256: string }>): string {
  return hashRecord(files.map((f) => [f.path, f.sha256]).sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)));
}

/** The statement for the RPMs of one build job. */
export async function rpmProvenance(input: RpmProvenanceInput): Promise<Statement> {
  const { bundle, record, model } = input;
  const component = model.components[bundle.component];
  const componentDir = component ? projectPath(model.root, component.dir) : `specs/${bundle.component}`;
  const resolved: ResourceDescriptor[] = [
    ...bundle.sources.map((file) => ({
      name: `${componentDir}/${file.path}`,
      digest: { sha256: file.sha256 },
      annotations:
        file.path === bundle.specFile
          ? { role: 'spec', rendered: 'true', baseSpecSha256: record.spec.base }
          : { role: 'source' },
    })),
    ...bundle.dependencyRpms.map((file) => ({ name: file.path, digest: { sha256: file.sha256 }, annotations: { role: 'build-requires' } })),
    { name: 'rpm-config', digest: { sha256: fileListDigest(bundle.rpmConfig) }, annotations: { role: 'macro-context', files: String(bundle.rpmConfig.length) } },
    { name: `build-root:${bundle.buildRoot.type}`, digest: { sha256: bundle.buildRoot.id }, annotations: { role: 'build-root' } },
    ...bundle.buildRoot.archives.map((file) => ({ name: `build-root/${file.path}`, digest: { sha256: file.sha256 }, annotations: { role: 'build-root-archive' } })),
  ];
  return statement(await subjectsOf(input.artifacts), {
    buildDefinition: {
      buildType: RPM_BUILD_TYPE,
      externalParameters: {
        job: bundle.job,
        component: bundle.component,
        arch: bundle.noarch ? 'noarch' : bundle.arch,
        spec: `${componentDir}/${bundle.specFile}`,
        overlays: record.overlays.map((overlay) => ({
          index: overlay.index,
          type: overlay.type,
          definedAt: overlay.at,
          description: overlay.description,
          sha256: overlay.sha256,
        })),
      },
      internalParameters: {
        configFingerprint: model.fingerprint,
        cacheKey: bundle.key,
        recipe: bundle.recipe,
        targetArch: bundle.arch,
        macroContext: record.macros,
        rpmArgs: bundle.rpmArgs,
        env: bundle.env,
        buildRootProvides: bundle.buildRoot.provides,
        check: bundle.check,
        sourceDateEpoch: bundle.sourceDateEpoch,
      },
      resolvedDependencies: resolved,
    },
    // No byproducts: the build log carries timings, and the statement must be the same for every build of these inputs.
    runDetails: runDetails({ sourceDateEpoch: bundle.sourceDateEpoch, invocationId: bundle.key }, []),
  });
}

/**
 * Writes the job's statement beside each of its RPMs, unless one is there
 * already: a cache entry keeps the statement of the build that made its
 * bytes, whatever config later reuses it.
 */
export async function writeRpmProvenance(input: RpmProvenanceInput): Promise<string[]> {
  const missing = [];
  for (const artifact of input.artifacts) if (!(await exists(provenancePath(artifact.path)))) missing.push(artifact);
  if (missing.length === 0) return [];
  return writeProvenanceBeside(missing, await rpmProvenance(input));
}

/** The statement for the files of one composed image. */
export async function imageProvenance(input: ImageProvenanceInput): Promise<Statement> {
  const packages = [...input.packages].sort((a, b) => (a.nevra < b.nevra ? -1 : a.nevra > b.nevra ? 1 : 0));
  const resolved = await Promise.all(
    // Named by file name, as in the repository's metadata: the repository may live anywhere (compose --repo).
    packages.map(async (pkg) => ({
      name: basename(pkg.file.path),
      digest: { sha256: await digestOf(pkg.file) },
      annotations: { role: 'package', nevra: pkg.nevra, ...(pkg.component ? { component: pkg.component } : {}) },
    })),
  );
  // Byproducts sit beside the subjects, so they are named the same way: by file name.
  const byproducts = await Promise.all((input.byproducts ?? []).map(async (file) => ({ name: basename(file.path), digest: { sha256: await digestOf(file) } })));
  return statement(await subjectsOf(input.artifacts), {
    buildDefinition: {
      buildType: IMAGE_BUILD_TYPE,
      externalParameters: { image: input.image, arch: input.arch, definition: input.definition },
      internalParameters: {
        configFingerprint: input.configFingerprint,
        sourceDateEpoch: input.sourceDateEpoch,
        ...(input.rootHash ? { verityRootHash: input.rootHash } : {}),
      },
      resolvedDependencies: resolved,
    },
    runDetails: runDetails(input, byproducts),
  });
}

export function provenancePath(artifactPath: string): string {
  return `${artifactPath}${PROVENANCE_SUFFIX}`;
}

/** Writes the statement as `<artifact>.intoto.json` (atomically); returns that path. */
export async function writeProvenance(artifactPath: string, stmt: Statement): Promise<string> {
  const path = provenancePath(artifactPath);
  await writeFileAtomic(path, `${JSON.stringify(stmt, null, 2)}\n`);
  return path;
}

/**
 * Writes one statement beside each of its artifacts, so that any single RPM
 * or image file carries its provenance with it. Returns the paths written.
 */
export async function writeProvenanceBeside(artifacts: ArtifactFile[], stmt: Statement): Promise<string[]> {
  return Promise.all(artifacts.map((artifact) => writeProvenance(artifact.path, stmt)));
}

/**
 * Places an artifact's statement beside a published copy of it (an RPM copied
 * from its cache entry into the repository). Returns whether there was one.
 */
export async function publishProvenance(artifactPath: string, publishedPath: string): Promise<boolean> {
  const source = provenancePath(artifactPath);
  if (!(await exists(source))) return false;
  await writeFileAtomic(provenancePath(publishedPath), await readFile(source));
  return true;
}

export interface ProvenanceCheck {
  artifact: string;
  provenance: string;
  ok: boolean;
  problems: string[];
}

/**
 * Checks the statement beside an artifact: that it is a SLSA v1 in-toto
 * statement from strata and that it names this file with its current digest.
 * For `strata verify` and auditors.
 */
export async function checkProvenance(artifactPath: string): Promise<ProvenanceCheck> {
  const path = provenancePath(artifactPath);
  const result: ProvenanceCheck = { artifact: artifactPath, provenance: path, ok: false, problems: [] };
  let parsed: Partial<Statement>;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Statement>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    result.problems.push(code === 'ENOENT' ? 'no provenance statement beside the artifact' : `unreadable statement: ${(error as Error).message}`);
    return result;
  }
  if (parsed._type !== STATEMENT_TYPE) result.problems.push(`_type is ${JSON.stringify(parsed._type)}, expected ${STATEMENT_TYPE}`);
  if (parsed.predicateType !== SLSA_PROVENANCE_V1) result.problems.push(`predicateType is ${JSON.stringify(parsed.predicateType)}, expected ${SLSA_PROVENANCE_V1}`);
  const name = basename(artifactPath);
  const subject = Array.isArray(parsed.subject) ? parsed.subject.find((s) => s?.name === name) : undefined;
  if (!subject) {
    result.problems.push(`the statement has no subject named ${name}`);
  } else {
    const actual = await sha256File(artifactPath);
    if (subject.digest?.sha256 !== actual) {
      result.problems.push(`digest mismatch: statement says sha256:${subject.digest?.sha256}, file is sha256:${actual}`);
    }
  }
  result.ok = result.problems.length === 0;
  return result;
}

/**
 * write_provenance: the composer step that writes the image's in-toto/SLSA
 * statement. It runs after write_sbom and before write_manifest, so the
 * statement names every image file (and the SBOM as a byproduct), and the
 * manifest in turn lists the statement files with their digests.
 *
 * The statement is written beside the artifacts people ship and verify —
 * the filesystem image and the disk image — as `<artifact>.intoto.json`.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ComposeStep, InstalledPackage } from '../compose/context.js';
import type { Arch, DistroModel, ImageDefinition } from '../config/model.js';
import { packagesFor } from '../compose/image.js';
import { MANIFEST_FILE } from '../compose/manifest.js';
import { SBOM_FILE } from '../compose/steps/write_sbom.js';
import { hashRecord, sha256File } from '../util/hash.js';
import { PROVENANCE_SUFFIX, SLSA_PROVENANCE_V1, STATEMENT_TYPE, imageProvenance, writeProvenanceBeside, type ArtifactFile, type Statement } from './provenance.js';

/** The image definition as it shapes this arch's image: the statement's external parameters. */
function definitionFor(image: ImageDefinition, arch: Arch): Record<string, unknown> {
  return {
    packages: packagesFor(image, arch),
    extraRepos: image.extraRepos,
    filesystem: image.filesystem,
    verity: image.verity,
    layout: image.layout,
    init: image.init,
    cmdline: image.cmdline,
    formats: image.formats,
    minimise: image.minimise,
    signed: image.signing !== null,
  };
}

/** What an image statement is made from: the compose context's fields, or a composed image's manifest. */
export interface ImageStatementInput {
  model: DistroModel;
  image: ImageDefinition;
  arch: Arch;
  installed: InstalledPackage[];
  /** The image folder (during compose: its temporary output folder). */
  dir: string;
  rootHash: string | null;
}

export async function imageStatement(input: ImageStatementInput): Promise<Statement> {
  const { model, arch } = input;
  const names = (await readdir(input.dir)).filter((name) => name !== MANIFEST_FILE && name !== SBOM_FILE && !name.endsWith(PROVENANCE_SUFFIX)).sort();
  const packages = input.installed.map((pkg) => ({
    nevra: pkg.nevra,
    component: pkg.component,
    file: { path: pkg.rpmFile, sha256: pkg.rpmSha256 },
  }));
  const definition = definitionFor(input.image, arch);
  const sbom = join(input.dir, SBOM_FILE);
  return imageProvenance({
    configFingerprint: model.fingerprint,
    sourceDateEpoch: model.distro.sourceDateEpoch,
    arch,
    // What the image is made of: the same inputs give the same id.
    invocationId: hashRecord({ image: input.image.name, arch, definition, packages: packages.map((p) => [p.nevra, p.file.sha256]), config: model.fingerprint }),
    image: input.image.name,
    definition,
    packages,
    artifacts: names.map((name) => ({ path: join(input.dir, name) })),
    ...(input.rootHash ? { rootHash: input.rootHash } : {}),
    byproducts: existsSync(sbom) ? [{ path: sbom }] : [],
  });
}

/** The artifacts the statement is written beside: the filesystem image and the disk image. */
export function statementHomes(dir: string, filesystem: string, disk: string | null): ArtifactFile[] {
  return [filesystem, ...(disk ? [disk] : [])].map((name) => ({ path: join(dir, name) }));
}

/** One finding of `strata verify` (the shape of compose's VerifyCheck). */
export interface ProvenanceFinding {
  check: string;
  ok: boolean;
  detail: string;
}

/**
 * For `strata verify`: every statement in an image folder is an in-toto SLSA
 * statement, and each of its subjects is a file of the folder with that
 * SHA-256. A folder without statements gives no findings.
 */
export async function imageProvenanceChecks(dir: string): Promise<ProvenanceFinding[]> {
  const findings: ProvenanceFinding[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(PROVENANCE_SUFFIX)).sort()) {
    const check = `provenance ${name}`;
    let statement: Partial<Statement>;
    try {
      statement = JSON.parse(await readFile(join(dir, name), 'utf8')) as Partial<Statement>;
    } catch (error) {
      findings.push({ check, ok: false, detail: `not JSON: ${(error as Error).message}` });
      continue;
    }
    const problems: string[] = [];
    if (statement._type !== STATEMENT_TYPE || statement.predicateType !== SLSA_PROVENANCE_V1) problems.push('not an in-toto SLSA v1 provenance statement');
    for (const subject of statement.subject ?? []) {
      const path = join(dir, basename(subject.name));
      const actual = existsSync(path) ? await sha256File(path) : null;
      if (actual === null) problems.push(`${subject.name} is missing`);
      else if (actual !== subject.digest?.sha256) problems.push(`${subject.name} has sha256 ${actual}, the statement says ${subject.digest?.sha256}`);
    }
    findings.push({ check, ok: problems.length === 0, detail: problems.length === 0 ? `names ${statement.subject?.length ?? 0} image files with their digests` : problems.join('; ') });
  }
  return findings;
}

export const writeProvenanceStep: ComposeStep = {
  name: 'write_provenance',
  applies: () => true,
  async run(context) {
    const statement = await imageStatement({
      model: context.model,
      image: context.image,
      arch: context.arch,
      installed: context.installed,
      dir: context.outDir,
      rootHash: context.verity?.rootHash ?? null,
    });
    await writeProvenanceBeside(statementHomes(context.outDir, context.filesystem!.file, context.disk?.file ?? null), statement);
    return context;
  },
};
